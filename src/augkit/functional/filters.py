"""Pillow's ``ImageFilter`` on every image kind, bit-identical to Pillow on uint8.

``convolve`` is ``ImageFilter.Kernel`` (3x3 or 5x5 weights, a scale and an offset; float32
sums in Pillow's order, rounded half up and clipped; the outer one or two rows and columns
kept as they are), ``image_filter`` runs Pillow's named kernels (``BLUR``, ``DETAIL``,
``EDGE_ENHANCE``, ``SHARPEN``, ``SMOOTH_MORE``, ...), ``box_blur`` is ``BoxBlur``,
``rank_filter`` / ``median_filter`` / ``min_filter`` / ``max_filter`` are Pillow's rank
filters (edges replicated) and ``unsharp_mask`` is ``UnsharpMask``. Every channel is filtered,
alpha included, as Pillow does. Float images in [0, 1] get the same filters without rounding.

>>> import numpy as np
>>> from augkit.functional import median_filter
>>> median_filter(np.array([[0, 0, 0], [0, 255, 0], [0, 0, 0]], dtype=np.uint8)).max()
np.uint8(0)
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.functional._filter_cpu import kernel_uint8, rank_uint8, unsharp_uint8
from augkit.functional.noise import box_passes, box_weights, pillow_gaussian

Image = TypeVar("Image")

#: Pillow's named kernels: (size, scale, offset, weights), as in ``PIL.ImageFilter``
PILLOW_KERNELS: dict[str, tuple[int, float, float, tuple[int, ...]]] = {
    "blur": (5, 16, 0, (1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1,
                        1, 1, 1, 1, 1)),
    "contour": (3, 1, 255, (-1, -1, -1, -1, 8, -1, -1, -1, -1)),
    "detail": (3, 6, 0, (0, -1, 0, -1, 10, -1, 0, -1, 0)),
    "edge_enhance": (3, 2, 0, (-1, -1, -1, -1, 10, -1, -1, -1, -1)),
    "edge_enhance_more": (3, 1, 0, (-1, -1, -1, -1, 9, -1, -1, -1, -1)),
    "emboss": (3, 1, 128, (-1, 0, 0, 0, 1, 0, 0, 0, 0)),
    "find_edges": (3, 1, 0, (-1, -1, -1, -1, 8, -1, -1, -1, -1)),
    "sharpen": (3, 16, 0, (-2, -2, -2, -2, 32, -2, -2, -2, -2)),
    "smooth": (3, 13, 0, (1, 1, 1, 1, 5, 1, 1, 1, 1)),
    "smooth_more": (5, 100, 0, (1, 1, 1, 1, 1, 1, 5, 5, 5, 1, 1, 5, 44, 5, 1, 1, 5, 5, 5, 1,
                                1, 1, 1, 1, 1)),
}


def _number(value: Any, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating))
            or not math.isfinite(value) or not low <= value <= high):
        raise AugkitError(f"{name}: {value!r} is not allowed; expected a finite number in "
                          f"[{low}, {high}]")
    return float(value)


def _whole(value: Any, name: str, low: int, high: int | None = None) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low
            or (high is not None and value > high)):
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        raise AugkitError(f"{name}: {value!r} is not allowed; expected a whole number {bound}")
    return int(value)


def _kernel_sums(images: torch.Tensor, weights: torch.Tensor, offset: float) -> torch.Tensor:
    """Pillow's ``ImagingFilter3x3`` / ``5x5``: float32 sums, row by row from the bottom one
    (the kernel is flipped vertically), left to right within a row; borders kept."""
    if images.dtype == torch.uint8 and images.device.type == "cpu":
        return torch.from_numpy(kernel_uint8(images.numpy(), weights.numpy(), offset))
    return torch_kernel_sums(images, weights, offset)


def torch_kernel_sums(images: torch.Tensor, weights: torch.Tensor, offset: float
                      ) -> torch.Tensor:
    """``_kernel_sums`` in torch ops, for any device and for floats."""
    size = math.isqrt(weights.numel())
    margin = size // 2
    height, width = images.shape[-2:]
    if height < size or width < size:
        return images.clone()
    is_uint8 = images.dtype == torch.uint8
    x = images.to(torch.float32) if is_uint8 else images
    total = torch.full((*x.shape[:-2], height - 2 * margin, width - 2 * margin),
                       offset + 0.5 if is_uint8 else offset / 255.0, dtype=x.dtype,
                       device=x.device)
    weights = weights.to(device=x.device, dtype=x.dtype)
    for row in range(size):
        dy = 2 * margin - row
        rows = x[..., dy:dy + height - 2 * margin, :]
        line = rows[..., 0:width - 2 * margin] * weights[row * size]
        for col in range(1, size):
            line = line + rows[..., col:col + width - 2 * margin] * weights[row * size + col]
        total = total + line
    out = images.clone()
    inner = out[..., margin:height - margin, margin:width - margin]
    inner.copy_(total.clamp(0, 255).to(torch.uint8) if is_uint8 else total.clamp(0, 1))
    return out


def convolve(img: Image, kernel: Sequence[float], scale: float | None = None,
             offset: float = 0.0) -> Image:
    """Pillow's ``ImageFilter.Kernel(size, kernel, scale, offset)``: each pixel becomes
    ``sum(weights * neighbourhood) / scale + offset`` over a 3x3 or 5x5 neighbourhood (9 or 25
    weights, row by row, flipped vertically as Pillow does); ``scale`` defaults to the sum of
    the weights. The outer 1 (3x3) or 2 (5x5) rows and columns, and images smaller than the
    kernel, are kept. On floats the offset is in 1/255 steps."""
    values = [_number(v, "kernel") for v in kernel] if isinstance(kernel, (list, tuple)) else []
    if len(values) not in (9, 25):
        raise AugkitError(f"kernel: {kernel!r:.60} is not allowed; expected 9 (3x3) or 25 (5x5) "
                          "numbers")
    # Pillow adds the weights left to right (functools.reduce); sum() compensates on 3.12+
    total = functools.reduce(operator.add, values)
    divisor = np.float32(total if scale is None else _number(scale, "scale"))
    if divisor == 0:
        raise AugkitError("scale: 0 is not allowed (the kernel's weights sum to 0: give scale, "
                          "e.g. scale=1)")
    weights = torch.from_numpy(np.asarray(values, dtype=np.float32) / divisor)
    shift = float(np.float32(_number(offset, "offset")))
    return dispatch.apply(img, {}, lambda images: _kernel_sums(images, weights, shift),
                          unit_range=True)


def image_filter(img: Image, name: str) -> Image:
    """One of Pillow's named kernels, as ``img.filter(ImageFilter.NAME)``: ``name`` is
    ``"blur"``, ``"contour"``, ``"detail"``, ``"edge_enhance"``, ``"edge_enhance_more"``,
    ``"emboss"``, ``"find_edges"``, ``"sharpen"``, ``"smooth"`` or ``"smooth_more"`` (any
    case)."""
    key = name.lower() if isinstance(name, str) else name
    if key not in PILLOW_KERNELS:
        raise AugkitError(f"name: {name!r} is not one of Pillow's kernels; expected one of "
                          f"{', '.join(PILLOW_KERNELS)}")
    _, scale, offset, weights = PILLOW_KERNELS[key]
    return convolve(img, list(weights), scale, offset)


def _radii(radius: Any) -> tuple[float, float]:
    pair = radius if isinstance(radius, (list, tuple)) else (radius, radius)
    if len(pair) != 2:
        raise AugkitError(f"radius: {radius!r} is not allowed; expected a number or (x, y)")
    return _number(pair[0], "radius", 0.0, 1e6), _number(pair[1], "radius", 0.0, 1e6)


def box_blur(img: Image, radius: float | Sequence[float]) -> Image:
    """Pillow's ``ImageFilter.BoxBlur(radius)``: each pixel the mean of the ``2 * radius + 1``
    box around it (a fractional radius weighs the two outer pixels by the fraction), across
    with ``radius[0]`` then down with ``radius[1]``, edges replicated; 0 leaves a direction."""
    rx, ry = _radii(radius)
    across = None if rx == 0 else box_weights(rx)
    down = None if ry == 0 else box_weights(ry)
    return dispatch.apply(img, {}, lambda images: box_passes(images, across, down, 1),
                          unit_range=True)


def _rank(images: torch.Tensor, size: int, rank: int) -> torch.Tensor:
    if images.dtype == torch.uint8 and images.device.type == "cpu":
        return torch.from_numpy(rank_uint8(images.numpy(), size, rank))
    return torch_rank(images, size, rank)


def torch_rank(images: torch.Tensor, size: int, rank: int) -> torch.Tensor:
    """``_rank`` in torch ops (windows unfolded), for any device and for floats."""
    margin = size // 2
    height, width = images.shape[-2:]
    rows = torch.arange(-margin, height + margin, device=images.device).clamp(0, height - 1)
    cols = torch.arange(-margin, width + margin, device=images.device).clamp(0, width - 1)
    padded = images[..., rows, :][..., cols]
    work = padded.to(torch.int16) if images.dtype == torch.uint8 else padded
    windows = work.unfold(-2, size, 1).unfold(-2, size, 1).flatten(-2)
    return windows.kthvalue(rank + 1, dim=-1).values.to(images.dtype)


def rank_filter(img: Image, size: int, rank: int) -> Image:
    """Pillow's ``ImageFilter.RankFilter(size, rank)``: each pixel the ``rank``-th smallest
    (from 0) of the ``size`` x ``size`` window around it, edges replicated; ``size`` odd."""
    size = _whole(size, "size", 1)
    if size % 2 == 0:
        raise AugkitError(f"size: {size} is not allowed; expected an odd window size")
    rank = _whole(rank, "rank", 0, size * size - 1)
    return dispatch.apply(img, {}, lambda images: _rank(images, size, rank))


def median_filter(img: Image, size: int = 3) -> Image:
    """Pillow's ``ImageFilter.MedianFilter(size)``: the median of each ``size`` x ``size``
    window, edges replicated."""
    size = _whole(size, "size", 1)
    return rank_filter(img, size, size * size // 2)


def min_filter(img: Image, size: int = 3) -> Image:
    """Pillow's ``ImageFilter.MinFilter(size)``: the least value of each window."""
    return rank_filter(img, size, 0)


def max_filter(img: Image, size: int = 3) -> Image:
    """Pillow's ``ImageFilter.MaxFilter(size)``: the greatest value of each window."""
    size = _whole(size, "size", 1)
    return rank_filter(img, size, size * size - 1)


def _unsharp(images: torch.Tensor, radius: float, percent: int, threshold: int
             ) -> torch.Tensor:
    blurred = pillow_gaussian(images, radius)
    if images.dtype == torch.uint8 and images.device.type == "cpu":
        return torch.from_numpy(unsharp_uint8(images.numpy(), blurred.numpy(), percent,
                                              threshold))
    return torch_unsharp(images, blurred, percent, threshold)


def torch_unsharp(images: torch.Tensor, blurred: torch.Tensor, percent: int, threshold: int
                  ) -> torch.Tensor:
    """UnsharpMask's step in torch ops, for any device and for floats."""
    if images.dtype == torch.uint8:
        x, smooth = images.to(torch.int32), blurred.to(torch.int32)
        diff = x - smooth
        sharp = (x + torch.div(diff * percent, 100, rounding_mode="trunc")).clamp(0, 255)
        return torch.where(diff.abs() > threshold, sharp, x).to(torch.uint8)
    diff = images - blurred
    sharp = (images + diff * (percent / 100)).clamp(0, 1)
    return torch.where(diff.abs() * 255 > threshold, sharp, images)


def unsharp_mask(img: Image, radius: float = 2.0, percent: int = 150,
                 threshold: int = 3) -> Image:
    """Pillow's ``ImageFilter.UnsharpMask``: where a pixel differs from its Gaussian blur
    (``GaussianBlur(radius)``) by more than ``threshold`` levels, the difference times
    ``percent / 100`` (truncated towards zero) is added to it, clipped to [0, 255]."""
    radius = _number(radius, "radius", 0.0, 1000.0)
    percent = _whole(percent, "percent", 0)
    threshold = _whole(threshold, "threshold", 0)
    return dispatch.apply(img, {}, lambda images: _unsharp(images, radius, percent, threshold),
                          unit_range=True)


__all__ = ["PILLOW_KERNELS", "box_blur", "convolve", "image_filter", "max_filter",
           "median_filter", "min_filter", "rank_filter", "unsharp_mask"]
