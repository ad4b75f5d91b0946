"""Compiled uint8 copies of Pillow's box blur (``BoxBlur.c``), 3x3 / 5x5 kernels
(``Filter.c``) and rank filters (``RankFilter.c``), for planar batches (P, H, W).

Kernels sum in float32 in Pillow's order (rows from the bottom one, the kernel flipped
vertically, left to right within a row, each row's products summed first), start from
``offset + 0.5`` and truncate after clipping to [0, 255]; borders are kept. Rank filters
take the ``rank``-th smallest of each window of the edge-replicated image.

Each box pass is Pillow's running sum: the ``2 * radius + 1`` nearest pixels weighed ``ww / 2**24``
and the two next ones ``fw / 2**24``, edges replicated, rounded half up to uint8 after every
pass; rows first, then columns (Pillow transposes and runs rows again, which is the same
arithmetic). Equal to ``noise.torch_box_passes`` on integers, several times faster.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from augkit.functional._layout_cpu import transpose_plane

_HALF = 1 << 23


@njit(cache=True, nogil=True)
def _column_passes(plane, radius, ww, fw, passes, acc, scratch):
    """``passes`` box passes down the columns of ``plane`` (H, W), in place: the running sums
    of a whole row at a time, which vectorizes."""
    height, width = plane.shape
    half = np.uint32(_HALF)
    last = height - 1
    for _ in range(passes):
        for x in range(width):
            acc[x] = plane[0, x] * np.uint32(radius + 1)
        for k in range(1, min(radius, last) + 1):
            for x in range(width):
                acc[x] += plane[k, x]
        if radius > last:
            for x in range(width):
                acc[x] += plane[last, x] * np.uint32(radius - last)
        for y in range(height):
            low, high = max(y - radius - 1, 0), min(y + radius + 1, last)
            leaving = max(y - radius, 0)
            for x in range(width):
                far = np.uint32(plane[low, x]) + np.uint32(plane[high, x])
                scratch[y, x] = (acc[x] * ww + far * fw + half) >> 24
                acc[x] += np.uint32(plane[high, x]) - np.uint32(plane[leaving, x])
        for y in range(height):
            for x in range(width):
                plane[y, x] = scratch[y, x]


@njit(cache=True, nogil=True)
def _planes(planes, across, down, passes):
    """``passes`` row passes with ``across`` (radius, ww, fw; radius < 0 skips), then as many
    column passes with ``down``, on every (H, W) plane of ``planes`` (P, H, W), in place.
    The row passes run as column passes on the transposed plane (a running sum along a row
    is a chain of dependent steps; down the columns a whole row moves at once). uint32
    arithmetic, as Pillow's: ``acc * ww + far * fw`` stays below 2**32."""
    count, height, width = planes.shape
    acc = np.empty(max(height, width), dtype=np.uint32)
    scratch = np.empty(height * width, dtype=np.uint8)
    turned = np.empty((width, height), dtype=np.uint8)
    for p in range(count):
        plane = planes[p]
        if across[0] >= 0:
            transpose_plane(plane, turned)
            _column_passes(turned, across[0], np.uint32(across[1]), np.uint32(across[2]),
                           passes, acc, scratch.reshape(width, height))
            transpose_plane(turned, plane)
        if down[0] >= 0:
            _column_passes(plane, down[0], np.uint32(down[1]), np.uint32(down[2]), passes, acc,
                           scratch.reshape(height, width))


def box_passes_uint8(images: np.ndarray, across: tuple[int, int, int] | None,
                     down: tuple[int, int, int] | None, passes: int) -> np.ndarray:
    """Pillow's box passes on a uint8 batch (N, C, H, W); a new array."""
    out = np.array(images, order="C")  # a contiguous copy, worked in place
    skip = (-1, 0, 0)
    planes = out.reshape(-1, *out.shape[-2:])
    _planes(planes, np.asarray(across or skip, dtype=np.int64),
            np.asarray(down or skip, dtype=np.int64), passes)
    return out


@njit(cache=True, nogil=True)
def _kernel(planes, weights, offset, size, out):
    count, height, width = planes.shape
    margin = size // 2
    for p in range(count):
        for y in range(height):
            for x in range(width):
                out[p, y, x] = planes[p, y, x]
        for y in range(margin, height - margin):
            for x in range(margin, width - margin):
                total = offset
                for row in range(size):
                    source = y + margin - row
                    line = np.float32(planes[p, source, x - margin]) * weights[row * size]
                    for col in range(1, size):
                        line = line + (np.float32(planes[p, source, x - margin + col])
                                       * weights[row * size + col])
                    total = total + line
                total = min(max(total, np.float32(0.0)), np.float32(255.0))
                out[p, y, x] = np.uint8(total)


@njit(cache=True, nogil=True)
def _kernel3(planes, w, offset, out):
    """``_kernel`` written out for 3x3, which LLVM vectorizes along the rows."""
    count, height, width = planes.shape
    f = np.float32
    zero, top = f(0.0), f(255.0)
    for p in range(count):
        for y in range(height):
            for x in range(width):
                out[p, y, x] = planes[p, y, x]
        for y in range(1, height - 1):
            below, here, above = planes[p, y + 1], planes[p, y], planes[p, y - 1]
            target = out[p, y]
            for x in range(1, width - 1):
                total = offset + ((f(below[x - 1]) * w[0] + f(below[x]) * w[1])
                                  + f(below[x + 1]) * w[2])
                total = total + ((f(here[x - 1]) * w[3] + f(here[x]) * w[4])
                                 + f(here[x + 1]) * w[5])
                total = total + ((f(above[x - 1]) * w[6] + f(above[x]) * w[7])
                                 + f(above[x + 1]) * w[8])
                target[x] = np.uint8(min(max(total, zero), top))


def kernel_uint8(images: np.ndarray, weights: np.ndarray, offset: float) -> np.ndarray:
    """Pillow's ``ImagingFilter`` on a uint8 batch (N, C, H, W): ``weights`` the 9 or 25
    float32 weights already divided by the scale; a new array."""
    images = np.ascontiguousarray(images)
    size = 3 if len(weights) == 9 else 5
    if images.shape[-2] < size or images.shape[-1] < size:
        return images.copy()
    planes = images.reshape(-1, *images.shape[-2:])
    out = np.empty_like(planes)
    weights = np.asarray(weights, dtype=np.float32)
    if size == 3:
        _kernel3(planes, weights, np.float32(offset + 0.5), out)
    else:
        _kernel(planes, weights, np.float32(offset + 0.5), size, out)
    return out.reshape(images.shape)


@njit(cache=True, nogil=True)
def _rank(planes, size, rank, out):
    """Each row's windows sorted together by an odd-even transposition network (branchless
    min / max along the row, which LLVM vectorizes), then the ``rank``-th row taken."""
    count, height, width = planes.shape
    margin = size // 2
    k = size * size
    windows = np.empty((k, width), dtype=np.uint8)
    for p in range(count):
        for y in range(height):
            i = 0
            for dy in range(-margin, margin + 1):
                row = planes[p, min(max(y + dy, 0), height - 1)]
                for dx in range(-margin, margin + 1):
                    for x in range(width):
                        windows[i, x] = row[min(max(x + dx, 0), width - 1)]
                    i += 1
            for step in range(k):
                for j in range(step % 2, k - 1, 2):
                    for x in range(width):
                        a, b = windows[j, x], windows[j + 1, x]
                        windows[j, x] = min(a, b)
                        windows[j + 1, x] = max(a, b)
            for x in range(width):
                out[p, y, x] = windows[rank, x]


@njit(inline="always")
def _middle(a, b, c):
    return max(min(a, b), min(max(a, b), c))


@njit(inline="always")
def _median_of_columns(low, mid, high, left, x, right):
    """The median of a 3x3 window from its three sorted columns: the median of (the
    greatest low, the middle mid, the least high). (The row loop spells it out: through this
    call, with indices as arguments, the loop did not vectorize, 23 against 290 us.)"""
    return _middle(max(max(low[left], low[x]), low[right]),
                   _middle(mid[left], mid[x], mid[right]),
                   min(min(high[left], high[x]), high[right]))


@njit(cache=True, nogil=True)
def _rank3(planes, rank, out):
    """``_rank`` for 3x3 windows and rank 0, 4 or 8 (min, median, max): each column of three
    sorted once and shared by the three windows over it, every step a min or max along the
    row (one loop per rank, so that each vectorizes)."""
    count, height, width = planes.shape
    low = np.empty(width, np.uint8)  # each column's least, middle and greatest value
    mid = np.empty(width, np.uint8)
    high = np.empty(width, np.uint8)
    last = width - 1
    for p in range(count):
        for y in range(height):
            up, centre = planes[p, max(y - 1, 0)], planes[p, y]
            down = planes[p, min(y + 1, height - 1)]
            for x in range(width):
                a, b, c = up[x], centre[x], down[x]
                low[x], high[x] = min(min(a, b), c), max(max(a, b), c)
                mid[x] = _middle(a, b, c)
            target = out[p, y]
            if rank == 4:
                for x in range(1, last):
                    target[x] = _middle(max(max(low[x - 1], low[x]), low[x + 1]),
                                        _middle(mid[x - 1], mid[x], mid[x + 1]),
                                        min(min(high[x - 1], high[x]), high[x + 1]))
                target[0] = _median_of_columns(low, mid, high, 0, 0, min(1, last))
                target[last] = _median_of_columns(low, mid, high, max(last - 1, 0), last, last)
            elif rank == 0:
                for x in range(1, last):
                    target[x] = min(min(low[x - 1], low[x]), low[x + 1])
                target[0] = min(low[0], low[min(1, last)])
                target[last] = min(low[max(last - 1, 0)], low[last])
            else:
                for x in range(1, last):
                    target[x] = max(max(high[x - 1], high[x]), high[x + 1])
                target[0] = max(high[0], high[min(1, last)])
                target[last] = max(high[max(last - 1, 0)], high[last])


def rank_uint8(images: np.ndarray, size: int, rank: int) -> np.ndarray:
    """Pillow's ``RankFilter(size, rank)`` on a uint8 batch (N, C, H, W); a new array."""
    images = np.ascontiguousarray(images)
    planes = images.reshape(-1, *images.shape[-2:])
    out = np.empty_like(planes)
    if size == 3 and rank in (0, 4, 8):
        _rank3(planes, rank, out)
    else:
        _rank(planes, size, rank, out)
    return out.reshape(images.shape)


@njit(cache=True, nogil=True)
def _unsharp(source, blurred, percent, threshold, out):
    for i in range(source.shape[0]):
        value = np.int32(source[i])
        diff = value - np.int32(blurred[i])
        if abs(diff) > threshold:
            change = diff * percent
            step = change // 100 if change >= 0 else -((-change) // 100)  # C's truncation
            out[i] = min(max(value + step, 0), 255)
        else:
            out[i] = value


def unsharp_uint8(images: np.ndarray, blurred: np.ndarray, percent: int, threshold: int
                  ) -> np.ndarray:
    """Pillow's ``UnsharpMask`` step on uint8 ``images`` and their Gaussian ``blurred``."""
    source = np.ascontiguousarray(images).reshape(-1)
    out = np.empty_like(source)
    _unsharp(source, np.ascontiguousarray(blurred).reshape(-1), np.int32(percent),
             np.int32(threshold), out)
    return out.reshape(images.shape)


@njit(inline="always")
def _reflect(i, size):
    """torch's ``reflect`` padding: the index mirrored at the edges, the edge not repeated."""
    if i < 0:
        return -i
    return 2 * (size - 1) - i if i >= size else i


@njit(cache=True, nogil=True)
def _truncated_blur(images, across, down, out, rounded):
    """``noise.truncated_blur`` on a planar uint8 or float32 batch (N, C, H, W): per sample a
    float32 kernel across (``across[n]``, odd length) and one down, reflect padding, the
    same float32 products and sums in the same order as the torch version (each product
    rounded, then added to the running sum); ``rounded``: to uint8, half to even, clipped."""
    images_n, channels, height, width = images.shape
    kx, ky = across.shape[1], down.shape[1]
    rx, ry = kx // 2, ky // 2
    padded = np.empty(width + kx - 1, np.float32)
    rows = np.empty((height, width), np.float32)
    total = np.empty(width, np.float32)
    for n in range(images_n):
        for c in range(channels):
            plane = images[n, c]
            for y in range(height):
                line = plane[y]
                for x in range(width):  # the inside apart: a plain copy vectorizes
                    padded[rx + x] = np.float32(line[x])
                for x in range(rx):
                    padded[x] = np.float32(line[_reflect(x - rx, width)])
                    padded[rx + width + x] = np.float32(line[_reflect(width + x, width)])
                row = rows[y]
                w = across[n, 0]
                for x in range(width):
                    row[x] = padded[x] * w
                for i in range(1, kx):
                    w = across[n, i]
                    for x in range(width):
                        row[x] = row[x] + padded[x + i] * w
            target = out[n, c]
            for y in range(height):
                first = rows[_reflect(y - ry, height)]
                w = down[n, 0]
                for x in range(width):
                    total[x] = first[x] * w
                for i in range(1, ky):
                    source = rows[_reflect(y - ry + i, height)]
                    w = down[n, i]
                    for x in range(width):
                        total[x] = total[x] + source[x] * w
                line = target[y]
                if rounded:
                    for x in range(width):
                        line[x] = min(max(np.rint(total[x]), np.float32(0.0)),
                                      np.float32(255.0))
                else:
                    for x in range(width):
                        line[x] = total[x]


def truncated_blur_planes(images: np.ndarray, across: np.ndarray, down: np.ndarray
                          ) -> np.ndarray:
    """``_truncated_blur`` into a new array; ``images`` planar (N, C, H, W) uint8 (rounded
    back to uint8) or float32, ``across`` and ``down`` (N, k) float32 kernels."""
    out = np.empty_like(images)
    _truncated_blur(np.ascontiguousarray(images), np.ascontiguousarray(across, np.float32),
                    np.ascontiguousarray(down, np.float32), out, images.dtype == np.uint8)
    return out
