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


def _hsv_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per hue byte its sector and fraction, per saturation byte its float32 share: the
    steps of ``hsv_to_rgb`` that depend on one byte alone, in the same float32 steps."""
    hue = np.arange(256).astype(f32)
    scaled = hue * f32(6.0) / f32(255.0)
    sector = np.floor(scaled)
    fraction = (scaled - sector).astype(f32)
    return sector.astype(np.int64) % 6, fraction, (np.arange(256) / 255.0).astype(f32)


_SECTORS, _FRACTIONS, _SHARES = _hsv_tables()


@njit(inline="always")
def _hue_byte(r, g, b, maxc, minc, spread):
    """Pillow's hue byte. Of ``(maxc - c) / spread`` for the three channels, the largest
    channel's is 0 and the smallest's 1 exactly, so only the middle one is divided."""
    one = f32(1.0)
    if r == maxc:
        middle = f32(maxc - (g if b == minc else b)) / spread
        gc, bc = (middle, one) if b == minc else (one, middle)
        h = f32(np.float64(bc - gc))
    elif g == maxc:
        middle = f32(maxc - (r if b == minc else b)) / spread
        rc, bc = (middle, one) if b == minc else (one, middle)
        h = f32(2.0 + np.float64(rc) - np.float64(bc))
    else:
        middle = f32(maxc - (r if g == minc else g)) / spread
        rc, gc = (middle, one) if g == minc else (one, middle)
        h = f32(4.0 + np.float64(gc) - np.float64(rc))
    turn = np.float64(h) / 6.0 + 1.0
    h = f32(turn - 1.0 if turn >= 1.0 else turn)  # fmod(turn, 1), exact for turn in [0, 2)
    return _clip_byte(int(np.float64(h) * 255.0))


@njit(inline="always")
def _turn(r, g, b, shift, sectors, fractions, shares):
    maxc, minc = max(r, max(g, b)), min(r, min(g, b))
    if maxc == minc:  # gray: hue and saturation 0, nothing to turn
        return r, g, b
    spread = f32(maxc - minc)
    hue = (_hue_byte(r, g, b, maxc, minc, spread) + shift) % 256
    sat = _clip_byte(int(np.float64(spread / f32(maxc)) * 255.0))
    if sat == 0:
        return maxc, maxc, maxc
    frac, fs = fractions[hue], shares[sat]
    one, value = f32(1.0), f32(maxc)
    p = _clip_byte(math.floor(value * (one - fs) + f32(0.5)))
    q = _clip_byte(math.floor(value * (one - fs * frac) + f32(0.5)))
    t = _clip_byte(math.floor(value * (one - fs * (one - frac)) + f32(0.5)))
    k = sectors[hue]
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
def _turn_all(pixels, shifts, out, sectors, fractions, shares):
    """``pixels`` and ``out`` (N, P, C) interleaved, C >= 3 (a 4th channel copied)."""
    for n in range(pixels.shape[0]):
        shift = shifts[n]
        for i in range(pixels.shape[1]):
            r, g, b = _turn(np.int64(pixels[n, i, 0]), np.int64(pixels[n, i, 1]),
                            np.int64(pixels[n, i, 2]), shift, sectors, fractions, shares)
            out[n, i, 0], out[n, i, 1], out[n, i, 2] = r, g, b
            for c in range(3, pixels.shape[2]):
                out[n, i, c] = pixels[n, i, c]


def turn_hue_uint8(nhwc: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Each sample of a uint8 (N, H, W, C) batch, C 3 or 4, with its hue byte moved by its
    ``shifts`` (0-255, wrapping); a new array."""
    source = np.ascontiguousarray(nhwc)
    pixels = source.reshape(source.shape[0], -1, source.shape[-1])
    out = np.empty_like(pixels)
    _turn_all(pixels, np.asarray(shifts, dtype=np.int64), out, _SECTORS, _FRACTIONS,
              _SHARES)
    return out.reshape(source.shape)
