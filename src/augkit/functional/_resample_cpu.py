"""Compiled passes of Pillow's separable resampling on uint8 (see ``augkit.functional.resize``).

Both take images as ``(M, H, W, C)`` rows of interleaved pixels (a planar batch is passed
as strided views of its planes to the horizontal pass, as ``(N * C, H, W, 1)`` to the
vertical one), per-output ``bounds`` (first input index, tap count) and the
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


# Four rows at a time share each output column's bounds and taps and keep 4 x C sums in
# registers: a third less time than one row at a time (grey and RGB; RGBA, premultiplied,
# goes row by row). Indices are unsigned so that numba
# leaves out its negative-index wraparound.
_U0, _U1, _U2 = np.uint64(0), np.uint64(1), np.uint64(2)


@njit(inline="always")
def _four_rows_one(l0, l1, l2, l3, o0, o1, o2, o3, bounds, coeffs):
    for xi in range(o0.shape[0]):
        x = np.uint64(xi)
        start, count = np.uint64(bounds[x, _U0]), np.uint64(bounds[x, _U1])
        a = b = c = d = _HALF
        k = _U0
        while k < count:
            w, j = coeffs[x, k], start + k
            a += np.int32(l0[j, _U0]) * w
            b += np.int32(l1[j, _U0]) * w
            c += np.int32(l2[j, _U0]) * w
            d += np.int32(l3[j, _U0]) * w
            k += _U1
        o0[x, _U0], o1[x, _U0], o2[x, _U0], o3[x, _U0] = _clip8(a), _clip8(b), _clip8(c), \
            _clip8(d)


@njit(inline="always")
def _four_rows_three(l0, l1, l2, l3, o0, o1, o2, o3, bounds, coeffs):
    for xi in range(o0.shape[0]):
        x = np.uint64(xi)
        start, count = np.uint64(bounds[x, _U0]), np.uint64(bounds[x, _U1])
        a0 = a1 = a2 = b0 = b1 = b2 = c0 = c1 = c2 = d0 = d1 = d2 = _HALF
        k = _U0
        while k < count:
            w, j = coeffs[x, k], start + k
            a0 += np.int32(l0[j, _U0]) * w
            a1 += np.int32(l0[j, _U1]) * w
            a2 += np.int32(l0[j, _U2]) * w
            b0 += np.int32(l1[j, _U0]) * w
            b1 += np.int32(l1[j, _U1]) * w
            b2 += np.int32(l1[j, _U2]) * w
            c0 += np.int32(l2[j, _U0]) * w
            c1 += np.int32(l2[j, _U1]) * w
            c2 += np.int32(l2[j, _U2]) * w
            d0 += np.int32(l3[j, _U0]) * w
            d1 += np.int32(l3[j, _U1]) * w
            d2 += np.int32(l3[j, _U2]) * w
            k += _U1
        o0[x, _U0], o0[x, _U1], o0[x, _U2] = _clip8(a0), _clip8(a1), _clip8(a2)
        o1[x, _U0], o1[x, _U1], o1[x, _U2] = _clip8(b0), _clip8(b1), _clip8(b2)
        o2[x, _U0], o2[x, _U1], o2[x, _U2] = _clip8(c0), _clip8(c1), _clip8(c2)
        o3[x, _U0], o3[x, _U1], o3[x, _U2] = _clip8(d0), _clip8(d1), _clip8(d2)


@njit(cache=True, nogil=True)
def horizontal_pass(src, dst, first_row, bounds, coeffs):
    """``dst[m, y, x]`` from input row ``first_row + y``: the taps of output column ``x``
    (one accumulator per channel and row, in registers). A planar batch comes as strided
    ``(N, H, W, C)`` views of its planes."""
    images, rows, _, channels = dst.shape
    grouped = rows // 4 * 4 if channels in (1, 3) else 0
    for m in range(images):
        for y in range(0, grouped, 4):
            r = first_row + y
            l0, l1, l2, l3 = src[m, r], src[m, r + 1], src[m, r + 2], src[m, r + 3]
            o0, o1, o2, o3 = dst[m, y], dst[m, y + 1], dst[m, y + 2], dst[m, y + 3]
            if channels == 1:
                _four_rows_one(l0, l1, l2, l3, o0, o1, o2, o3, bounds, coeffs)
            else:
                _four_rows_three(l0, l1, l2, l3, o0, o1, o2, o3, bounds, coeffs)
        for y in range(grouped, rows):
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
    """``dst[m, y, x] = src[m, rows[y], cols[x]]`` (NEAREST), all channels of a pixel.
    The indices go unsigned, which spares numba's check for negative ones."""
    images, out_h, out_w, channels = dst.shape
    for m in range(images):
        for y in range(out_h):
            line, out = src[m, np.uintp(rows[y])], dst[m, y]
            if channels == 3:
                for x in range(out_w):
                    col = np.uintp(cols[x])
                    out[x, 0], out[x, 1], out[x, 2] = line[col, 0], line[col, 1], line[col, 2]
            elif channels == 1:
                for x in range(out_w):
                    out[x, 0] = line[np.uintp(cols[x]), 0]
            else:
                for x in range(out_w):
                    col = np.uintp(cols[x])
                    for c in range(channels):
                        out[x, c] = line[col, c]


__all__ = ["PRECISION_BITS", "gather_pass", "horizontal_pass", "vertical_pass"]
