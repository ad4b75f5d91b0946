"""Compiled passes of Pillow's separable resampling on uint8 (see ``augkit.functional.resize``).

Both take images as ``(M, H, W, C)`` rows of interleaved pixels (a planar batch is passed as
``(N * C, H, W, 1)``), per-output ``bounds`` (first input index, tap count) and the
fixed-point taps ``coeffs`` (22 fractional bits), and round and clip as Pillow's ``clip8``.
Sums stay in int32 as Pillow's do: 255 times the taps' absolute sum (below 2 for every
filter) times 2**22 is below 2**31.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PRECISION_BITS = 22  # Pillow's 32 - 8 - 2
_HALF = np.int32(1 << (PRECISION_BITS - 1))


@njit(inline="always")
def _clip8(total):
    if total >= 1 << (PRECISION_BITS + 8):
        return 255
    if total <= 0:
        return 0
    return total >> PRECISION_BITS


@njit(inline="always")
def _row_one(line, out, bounds, coeffs):
    for x in range(out.shape[0]):
        start, count = bounds[x, 0], bounds[x, 1]
        t0 = _HALF
        for k in range(count):
            t0 += np.int32(line[start + k, 0]) * coeffs[x, k]
        out[x, 0] = _clip8(t0)


@njit(inline="always")
def _row_three(line, out, bounds, coeffs):
    for x in range(out.shape[0]):
        start, count = bounds[x, 0], bounds[x, 1]
        t0 = t1 = t2 = _HALF
        for k in range(count):
            w = coeffs[x, k]
            t0 += np.int32(line[start + k, 0]) * w
            t1 += np.int32(line[start + k, 1]) * w
            t2 += np.int32(line[start + k, 2]) * w
        out[x, 0], out[x, 1], out[x, 2] = _clip8(t0), _clip8(t1), _clip8(t2)


@njit(inline="always")
def _row_four(line, out, bounds, coeffs):
    for x in range(out.shape[0]):
        start, count = bounds[x, 0], bounds[x, 1]
        t0 = t1 = t2 = t3 = _HALF
        for k in range(count):
            w = coeffs[x, k]
            t0 += np.int32(line[start + k, 0]) * w
            t1 += np.int32(line[start + k, 1]) * w
            t2 += np.int32(line[start + k, 2]) * w
            t3 += np.int32(line[start + k, 3]) * w
        out[x, 0], out[x, 1] = _clip8(t0), _clip8(t1)
        out[x, 2], out[x, 3] = _clip8(t2), _clip8(t3)


@njit(inline="always")
def _row_any(line, out, bounds, coeffs):
    for x in range(out.shape[0]):
        start, count = bounds[x, 0], bounds[x, 1]
        for c in range(out.shape[1]):
            total = _HALF
            for k in range(count):
                total += np.int32(line[start + k, c]) * coeffs[x, k]
            out[x, c] = _clip8(total)


@njit(cache=True, nogil=True)
def horizontal_pass(src, dst, first_row, bounds, coeffs):
    """``dst[m, y, x]`` from input row ``first_row + y``: the taps of output column ``x``
    (one accumulator per channel, in registers)."""
    images, rows, _, channels = dst.shape
    for m in range(images):
        for y in range(rows):
            line, out = src[m, first_row + y], dst[m, y]
            if channels == 1:
                _row_one(line, out, bounds, coeffs)
            elif channels == 3:
                _row_three(line, out, bounds, coeffs)
            elif channels == 4:
                _row_four(line, out, bounds, coeffs)
            else:
                _row_any(line, out, bounds, coeffs)


@njit(cache=True, nogil=True)
def horizontal_pass_planar(src, dst, first_row, bounds, coeffs):
    """``horizontal_pass`` on planar ``(N, C, H, W)`` batches: three planes share one loop,
    so that their three sums run side by side as the interleaved pass's do."""
    images, channels, rows, out_w = dst.shape
    for m in range(images):
        for y in range(rows):
            if channels == 3:
                r, g, b = src[m, 0, first_row + y], src[m, 1, first_row + y], \
                    src[m, 2, first_row + y]
                out_r, out_g, out_b = dst[m, 0, y], dst[m, 1, y], dst[m, 2, y]
                for x in range(out_w):
                    start, count = bounds[x, 0], bounds[x, 1]
                    t0 = t1 = t2 = _HALF
                    for k in range(count):
                        w = coeffs[x, k]
                        t0 += np.int32(r[start + k]) * w
                        t1 += np.int32(g[start + k]) * w
                        t2 += np.int32(b[start + k]) * w
                    out_r[x], out_g[x], out_b[x] = _clip8(t0), _clip8(t1), _clip8(t2)
            else:
                for c in range(channels):
                    line, out = src[m, c, first_row + y], dst[m, c, y]
                    for x in range(out_w):
                        start, count = bounds[x, 0], bounds[x, 1]
                        t0 = _HALF
                        for k in range(count):
                            t0 += np.int32(line[start + k]) * coeffs[x, k]
                        out[x] = _clip8(t0)


@njit(cache=True, nogil=True)
def vertical_pass(src, dst, bounds, coeffs):
    """``dst[m, y]``: the taps of output row ``y`` over the rows of ``src``, each row one run
    of ``W * C`` values."""
    images, out_h = dst.shape[0], dst.shape[1]
    values = dst.shape[2] * dst.shape[3]
    flat_src = src.reshape(images, src.shape[1], values)
    flat_dst = dst.reshape(images, out_h, values)
    totals = np.empty(values, np.int32)
    for m in range(images):
        for y in range(out_h):
            start, count = bounds[y, 0], bounds[y, 1]
            totals[:] = _HALF
            for k in range(count):
                weight = coeffs[y, k]
                line = flat_src[m, start + k]
                for j in range(values):
                    totals[j] += np.int32(line[j]) * weight
            out = flat_dst[m, y]
            for j in range(values):
                out[j] = _clip8(totals[j])


@njit(cache=True, nogil=True)
def gather_pass(src, dst, rows, cols):
    """``dst[m, y, x] = src[m, rows[y], cols[x]]`` (NEAREST), all channels of a pixel."""
    images, out_h, out_w, channels = dst.shape
    for m in range(images):
        for y in range(out_h):
            line, out = src[m, rows[y]], dst[m, y]
            if channels == 3:
                for x in range(out_w):
                    col = cols[x]
                    out[x, 0], out[x, 1], out[x, 2] = line[col, 0], line[col, 1], line[col, 2]
            elif channels == 1:
                for x in range(out_w):
                    out[x, 0] = line[cols[x], 0]
            else:
                for x in range(out_w):
                    for c in range(channels):
                        out[x, c] = line[cols[x], c]


__all__ = ["PRECISION_BITS", "gather_pass", "horizontal_pass", "horizontal_pass_planar",
           "vertical_pass"]
