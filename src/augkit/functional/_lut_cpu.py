"""Compiled uint8 table look-ups and histograms for the ImageOps kernels (one pass over the
pixels each, where numpy's fancy indexing and ``bincount`` take several)."""

from __future__ import annotations

import numpy as np
from numba import njit

from augkit.functional import _layout_cpu


@njit(cache=True, nogil=True)
def _look_up(planes, tables, out):
    for p in range(planes.shape[0]):
        table, source, target = tables[p], planes[p], out[p]
        for i in range(source.shape[0]):
            target[i] = table[source[i]]


@njit(cache=True, nogil=True)
def _count(planes, counts):
    for p in range(planes.shape[0]):
        source, target = planes[p], counts[p]
        for i in range(source.shape[0]):
            target[source[i]] += 1


def look_up(planes: np.ndarray, tables: np.ndarray) -> np.ndarray:
    """``tables[p][planes[p]]`` for (N, C, H, W) uint8 planes and (N, C, 256) tables."""
    n, c = planes.shape[:2]
    source = np.ascontiguousarray(planes).reshape(n * c, -1)
    out = np.empty_like(source)
    _look_up(source, np.ascontiguousarray(tables.reshape(n * c, 256), dtype=np.uint8), out)
    return out.reshape(planes.shape)


INVERT, MASK, SOLARIZE = 0, 1, 2


@njit(cache=True, nogil=True)
def _point(values, kind, settings, out):
    """A table that is arithmetic, computed instead of looked up (which vectorizes): for
    each row ``p`` of ``values``, ``255 - x`` (INVERT), ``x & settings[p]`` (MASK) or
    ``255 - x`` where ``x >= settings[p]`` (SOLARIZE). One loop per kind."""
    for p in range(values.shape[0]):
        source, target, setting = values[p], out[p], settings[p]
        if kind == INVERT:
            for i in range(source.shape[0]):
                target[i] = 255 - source[i]
        elif kind == MASK:
            mask = np.uint8(setting)
            for i in range(source.shape[0]):
                target[i] = source[i] & mask
        else:
            for i in range(source.shape[0]):
                x = source[i]
                target[i] = 255 - x if x >= setting else x


def point(values: np.ndarray, kind: int, settings: np.ndarray) -> np.ndarray:
    """``_point`` on a uint8 array (N, ...) with one setting per sample; a new array."""
    rows = np.ascontiguousarray(values).reshape(values.shape[0], -1)
    out = np.empty_like(rows)
    _point(rows, kind, np.asarray(settings, dtype=np.int64), out)
    return out.reshape(values.shape)


def histograms(planes: np.ndarray) -> np.ndarray:
    """(N, C, 256) counts of a uint8 (N, C, H, W) batch."""
    n, c = planes.shape[:2]
    counts = np.zeros((n * c, 256), dtype=np.int64)
    _count(np.ascontiguousarray(planes).reshape(n * c, -1), counts)
    return counts.reshape(n, c, 256)


@njit(cache=True, nogil=True)
def _luma(pixels, out):
    """``pixels``: (N, C, P) planar; ``out``: (N, P)."""
    for n in range(out.shape[0]):
        for i in range(out.shape[1]):
            r, g, b = pixels[n, 0, i], pixels[n, 1, i], pixels[n, 2, i]
            out[n, i] = (np.uint32(19595) * r + np.uint32(38470) * g + np.uint32(7471) * b
                         + np.uint32(32768)) >> 16


def luma(images: np.ndarray, planar: bool) -> np.ndarray:
    """Pillow's ``convert("L")`` of a uint8 RGB(A) batch, planar (N, C, H, W) or interleaved
    (N, H, W, C): ``(19595 R + 38470 G + 7471 B + 32768) >> 16``, as (N, H, W). Interleaved
    pixels go planar first (the planar loop vectorizes; on interleaved bytes it stays scalar,
    43 us for a 224x224 RGB image where the copy and the planar loop take 15)."""
    images = np.ascontiguousarray(images) if planar else _layout_cpu.planar(images)
    n, channels, height, width = images.shape
    out = np.empty((n, height * width), dtype=np.uint8)
    _luma(images.reshape(n, channels, -1), out)
    return out.reshape(n, height, width)
