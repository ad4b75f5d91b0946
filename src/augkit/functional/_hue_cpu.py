"""A compiled copy of ``hue.rgb_to_hsv`` / ``hsv_to_rgb`` with the hue byte shifted in between:
torchvision's PIL path for a hue turn, in the same float32 / float64 steps as the numpy
reference (which equals Pillow on every colour).

The loop over a plane's pixels has no branches: every case of the conversion is computed and
one is chosen, so the loop vectorizes (a 224x224 RGB image: 0.75 ms a pixel at a time with
branches, 0.19 ms this way).
"""

from __future__ import annotations

import numpy as np
from numba import njit

f32, f64 = np.float32, np.float64


@njit(inline="always")
def _byte(value):
    return min(max(value, 0), 255)


@njit(cache=True, nogil=True, error_model="numpy")  # gray pixels divide 0 by 0, unused
def _turn_planes(red, green, blue, out_red, out_green, out_blue, shift):
    one = f32(1.0)
    for i in range(red.shape[0]):
        r, g, b = np.int32(red[i]), np.int32(green[i]), np.int32(blue[i])
        maxc, minc = max(r, max(g, b)), min(r, min(g, b))
        spread = f32(maxc - minc)
        # Pillow's hue: of (maxc - c) / spread for the three channels the largest's is 0 and
        # the smallest's exactly 1, so only the middle channel's share is divided
        r_max, g_max, b_min, g_min = r == maxc, g == maxc, b == minc, g == minc
        other = (g if b_min else b) if r_max else (
            (r if b_min else b) if g_max else (r if g_min else g))
        middle = f32(maxc - other) / spread
        # bc - gc in float32; the others as float32 of float64 sums, which are exact here
        # (middle is a float32 in [0, 1]), so one float32 operation rounds them the same
        h_red = (one - middle) if b_min else (middle - one)
        h_green = (one + middle) if b_min else (f32(3.0) - middle)
        h_blue = (f32(5.0) - middle) if g_min else (f32(3.0) + middle)
        h = h_red if r_max else (h_green if g_max else h_blue)
        turn = f64(h) / 6.0 + 1.0
        h = f32(turn - 1.0 if turn >= 1.0 else turn)  # fmod(turn, 1), exact for [0, 2)
        hue = (_byte(np.int32(f64(h) * 255.0)) + shift) & 255
        sat = _byte(np.int32(f64(spread / f32(maxc)) * 255.0))
        # back to RGB, as hsv_to_rgb
        sixths = f32(hue) * f32(6.0) / f32(255.0)
        sector = np.floor(sixths)
        frac, fs, value = f32(sixths - sector), f32(sat / 255.0), f32(maxc)
        p = _byte(np.int32(np.floor(value * (one - fs) + f32(0.5))))
        q = _byte(np.int32(np.floor(value * (one - fs * frac) + f32(0.5))))
        t = _byte(np.int32(np.floor(value * (one - fs * (one - frac)) + f32(0.5))))
        k = np.int32(sector) % 6
        turned_r = maxc if (k == 0 or k == 5) else (q if k == 1 else (p if k <= 3 else t))
        turned_g = t if k == 0 else (maxc if k <= 2 else (q if k == 3 else p))
        turned_b = p if k <= 1 else (t if k == 2 else (maxc if k <= 4 else q))
        flat, fade = maxc == minc, sat == 0  # gray stays; no saturation left: gray of maxc
        out_red[i] = r if flat else (maxc if fade else turned_r)
        out_green[i] = g if flat else (maxc if fade else turned_g)
        out_blue[i] = b if flat else (maxc if fade else turned_b)


@njit(cache=True, nogil=True)
def _turn_all(planes, shifts, out):
    for n in range(planes.shape[0]):
        _turn_planes(planes[n, 0], planes[n, 1], planes[n, 2], out[n, 0], out[n, 1],
                     out[n, 2], shifts[n])
        for c in range(3, planes.shape[1]):
            out[n, c] = planes[n, c]


def turn_hue_planes(nchw: np.ndarray, shifts: np.ndarray) -> np.ndarray:
    """Each sample of a planar uint8 (N, C, H, W) batch, C 3 or 4 (the fourth kept), with
    its hue byte moved by its ``shifts`` (0-255, wrapping); a new array."""
    source = np.ascontiguousarray(nchw)
    planes = source.reshape(*source.shape[:2], -1)
    out = np.empty_like(planes)
    _turn_all(planes, np.asarray(shifts, dtype=np.int32), out)
    return out.reshape(source.shape)
