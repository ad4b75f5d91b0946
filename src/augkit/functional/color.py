"""Pillow's four ``ImageEnhance`` ops as pure functions over every image type.

Each op blends the image with a *degenerate* version of itself:
``out = degenerate + factor * (image - degenerate)``; factor 0 gives the degenerate image,
1 the original, above 1 extrapolates (clipped).

=============  ====================================================================
op             degenerate image
=============  ====================================================================
``color``      the grayscale image (``convert("L")``), replicated over the channels
``brightness`` black
``contrast``   uniform gray at the mean of the grayscale image, rounded as Pillow does
``sharpness``  the image through Pillow's SMOOTH 3x3 filter, border pixels kept
=============  ====================================================================

On uint8 input the result is bit-identical to ``PIL.ImageEnhance`` for L, RGB and RGBA
(alpha untouched), on every device. Float input in [0, 1] uses the same formulas without
rounding and is differentiable.

>>> import numpy as np
>>> from augkit.functional import brightness
>>> brightness(np.full((2, 2), 100, np.uint8), 1.5)[0, 0]
np.uint8(150)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import TypeVar

import numpy as np
import torch

from augkit.functional import _enhance_cpu, _enhance_torch, dispatch

Image = TypeVar("Image")
Factor = float | Sequence[float] | np.ndarray | torch.Tensor


def as_factors(factor: Factor, batch: int | None, name: str = "factor") -> np.ndarray:
    """Validate ``factor`` and return one float64 value per sample (length 1 for one image)."""
    n = 1 if batch is None else batch
    if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
        value = float(factor)
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name}: {value} is not allowed; expected a finite number >= 0")
        return np.full(n, value)
    if isinstance(factor, torch.Tensor):
        values = factor.detach().to("cpu", torch.float64).reshape(-1).numpy()
    elif isinstance(factor, (Sequence, np.ndarray)) and not isinstance(factor, str):
        try:
            values = np.asarray(factor, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise TypeError(f"{name}: expected numbers, got {factor!r:.60}") from None
    else:
        raise TypeError(f"{name}: expected a number or one number per sample, "
                        f"got {type(factor).__name__}")
    if values.size == 1 and n != 1:
        values = np.full(n, values[0])
    if values.size != n:
        what = "a single image" if batch is None else f"a batch of {n}"
        raise ValueError(f"{name}: got {values.size} values for {what}; expected "
                         f"{'one' if batch is None else f'1 or {n}'}")
    bad = values[~np.isfinite(values) | (values < 0)]
    if bad.size:
        raise ValueError(f"{name}: {bad[0]} is not allowed; expected a finite number >= 0")
    return values


def _enhance(op: str, img: Image, factor: Factor) -> Image:
    factors = as_factors(factor, dispatch.batch_size(img))
    return dispatch.apply(
        img,
        {"factors": factors.astype(np.float32)},
        tensor_kernel=_enhance_torch.OPS[op],
        uint8_kernel=partial(_enhance_cpu.enhance_uint8, op),
    )


def color(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Color``: 0 gives grayscale, 1 the original."""
    return _enhance("color", img, factor)


def brightness(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Brightness``: 0 gives black, 1 the original."""
    return _enhance("brightness", img, factor)


def contrast(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Contrast``: 0 gives uniform gray at the mean luma."""
    return _enhance("contrast", img, factor)


def sharpness(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Sharpness``: 0 gives the SMOOTH-filtered image."""
    return _enhance("sharpness", img, factor)


ENHANCE_OPS = {"color": color, "brightness": brightness, "contrast": contrast,
               "sharpness": sharpness}

__all__ = ["ENHANCE_OPS", "as_factors", "brightness", "color", "contrast", "sharpness"]
