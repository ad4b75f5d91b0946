"""Pure, deterministic image kernels: ``(image, parameters) -> image``, no randomness."""

from augkit.functional.color import (
    ENHANCE_OPS,
    brightness,
    color,
    contrast,
    enhance,
    sharpness,
)
from augkit.functional.geometry import affine, erase, hflip, resize, resized_crop, vflip
from augkit.functional.noise import gaussian_blur, gaussian_noise

__all__ = [
    "ENHANCE_OPS",
    "affine",
    "brightness",
    "color",
    "contrast",
    "enhance",
    "erase",
    "gaussian_blur",
    "gaussian_noise",
    "hflip",
    "resize",
    "resized_crop",
    "sharpness",
    "vflip",
]
