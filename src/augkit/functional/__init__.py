"""Pure, deterministic image kernels: ``(image, parameters) -> image``, no randomness."""

from augkit.functional.color import (
    ENHANCE_OPS,
    brightness,
    color,
    contrast,
    enhance,
    sharpness,
)
from augkit.functional.crop import center_crop, crop, normalize, pad, to_dtype
from augkit.functional.geometry import affine, erase, hflip, resized_crop, vflip
from augkit.functional.hue import adjust_hue
from augkit.functional.imageops import (
    autocontrast,
    equalize,
    grayscale,
    invert,
    posterize,
    solarize,
)
from augkit.functional.noise import gaussian_blur, gaussian_noise
from augkit.functional.perspective import perspective
from augkit.functional.resize import resize
from augkit.functional.rotate import rotate

__all__ = [
    "ENHANCE_OPS",
    "adjust_hue",
    "affine",
    "autocontrast",
    "brightness",
    "center_crop",
    "color",
    "contrast",
    "crop",
    "enhance",
    "equalize",
    "erase",
    "gaussian_blur",
    "gaussian_noise",
    "grayscale",
    "hflip",
    "invert",
    "normalize",
    "pad",
    "perspective",
    "posterize",
    "resize",
    "resized_crop",
    "rotate",
    "sharpness",
    "solarize",
    "to_dtype",
    "vflip",
]
