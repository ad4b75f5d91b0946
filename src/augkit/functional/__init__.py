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
from augkit.functional.imageops import (
    autocontrast,
    equalize,
    grayscale,
    invert,
    posterize,
    solarize,
)
from augkit.functional.noise import gaussian_blur, gaussian_noise

__all__ = [
    "ENHANCE_OPS",
    "affine",
    "autocontrast",
    "brightness",
    "color",
    "contrast",
    "enhance",
    "equalize",
    "erase",
    "gaussian_blur",
    "gaussian_noise",
    "grayscale",
    "hflip",
    "invert",
    "posterize",
    "resize",
    "resized_crop",
    "sharpness",
    "solarize",
    "vflip",
]
