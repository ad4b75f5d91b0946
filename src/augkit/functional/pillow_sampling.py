"""Pillow's NEAREST sampler for affine transforms, as flat source indices, and a gather.

``Image.transform(size, AFFINE, data)`` maps every output pixel ``(x + 0.5, y + 0.5)`` through
``data`` (output to input, continuous coordinates) and takes the pixel it lands in. Pillow
computes that position one of two ways: for a pure scale and shift (``data[1] == data[3] ==
0``) by adding the step in float64 pixel after pixel, otherwise in 16.16 fixed point. Both are
reproduced here exactly, for every output pixel at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch


def _fix(value: float) -> int:
    return math.floor(value * 65536.0 + 0.5)


def _coord(values: np.ndarray) -> np.ndarray:
    """Pillow's ``COORD``: -1 below 0, else the integer part."""
    return np.where(values < 0, -1, np.trunc(values)).astype(np.int64)


def _running(start: float, step: float, count: int) -> np.ndarray:
    """``start, start + step, ...`` added one at a time in float64, as Pillow's loops do."""
    return np.cumsum(np.concatenate([[start], np.full(count - 1, step)]))[:count]


def affine_sources(data: Sequence[float], in_size: tuple[int, int],
                   out_size: tuple[int, int]) -> np.ndarray:
    """Flat source index (h, w) of each output pixel of Pillow's NEAREST affine transform;
    -1 where it falls outside the input."""
    a0, a1, a2, a3, a4, a5 = (float(v) for v in data)
    height, width = in_size
    out_h, out_w = out_size
    if a1 == 0 and a3 == 0:
        iy, ix = scale_sources(data, out_size)
        iy, ix = iy[:, None], ix[None, :]
    else:
        ys, xs = np.mgrid[0:out_h, 0:out_w]
        ix = (_fix(a2 + a1 * 0.5 + a0 * 0.5) + _fix(a1) * ys + _fix(a0) * xs) >> 16
        iy = (_fix(a5 + a4 * 0.5 + a3 * 0.5) + _fix(a4) * ys + _fix(a3) * xs) >> 16
    inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
    return np.where(inside, iy * width + ix, -1)


def scale_sources(data: Sequence[float], out_size: tuple[int, int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Source row and column (-1 before the input; maybe past its end) of each output row and
    column of a scale-and-shift affine ``data`` (``data[1] == data[3] == 0``)."""
    a0, _, a2, _, a4, a5 = (float(v) for v in data)
    return (_coord(_running(a5 + a4 * 0.5, a4, out_size[0])),
            _coord(_running(a2 + a0 * 0.5, a0, out_size[1])))


def gather(batch: torch.Tensor, sources: np.ndarray, fill: torch.Tensor) -> torch.Tensor:
    """``batch`` (N, C, H, W) sampled at per-sample flat ``sources`` (N, h, w); -1 is
    ``fill`` (one value per channel)."""
    n, channels = batch.shape[:2]
    index = torch.as_tensor(sources, device=batch.device, dtype=torch.long).view(n, 1, -1)
    flat = batch.reshape(n, channels, -1)
    picked = flat.gather(2, index.clamp(min=0).expand(n, channels, -1))
    filler = fill.to(batch.device, batch.dtype).view(1, channels, 1)
    return torch.where(index >= 0, picked, filler).view(n, channels, *sources.shape[1:])


__all__ = ["affine_sources", "gather", "scale_sources"]
