"""Pillow's generic ``Image.transform`` engine on uint8 batches: every output pixel centre
``(x + 0.5, y + 0.5)`` mapped through ``data`` (output to input, continuous coordinates) by
the perspective formula, then sampled with Pillow's NEAREST, BILINEAR or BICUBIC filter.

The arithmetic is Pillow's own: float64 positions, bilinear and bicubic in float64 with its
edge clipping, results truncated to uint8 (bicubic clamped first), pixels whose position falls
outside the input set to ``fill``. RGBA goes through premultiplied alpha first, as Pillow
does for its smooth filters (done by the caller).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from augkit.functional._layout_cpu import _to_interleaved
from augkit.functional._resample_cpu import _clamp, _load_long, _load_word

MODES = {"nearest": 0, "bilinear": 1, "bicubic": 2}


@njit(inline="always")
def _cubic(v1, v2, v3, v4, d):
    p1 = v2
    p2 = -v1 + v3
    p3 = 2.0 * (v1 - v2) + v3 - v4
    p4 = -v1 + v2 - v3 + v4
    return p1 + d * (p2 + d * (p3 + d * p4))


@njit(inline="always")
def _clipped_window(image, words, x, ix, iy):
    """Pixel ``x``'s 4x4 window (corner ``(iy, ix)``) reaching past an edge, written into
    ``words`` as ``bicubic_rows`` reads a whole one, from rows and columns clipped to the
    image: what Pillow's edge handling comes to (it clips columns, and repeats the last
    row's result for rows past either end, which are the clipped rows' values)."""
    height, width, channels = image.shape
    for k in range(4):
        row = _clamp(iy + k, height)
        w0 = w1 = w2 = w3 = np.uint32(0)  # the row's 4C bytes as C words
        for j in range(4):
            column = _clamp(ix + j, width)
            for c in range(channels):
                at = j * channels + c
                value = np.uint32(image[row, column, c]) << np.uint32((at & 3) * 8)
                if at < 4:
                    w0 |= value
                elif at < 8:
                    w1 |= value
                elif at < 12:
                    w2 |= value
                else:
                    w3 |= value
        first = k * channels
        words[first, x] = w0
        if channels > 1:
            words[first + 1, x] = w1
        if channels > 2:
            words[first + 2, x] = w2
        if channels > 3:
            words[first + 3, x] = w3


@njit(inline="always")
def _word(flat, at, last):
    """The 4 bytes of ``flat`` from ``at`` as a uint32, low byte first (numba targets only
    little-endian machines); near the end, the last word shifted down (top bytes zero)."""
    start = min(at, last)
    return _load_word(flat, start) >> np.uint32((at - start) * 8)


@njit(inline="always")
def _coefficients(data):
    """The 8 transform coefficients as scalars, and whether the map is affine (then the
    division by a denominator of exactly 1 is skipped)."""
    a = (data[0], data[1], data[2], data[3], data[4], data[5], data[6], data[7])
    return a, data[6] == 0.0 and data[7] == 0.0


@njit(inline="always")
def _source(a, affine, x, y):
    """Output pixel ``(x, y)``'s centre through the transform ``a``, as Pillow computes
    it."""
    xc, yc = x + 0.5, y + 0.5
    xin = a[0] * xc + a[1] * yc + a[2]
    yin = a[3] * xc + a[4] * yc + a[5]
    if not affine:
        den = a[6] * xc + a[7] * yc + 1.0
        xin, yin = xin / den, yin / den
    return xin, yin


@njit(inline="always")
def _row_positions(coefficients, y, width, height, floor_x, floor_y, dxs, dys, inside):
    """For each pixel of output row ``y``: its centre through the transform, whether that
    lands inside the input, and (moved half a pixel back, as Pillow's filters read) the
    floors and fractions of the position (0 outside)."""
    a, affine = _coefficients(coefficients)
    for x in range(floor_x.shape[0]):
        xin, yin = _source(a, affine, x, y)
        inside[x] = xin >= 0.0 and xin < width and yin >= 0.0 and yin < height
        xs, ys = xin - 0.5, yin - 0.5
        fx, fy = math.floor(xs), math.floor(ys)
        dxs[x], dys[x] = xs - fx, ys - fy
        floor_x[x], floor_y[x] = (int(fx), int(fy)) if inside[x] else (0, 0)


@njit(inline="always")
def _pair(flat, left, right, last, low_bytes, channels):
    """A pixel and its right neighbour (which an edge may make the same pixel) as one
    uint64: ``channels`` bytes from ``left``, then ``channels`` from ``right``."""
    low = np.uint64(_word(flat, left, last)) & low_bytes
    return low | (np.uint64(_word(flat, right, last)) << np.uint64(8 * channels))


@njit(inline="always")
def _put_row(planes, y, values, inside, fill):
    """Row ``y`` of the output's planes from each channel's ``values`` (``fill``
    outside)."""
    for c in range(planes.shape[0]):
        plane, fill_c = planes[c, y], fill[c]
        for x in range(plane.shape[0]):
            plane[x] = np.uint8(values[c, x]) if inside[x] else fill_c


@njit(cache=True, nogil=True, error_model="numpy")
def bilinear_rows(image, target, coefficients, fill):
    """Pillow's BILINEAR ``transform`` of one interleaved image of 1 to 4 channels, a row at
    a time in loops: positions and weights (vectorized); each pixel's four neighbours as two
    8-byte words, a pixel and its right neighbour in each (one load per row of the window
    away from the edges); every channel's three lerps in float64 (vectorized) into a planar
    copy of the output, interleaved once at the end. The same operations on the same values
    as Pillow: 4x faster than a pixel at a time (224x224 RGB turned by 30 degrees)."""
    height, width, channels = image.shape
    out_w = target.shape[1]
    flat = image.reshape(-1)
    last, last_pair = flat.size - 4, flat.size - 8
    low_bytes = (np.uint64(1) << np.uint64(8 * channels)) - np.uint64(1)
    high = np.uint64(8 * channels)
    row_bytes = width * channels
    floor_x, floor_y = np.empty(out_w, np.int64), np.empty(out_w, np.int64)
    dxs, dys = np.empty(out_w), np.empty(out_w)
    inside = np.empty(out_w, np.bool_)
    pairs = np.zeros((2, out_w), np.uint64)
    tops, belows = np.empty(out_w, np.int64), np.empty(out_w, np.int64)
    top_at, below_at = np.empty(out_w, np.int64), np.empty(out_w, np.int64)
    edge = np.empty(out_w, np.bool_)
    values = np.empty((channels, out_w), np.int32)
    planes = np.empty((channels, *target.shape[:2]), np.uint8)  # the output, planar
    for y in range(target.shape[0]):
        _row_positions(coefficients, y, width, height, floor_x, floor_y, dxs, dys, inside)
        for x in range(out_w):  # where each pixel's two pairs start (vectorized)
            ix, iy = floor_x[x], floor_y[x]
            top = _clamp(iy, height) * row_bytes
            # no row below: Pillow's second lerp repeats the first (the same row again)
            below = (iy + 1) * row_bytes if (iy + 1 >= 0) & (iy + 1 < height) else top
            tops[x], belows[x] = top, below
            middle = (ix >= 0) & (ix < width - 1) & (below + ix * channels <= last_pair)
            top_at[x] = top + ix * channels if middle else 0
            below_at[x] = below + ix * channels if middle else 0
            edge[x] = inside[x] & ~middle
        if last_pair >= 0:  # else every pixel is an edge one: fewer than 8 bytes in all
            for x in range(out_w):
                pairs[0, x] = _load_long(flat, top_at[x])
                pairs[1, x] = _load_long(flat, below_at[x])
        for x in range(out_w):
            if edge[x]:  # a neighbour past the left or right edge, or the image's last bytes
                ix, top, below = floor_x[x], tops[x], belows[x]
                left, right = _clamp(ix, width) * channels, _clamp(ix + 1, width) * channels
                pairs[0, x] = _pair(flat, top + left, top + right, last, low_bytes, channels)
                pairs[1, x] = _pair(flat, below + left, below + right, last, low_bytes,
                                    channels)
        for c in range(channels):
            near, far = np.uint64(8 * c), np.uint64(8 * c) + high
            for x in range(out_w):
                p00 = np.int32((pairs[0, x] >> near) & np.uint64(255))
                p01 = np.int32((pairs[0, x] >> far) & np.uint64(255))
                p10 = np.int32((pairs[1, x] >> near) & np.uint64(255))
                p11 = np.int32((pairs[1, x] >> far) & np.uint64(255))
                dx = dxs[x]
                v1 = p00 + (p01 - p00) * dx  # as Pillow's BILINEAR: the difference in ints
                v2 = p10 + (p11 - p10) * dx
                values[c, x] = np.int32(v1 + (v2 - v1) * dys[x])
        _put_row(planes, y, values, inside, fill)
    _to_interleaved(planes.reshape((1, *planes.shape)), target.reshape((1, *target.shape)))


@njit(inline="always")
def _tap(words, k, channels, j, c, x):
    """Channel ``c`` of tap ``j`` in row ``k`` of a pixel's 4x4 window (``bicubic_rows``)."""
    at = j * channels + c
    return np.int32((words[k * channels + (at >> 2), x] >> np.uint32((at & 3) * 8)) & 255)


@njit(inline="always")
def _row_cubic(words, k, channels, c, x, d):
    """``_cubic`` of channel ``c`` across row ``k`` of a pixel's 4x4 window. Of four bytes,
    its p2 to p4 are exact small integers, so taken in int32 (the same values as Pillow's
    float64 sums), and the rounding steps are kept in float64."""
    v1, v2 = _tap(words, k, channels, 0, c, x), _tap(words, k, channels, 1, c, x)
    v3, v4 = _tap(words, k, channels, 2, c, x), _tap(words, k, channels, 3, c, x)
    p2, p3, p4 = -v1 + v3, 2 * (v1 - v2) + v3 - v4, -v1 + v2 - v3 + v4
    return v2 + d * (p2 + d * (p3 + d * np.float64(p4)))


@njit(cache=True, nogil=True, error_model="numpy")
def bicubic_rows(image, target, coefficients, fill):
    """Pillow's BICUBIC ``transform`` of one interleaved image of 1 to 4 channels, a row at a
    time as ``bilinear_rows``: each pixel's 4x4 window read as ``C`` 4-byte words a window row
    (its 4C bytes; where the window starts is computed in a vectorized loop, and a window
    reaching past an edge is gathered from clipped rows and columns), then every channel's
    five cubics in float64 (vectorized). 4.5x faster than a pixel at a time (224x224 RGB
    turned by 30 degrees).
    """
    height, width, channels = image.shape
    out_w = target.shape[1]
    flat = image.reshape(-1)
    row_bytes = width * channels
    floor_x, floor_y = np.empty(out_w, np.int64), np.empty(out_w, np.int64)
    dxs, dys = np.empty(out_w), np.empty(out_w)
    inside, whole = np.empty(out_w, np.bool_), np.empty(out_w, np.bool_)
    starts = np.empty(out_w, np.int64)
    words = np.zeros((4 * channels, out_w), np.uint32)
    values = np.empty((channels, out_w), np.int32)
    planes = np.empty((channels, *target.shape[:2]), np.uint8)  # the output, planar
    for y in range(target.shape[0]):
        _row_positions(coefficients, y, width, height, floor_x, floor_y, dxs, dys, inside)
        for x in range(out_w):  # where each window starts (vectorized)
            ix, iy = floor_x[x] - 1, floor_y[x] - 1
            whole[x] = inside[x] & (ix >= 0) & (ix + 3 < width) & (iy >= 0) & (iy + 3 < height)
            starts[x] = iy * row_bytes + ix * channels if whole[x] else 0
        if width >= 4 and height >= 4:  # else no window is whole, and none starts at 0
            for k in range(4):  # every pixel's words, the window at 0 for the others
                for w in range(channels):
                    into, step = words[k * channels + w], k * row_bytes + 4 * w
                    for x in range(out_w):
                        into[x] = _load_word(flat, starts[x] + step)
        for x in range(out_w):
            if inside[x] and not whole[x]:
                _clipped_window(image, words, x, floor_x[x] - 1, floor_y[x] - 1)
        for c in range(channels):
            for x in range(out_w):
                dx = dxs[x]
                v = _cubic(_row_cubic(words, 0, channels, c, x, dx),
                           _row_cubic(words, 1, channels, c, x, dx),
                           _row_cubic(words, 2, channels, c, x, dx),
                           _row_cubic(words, 3, channels, c, x, dx), dys[x])
                values[c, x] = 0 if v <= 0.0 else (255 if v >= 255.0 else np.int32(v))
        _put_row(planes, y, values, inside, fill)
    _to_interleaved(planes.reshape((1, *planes.shape)), target.reshape((1, *target.shape)))


@njit(cache=True, nogil=True, error_model="numpy")  # x / 0 is inf, as in C
def pillow_transform(src, out, data, fill, mode):
    """``src`` (N, H, W, C) uint8 into ``out`` (N, h, w, C); ``data`` (N, 8) float64. Pixels
    interleaved, as Pillow keeps them, so each sample reads its neighbours' channels from one
    place."""
    height, width, channels = src.shape[1], src.shape[2], src.shape[3]
    out_h, out_w = out.shape[1], out.shape[2]
    for n in range(src.shape[0]):
        image, target = src[n], out[n]
        if mode == 1:
            bilinear_rows(image, target, data[n], fill)
            continue
        if mode == 2:
            bicubic_rows(image, target, data[n], fill)
            continue
        a, affine = _coefficients(data[n])
        for y in range(out_h):
            for x in range(out_w):
                xin, yin = _source(a, affine, x, y)
                if not (xin >= 0.0 and xin < width and yin >= 0.0 and yin < height):
                    for c in range(channels):
                        target[y, x, c] = fill[c]
                    continue
                ix, iy = int(xin), int(yin)
                for c in range(channels):
                    target[y, x, c] = image[iy, ix, c]
