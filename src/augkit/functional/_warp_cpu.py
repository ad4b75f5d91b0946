"""A compiled uint8 sampler for affine warps and resized crops on the CPU.

It computes exactly what ``geometry.warp`` computes with torch (float64 positions snapped to
integers within 1e-9, float32 interpolation, rounding half to even), one output pixel at a
time instead of through full-size temporaries, so the two agree bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

f32 = np.float32


@njit(inline="always")
def _snap(v):
    nearest = math.floor(v + 0.5)  # a tie is never within 1e-9 of an integer
    return nearest if abs(v - nearest) < 1e-9 else v


@njit(inline="always")
def _clamp(i, size):
    return min(max(i, 0), size - 1)


@njit(inline="always")
def _px(src, n, c, y, x, height, width, fill):
    if x < 0 or x >= width or y < 0 or y >= height:
        return fill[c]
    return f32(src[n, c, y, x])


@njit(inline="always")
def _to_uint8(v):
    r = math.floor(v + f32(0.5))
    if r - v == f32(0.5) and r % 2 != 0:  # round half to even, as torch.round does
        r -= 1
    return np.uint8(min(max(r, 0), 255))


@njit(cache=True, nogil=True)
def _warp(src, out, inverse, fill, bilinear, edge):
    channels, height, width = src.shape[1], src.shape[2], src.shape[3]
    out_h, out_w = out.shape[2], out.shape[3]
    one = f32(1.0)
    for n in range(src.shape[0]):
        m0, m1, m2 = inverse[n, 0], inverse[n, 1], inverse[n, 2]
        m3, m4, m5 = inverse[n, 3], inverse[n, 4], inverse[n, 5]
        for y in range(out_h):
            for x in range(out_w):
                sx = _snap(m0 * x + m1 * y + m2)
                sy = _snap(m3 * x + m4 * y + m5)
                if bilinear:
                    fx, fy = math.floor(sx), math.floor(sy)
                    wx, wy = f32(sx - fx), f32(sy - fy)
                    x0, y0, x1, y1 = fx, fy, fx + 1, fy + 1
                    if edge:
                        x0, x1 = _clamp(x0, width), _clamp(x1, width)
                        y0, y1 = _clamp(y0, height), _clamp(y1, height)
                    for c in range(channels):
                        top = (_px(src, n, c, y0, x0, height, width, fill) * (one - wx)
                               + _px(src, n, c, y0, x1, height, width, fill) * wx)
                        bottom = (_px(src, n, c, y1, x0, height, width, fill) * (one - wx)
                                  + _px(src, n, c, y1, x1, height, width, fill) * wx)
                        out[n, c, y, x] = _to_uint8(top * (one - wy) + bottom * wy)
                else:
                    ix, iy = math.floor(sx + 0.5), math.floor(sy + 0.5)
                    if edge:
                        ix, iy = _clamp(ix, width), _clamp(iy, height)
                    for c in range(channels):
                        out[n, c, y, x] = _to_uint8(_px(src, n, c, iy, ix, height, width, fill))


def warp_uint8(images: np.ndarray, planar: bool, inverse: np.ndarray, size: tuple[int, int],
               interpolation: str, fill: np.ndarray, border: str) -> np.ndarray:
    """Warp a uint8 batch: ``(N, C, H, W)`` when ``planar``, else ``(N, H, W, C)``."""
    src = images if planar else np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    n, channels = src.shape[:2]
    src = src.view()
    src.flags.writeable = False  # one compiled signature whether or not the input is writable
    out = np.empty((n, channels, *size), np.uint8)
    _warp(src, out, np.ascontiguousarray(inverse, np.float64).reshape(n, 6),
          np.ascontiguousarray(fill, np.float32), interpolation == "bilinear", border == "edge")
    return out if planar else np.ascontiguousarray(out.transpose(0, 2, 3, 1))
