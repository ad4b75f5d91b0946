"""A compiled uint8 copy of Pillow's box blur (``BoxBlur.c``), for planar batches.

Each pass is Pillow's running sum: the ``2 * radius + 1`` nearest pixels weighed ``ww / 2**24``
and the two next ones ``fw / 2**24``, edges replicated, rounded half up to uint8 after every
pass; rows first, then columns (Pillow transposes and runs rows again, which is the same
arithmetic). Equal to ``noise._box_pass`` on integers, several times faster.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_HALF = 1 << 23


@njit(cache=True, nogil=True)
def _planes(planes, across, down, passes):
    """``passes`` row passes with ``across`` (radius, ww, fw; radius < 0 skips), then as many
    column passes with ``down``, on every (H, W) plane of ``planes`` (P, H, W), in place.
    uint32 arithmetic, as Pillow's: ``acc * ww + far * fw`` stays below 2**32."""
    count, height, width = planes.shape
    half = np.uint32(_HALF)
    line = np.empty(width, dtype=np.uint32)
    acc = np.empty(width, dtype=np.uint32)
    scratch = np.empty((height, width), dtype=np.uint8)
    for p in range(count):
        plane = planes[p]
        if across[0] >= 0:
            radius, ww, fw = across[0], np.uint32(across[1]), np.uint32(across[2])
            last = width - 1
            for _ in range(passes):
                for y in range(height):
                    for x in range(width):
                        line[x] = plane[y, x]
                    total = line[0] * np.uint32(radius + 1)
                    for k in range(1, min(radius, last) + 1):
                        total += line[k]
                    if radius > last:
                        total += line[last] * np.uint32(radius - last)
                    for x in range(width):
                        low, high = max(x - radius - 1, 0), min(x + radius + 1, last)
                        plane[y, x] = (total * ww + (line[low] + line[high]) * fw + half) >> 24
                        total += line[high] - line[max(x - radius, 0)]
        if down[0] >= 0:
            radius, ww, fw = down[0], np.uint32(down[1]), np.uint32(down[2])
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


def box_passes_uint8(images: np.ndarray, across: tuple[int, int, int] | None,
                     down: tuple[int, int, int] | None, passes: int) -> np.ndarray:
    """Pillow's box passes on a uint8 batch (N, C, H, W); a new array."""
    out = np.ascontiguousarray(images).copy()
    skip = (-1, 0, 0)
    planes = out.reshape(-1, *out.shape[-2:])
    _planes(planes, np.asarray(across or skip, dtype=np.int64),
            np.asarray(down or skip, dtype=np.int64), passes)
    return out
