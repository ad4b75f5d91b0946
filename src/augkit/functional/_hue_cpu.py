"""A compiled copy of ``hue.rgb_to_hsv`` / ``hsv_to_rgb`` with the hue byte shifted in between:
torchvision's PIL path for a hue turn, pixel by pixel, in the same float32 / float64 steps as
the numpy reference (which equals Pillow on every colour)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

f32 = np.float32


@njit(inline="always")
def _clip_byte(value):
    return 0 if value < 0 else (255 if value > 255 else value)


@njit(inline="always")
def _turn(r, g, b, shift):
    maxc, minc = max(r, max(g, b)), min(r, min(g, b))
    if maxc == minc:  # gray: hue and saturation 0, nothing to turn
        return r, g, b
    spread = f32(maxc - minc)
    s = spread / f32(maxc)
    rc, gc, bc = f32(maxc - r) / spread, f32(maxc - g) / spread, f32(maxc - b) / spread
    if r == maxc:
        h = f32(np.float64(bc - gc))
    elif g == maxc:
        h = f32(2.0 + np.float64(rc) - np.float64(bc))
    else:
        h = f32(4.0 + np.float64(gc) - np.float64(rc))
    h = f32(np.fmod(np.float64(h) / 6.0 + 1.0, 1.0))
    hue = (_clip_byte(int(np.float64(h) * 255.0)) + shift) % 256
    sat = _clip_byte(int(np.float64(s) * 255.0))
    if sat == 0:
        return maxc, maxc, maxc
    scaled = f32(hue) * f32(6.0) / f32(255.0)
    sector = math.floor(scaled)
    frac = f32(scaled - f32(sector))
    fs = f32(sat / 255.0)
    one, value = f32(1.0), f32(maxc)
    p = _clip_byte(math.floor(value * (one - fs) + f32(0.5)))
    q = _clip_byte(math.floor(value * (one - fs * frac) + f32(0.5)))
    t = _clip_byte(math.floor(value * (one - fs * (one - frac)) + f32(0.5)))
    k = int(sector) % 6
    if k == 0:
        return maxc, t, p
    if k == 1:
        return q, maxc, p
    if k == 2:
        return p, maxc, t
    if k == 3:
        return p, q, maxc
    if k == 4:
        return t, p, maxc
    return maxc, p, q


@njit(cache=True, nogil=True)
def _turn_all(pixels, shifts, out):
    """``pixels`` and ``out`` (N, P, C) interleaved, C >= 3 (a 4th channel copied)."""
    for n in range(pixels.shape[0]):
        shift = shifts[n]
        for i in range(pixels.shape[1]):
            r, g, b = _turn(np.int64(pixels[n, i, 0]), np.int64(pixels[n, i, 1]),
                            np.int64(pixels[n, i, 2]), shift)
            out[n, i, 0], out[n, i, 1], out[n, i, 2] = r, g, b
            for c in range(3, pixels.shape[2]):
                out[n, i, c] = pixels[n, i, c]


def turn_hue_uint8(nhwc: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Each sample of a uint8 (N, H, W, C) batch, C 3 or 4, with its hue byte moved by its
    ``shifts`` (0-255, wrapping); a new array."""
    source = np.ascontiguousarray(nhwc)
    pixels = source.reshape(source.shape[0], -1, source.shape[-1])
    out = np.empty_like(pixels)
    _turn_all(pixels, np.asarray(shifts, dtype=np.int64), out)
    return out.reshape(source.shape)
