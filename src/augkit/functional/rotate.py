"""``rotate``: torchvision's ``rotate`` (counter-clockwise degrees about ``center``), equal to
Pillow's ``Image.rotate`` with NEAREST on every pixel.

Pillow builds the inverse matrix from ``cos`` and ``sin`` rounded to 15 decimals, turns it
into 16.16 fixed point, adds the step per pixel and takes the integer part; it rotates by 0,
90, 180 and 270 degrees by transposing. augkit computes the same source pixel for every
output pixel, per sample, and gathers. BILINEAR and BICUBIC go through augkit's ``affine``
(smooth, not Pillow's sampler).

>>> import torch
>>> from augkit.functional import rotate
>>> rotate(torch.arange(9, dtype=torch.uint8).view(1, 3, 3), 90).tolist()
[[[2, 5, 8], [1, 4, 7], [0, 3, 6]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.functional.geometry import (
    _dtype,
    _fill_values,
    affine,
    check_interpolation,
    per_sample,
)

Image = TypeVar("Image")
_ONE = 1 << 16


def pillow_matrix(angle: float, size: tuple[int, int],
                  center: Sequence[float] | None = None) -> list[float]:
    """Pillow's inverse affine matrix (output to input, continuous coordinates) for
    ``Image.rotate(angle, center=center)``."""
    height, width = size
    radians = -math.radians(angle % 360.0)
    cos, sin = round(math.cos(radians), 15), round(math.sin(radians), 15)
    cx, cy = (width / 2, height / 2) if center is None else (float(center[0]),
                                                             float(center[1]))
    return [cos, sin, cos * -cx + sin * -cy + cx, -sin, cos, -sin * -cx + cos * -cy + cy]


def _fix(value: float) -> int:
    return math.floor(value * 65536.0 + 0.5)


def nearest_sources(angle: float, size: tuple[int, int],
                    center: Sequence[float] | None = None) -> np.ndarray:
    """Flat source index (H, W) of every output pixel, -1 where the rotation uncovers it."""
    height, width = size
    turn = angle % 360.0
    ys, xs = np.mgrid[0:height, 0:width]
    if center is None and turn in (0.0, 180.0):
        flat = ys * width + xs
        return flat if turn == 0.0 else flat[::-1, ::-1].copy()
    if center is None and turn in (90.0, 270.0) and height == width:
        flat = ys * width + xs
        return np.rot90(flat, 1 if turn == 90.0 else -1).copy()
    a0, a1, a2, a3, a4, a5 = pillow_matrix(angle, size, center)
    x0 = _fix(a2 + a1 * 0.5 + a0 * 0.5) + _fix(a1) * ys + _fix(a0) * xs
    y0 = _fix(a5 + a4 * 0.5 + a3 * 0.5) + _fix(a4) * ys + _fix(a3) * xs
    ix, iy = x0 >> 16, y0 >> 16
    inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
    return np.where(inside, iy * width + ix, -1)


def gather(batch: torch.Tensor, sources: np.ndarray, fill: torch.Tensor) -> torch.Tensor:
    """``batch`` (N, C, H, W) sampled at per-sample flat ``sources`` (N, h, w); -1 is
    ``fill``."""
    n, channels = batch.shape[:2]
    index = torch.as_tensor(sources, device=batch.device, dtype=torch.long).view(n, 1, -1)
    flat = batch.reshape(n, channels, -1)
    picked = flat.gather(2, index.clamp(min=0).expand(n, channels, -1))
    filler = fill.to(batch.device, batch.dtype).view(1, channels, 1)
    out = torch.where(index >= 0, picked, filler)
    return out.view(n, channels, *sources.shape[1:])


def rotate(img: Image, angle: Any, interpolation: Any = "nearest",
           center: Sequence[float] | None = None, fill: Any = 0) -> Image:
    """torchvision's ``rotate``: counter-clockwise by ``angle`` degrees (per sample) about
    ``center`` (pixels from the top-left corner; default the middle); uncovered pixels take
    ``fill``. NEAREST equals Pillow's ``Image.rotate`` exactly."""
    method = check_interpolation(interpolation)
    if center is not None and (len(center) != 2 or not all(
            isinstance(c, (int, float)) and math.isfinite(c) for c in center)):
        raise AugkitError(f"center: {center!r} is not allowed; expected (x, y) in pixels from "
                          "the top-left corner")
    angles = per_sample(angle, dispatch.batch_size(img), "angle")
    if method != "nearest":
        return affine(img, angle=-angles, interpolation=method, fill=fill, center=center)
    size = dispatch.image_size(img)
    fills = _fill_values(fill, dispatch.num_channels(img), _dtype(img))
    sources = np.stack([nearest_sources(float(a), size, center) for a in angles])

    def kernel(images: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
        return gather(images, sources.cpu().numpy(), fills)

    return dispatch.apply(img, {"sources": sources}, kernel)


__all__ = ["gather", "nearest_sources", "pillow_matrix", "rotate"]
