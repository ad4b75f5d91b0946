"""Pure, deterministic image kernels: ``(image, parameters) -> image``, no randomness."""

from augkit.functional.color import (
    ENHANCE_OPS,
    brightness,
    color,
    contrast,
    enhance,
    sharpness,
)

__all__ = ["ENHANCE_OPS", "brightness", "color", "contrast", "enhance", "sharpness"]
