"""Pure, deterministic image kernels: ``(image, parameters) -> image``, no randomness."""

from augkit.functional.color import (
    ENHANCE_OPS,
    brightness,
    color,
    contrast,
    enhance,
    permute_channels,
    sharpness,
)
from augkit.functional.convert import (
    grayscale_to_rgb,
    pil_to_tensor,
    to_image,
    to_pil_image,
    to_tensor,
)
from augkit.functional.crop import (
    center_crop,
    crop,
    five_crop,
    normalize,
    pad,
    ten_crop,
    to_dtype,
)
from augkit.functional.elastic import elastic, elastic_displacement
from augkit.functional.filters import (
    box_blur,
    convolve,
    image_filter,
    max_filter,
    median_filter,
    min_filter,
    rank_filter,
    unsharp_mask,
)
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
from augkit.functional.resize import fit, resize
from augkit.functional.rotate import rotate

__all__ = [
    "ENHANCE_OPS",
    "adjust_hue",
    "affine",
    "autocontrast",
    "box_blur",
    "brightness",
    "center_crop",
    "color",
    "contrast",
    "convolve",
    "crop",
    "elastic",
    "elastic_displacement",
    "enhance",
    "equalize",
    "erase",
    "fit",
    "five_crop",
    "gaussian_blur",
    "gaussian_noise",
    "grayscale",
    "grayscale_to_rgb",
    "hflip",
    "image_filter",
    "invert",
    "max_filter",
    "median_filter",
    "min_filter",
    "normalize",
    "pad",
    "permute_channels",
    "perspective",
    "pil_to_tensor",
    "posterize",
    "rank_filter",
    "resize",
    "resized_crop",
    "rotate",
    "sharpness",
    "solarize",
    "ten_crop",
    "to_dtype",
    "to_image",
    "to_pil_image",
    "to_tensor",
    "unsharp_mask",
    "vflip",
]
