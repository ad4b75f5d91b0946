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


def affine_sources_batch(data: np.ndarray, in_size: tuple[int, int],
                         out_size: tuple[int, int], device: torch.device | str = "cpu"
                         ) -> torch.Tensor:
    """``affine_sources`` of every row of ``data`` (N, 6) as one (N, h, w) int64 tensor made
    on ``device``: the 16.16 fixed-point constants per row here, the grid there."""
    data = np.asarray(data, dtype=np.float64).reshape(-1, 6)
    n, (height, width), (out_h, out_w) = len(data), in_size, out_size
    ix = torch.empty((n, out_h, out_w), dtype=torch.long, device=device)
    iy = torch.empty_like(ix)
    scale = (data[:, 1] == 0) & (data[:, 3] == 0)
    general = np.flatnonzero(~scale)
    if general.size:
        fixed = torch.tensor([[_fix(a2 + a1 * 0.5 + a0 * 0.5), _fix(a1), _fix(a0),
                               _fix(a5 + a4 * 0.5 + a3 * 0.5), _fix(a4), _fix(a3)]
                              for a0, a1, a2, a3, a4, a5 in data[general].tolist()],
                             dtype=torch.long).to(device)[:, :, None, None]
        ys = torch.arange(out_h, device=device).view(1, -1, 1)
        xs = torch.arange(out_w, device=device).view(1, 1, -1)
        at = torch.from_numpy(general).to(device)
        ix[at] = (fixed[:, 0] + fixed[:, 1] * ys + fixed[:, 2] * xs) >> 16
        iy[at] = (fixed[:, 3] + fixed[:, 4] * ys + fixed[:, 5] * xs) >> 16
    for i in np.flatnonzero(scale):
        rows, cols = scale_sources(data[i], out_size)
        iy[i] = torch.from_numpy(rows).to(device)[:, None]
        ix[i] = torch.from_numpy(cols).to(device)[None, :]
    inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
    return torch.where(inside, iy * width + ix, -1)


def scale_sources(data: Sequence[float], out_size: tuple[int, int]
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Source row and column (-1 before the input; maybe past its end) of each output row and
    column of a scale-and-shift affine ``data`` (``data[1] == data[3] == 0``)."""
    a0, _, a2, _, a4, a5 = (float(v) for v in data)
    return (_coord(_running(a5 + a4 * 0.5, a4, out_size[0])),
            _coord(_running(a2 + a0 * 0.5, a0, out_size[1])))


def gather(batch: torch.Tensor, sources: np.ndarray | torch.Tensor, fill: torch.Tensor
           ) -> torch.Tensor:
    """``batch`` (N, C, H, W) sampled at per-sample flat ``sources`` (N, h, w); -1 is
    ``fill`` (one value per channel)."""
    n, channels = batch.shape[:2]
    index = torch.as_tensor(sources, device=batch.device, dtype=torch.long).view(n, 1, -1)
    flat = batch.reshape(n, channels, -1)
    picked = flat.gather(2, index.clamp(min=0).expand(n, channels, -1))
    filler = fill.to(batch.device, batch.dtype).view(1, channels, 1)
    return torch.where(index >= 0, picked, filler).view(n, channels, *sources.shape[1:])


__all__ = ["affine_sources", "affine_sources_batch", "gather", "scale_sources"]
