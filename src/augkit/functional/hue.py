"""``adjust_hue``: torchvision's PIL path, bit-identical on uint8 RGB.

torchvision shifts the hue of a PIL image by converting it to Pillow's HSV, adding
``int8(hue_factor * 255)`` to the hue byte (wrapping around) and converting back. Pillow's
two conversions are reproduced here with its float32 / float64 steps; both equal Pillow's on
all 16,777,216 inputs. Grayscale images come back unchanged (as in torchvision); RGBA keeps
its alpha. Float images follow torchvision's tensor formula (hue turned in [0, 1)).

>>> import numpy as np
>>> from augkit.functional import adjust_hue
>>> adjust_hue(np.array([[[255, 0, 0]]], np.uint8), 1 / 3).tolist()
[[[0, 255, 0]]]
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch

from augkit.functional import _layout_cpu, dispatch
from augkit.functional._hue_cpu import turn_hue_planes
from augkit.functional.geometry import per_sample

Image = TypeVar("Image")
f32 = np.float32


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("HSV")`` of uint8 (..., 3) RGB."""
    r, g, b = (rgb[..., i].astype(np.int64) for i in range(3))
    maxc, minc = np.maximum(r, np.maximum(g, b)), np.minimum(r, np.minimum(g, b))
    spread = (maxc - minc).astype(f32)
    safe = np.where(spread == 0, f32(1), spread)
    s = spread / np.where(maxc == 0, 1, maxc).astype(f32)
    rc, gc, bc = ((maxc - c).astype(f32) / safe for c in (r, g, b))
    d = np.float64
    h = np.where(r == maxc, (bc - gc).astype(d),
                 np.where(g == maxc, 2.0 + rc.astype(d) - bc.astype(d),
                          4.0 + gc.astype(d) - rc.astype(d))).astype(f32)
    h = np.fmod(h.astype(d) / 6.0 + 1.0, 1.0).astype(f32)
    flat = minc == maxc
    hue = np.where(flat, 0, np.clip((h.astype(d) * 255.0).astype(np.int64), 0, 255))
    sat = np.where(flat, 0, np.clip((s.astype(d) * 255.0).astype(np.int64), 0, 255))
    return np.stack([hue, sat, maxc], axis=-1).astype(np.uint8)


def hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("RGB")`` of uint8 (..., 3) HSV."""
    h, s, v = (hsv[..., i].astype(np.float64) for i in range(3))
    sector = np.floor(h.astype(f32) * 6.0 / 255.0)
    f = (h.astype(f32) * 6.0 / 255.0 - sector).astype(f32)
    fs = (s / 255.0).astype(f32)
    one, value = f32(1), v.astype(f32)
    p, q, t = (np.clip(np.floor(value * x + f32(0.5)), 0, 255).astype(np.int64)
               for x in (one - fs, one - fs * f, one - fs * (one - f)))
    k, vv = sector.astype(np.int64) % 6, v.astype(np.int64)
    red = np.choose(k, [vv, q, p, p, t, vv])
    green = np.choose(k, [t, vv, vv, q, p, p])
    blue = np.choose(k, [p, p, t, vv, vv, q])
    gray = hsv[..., 1] == 0
    out = np.stack([np.where(gray, vv, red), np.where(gray, vv, green),
                    np.where(gray, vv, blue)], axis=-1)
    return out.astype(np.uint8)


def hue_shifts(hue: np.ndarray) -> np.ndarray:
    """torchvision's hue-byte shift of each factor: ``int8(hue * 255)``, as a byte."""
    return np.trunc(hue * 255).astype(np.int8).astype(np.uint8)


def turn_hue_reference(rgb: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """The hue turn through ``rgb_to_hsv`` and ``hsv_to_rgb`` (uint8 (N, ..., 3), a shift per
    sample): the reference the compiled kernel is tested against."""
    hsv = rgb_to_hsv(rgb)
    hsv[..., 0] = hsv[..., 0] + shift.reshape(-1, *[1] * (rgb.ndim - 2))  # wraps around
    return hsv_to_rgb(hsv)


def turn_hue_tensor(rgb: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """``turn_hue_reference`` on a uint8 (N, 3, H, W) tensor on any device, with the same
    float32 / float64 steps, so that a GPU gives Pillow's bytes."""
    f, d, i64 = torch.float32, torch.float64, torch.int64

    def over(x: torch.Tensor, divisor: float) -> torch.Tensor:
        # a tensor divisor: CUDA multiplies by the reciprocal of a plain number instead
        return x / torch.full((), divisor, dtype=x.dtype, device=x.device)

    r, g, b = (rgb[:, c].to(i64) for c in range(3))
    maxc, minc = torch.maximum(r, torch.maximum(g, b)), torch.minimum(r, torch.minimum(g, b))
    flat = minc == maxc
    spread = (maxc - minc).to(f)
    safe = torch.where(flat, 1.0, spread)
    s = spread / torch.where(maxc == 0, 1, maxc).to(f)
    rc, gc, bc = ((maxc - c).to(f) / safe for c in (r, g, b))
    h = torch.where(r == maxc, (bc - gc).to(d),
                    torch.where(g == maxc, 2.0 + rc.to(d) - bc.to(d),
                                4.0 + gc.to(d) - rc.to(d))).to(f)
    h = torch.fmod(over(h.to(d), 6.0) + 1.0, 1.0).to(f)
    hue = torch.where(flat, 0, (h.to(d) * 255.0).to(i64).clamp(0, 255))
    sat = torch.where(flat, 0, (s.to(d) * 255.0).to(i64).clamp(0, 255))
    hue = (hue + shift.to(i64).view(-1, 1, 1)) % 256
    # back to RGB, as hsv_to_rgb
    h32 = hue.to(f)
    sixths = over(h32 * 6.0, 255.0)
    sector = torch.floor(sixths)
    frac = sixths - sector
    fs = over(sat.to(d), 255.0).to(f)
    value = maxc.to(f)
    p, q, t = (torch.floor(value * x + 0.5).clamp(0, 255).to(i64)
               for x in (1.0 - fs, 1.0 - fs * frac, 1.0 - fs * (1.0 - frac)))
    k, v = sector.to(i64) % 6, maxc
    choices = torch.stack([torch.stack(c) for c in (
        (v, q, p, p, t, v), (t, v, v, q, p, p), (p, p, t, v, v, q))])  # (3, 6, N, H, W)
    out = choices.gather(1, k.expand(3, 1, *k.shape)).squeeze(1).movedim(0, 1)
    return torch.where((sat == 0)[:, None], v[:, None], out).to(torch.uint8)


def _hue_uint8(images: np.ndarray, planar: bool, hue: np.ndarray) -> np.ndarray:
    if images.shape[1 if planar else -1] == 1:
        return images.copy()
    out = turn_hue_planes(images if planar else _layout_cpu.planar(images), hue_shifts(hue))
    return out if planar else _layout_cpu.interleaved(out)


def _hue_float(images: torch.Tensor, hue: torch.Tensor) -> torch.Tensor:
    if images.shape[1] == 1:
        return images.clone()
    if images.dtype == torch.uint8:
        shifts = torch.from_numpy(hue_shifts(hue.cpu().numpy())).to(images.device)
        return torch.cat([turn_hue_tensor(images[:, :3], shifts), images[:, 3:]], dim=1)
    rgb = images[:, :3]
    maxc, minc = rgb.amax(dim=1), rgb.amin(dim=1)
    spread = maxc - minc
    flat = spread == 0
    safe = torch.where(flat, torch.ones_like(spread), spread)
    r, g, b = ((maxc - rgb[:, i]) / safe for i in range(3))
    red, green = rgb[:, 0] == maxc, (rgb[:, 1] == maxc) & (rgb[:, 0] != maxc)
    h = torch.where(red, b - g, torch.where(green, 2.0 + r - b, 4.0 + g - r))
    h = torch.where(flat, torch.zeros_like(h), (h / 6.0 + 1.0) % 1.0)
    h = (h + hue.to(h).view(-1, 1, 1)) % 1.0
    s = torch.where(maxc == 0, torch.zeros_like(maxc), spread / torch.where(
        maxc == 0, torch.ones_like(maxc), maxc))
    h6 = h * 6
    sector = torch.floor(h6).long() % 6
    f = h6 - torch.floor(h6)
    p, q, t = maxc * (1 - s), maxc * (1 - s * f), maxc * (1 - s * (1 - f))
    table = torch.stack([torch.stack(c, 1) for c in (
        (maxc, t, p), (q, maxc, p), (p, maxc, t), (p, q, maxc), (t, p, maxc), (maxc, p, q))], 1)
    out = table.gather(1, sector[:, None, None].expand(-1, 1, 3, -1, -1)).squeeze(1)
    return torch.cat([out.clamp(0, 1), images[:, 3:]], dim=1)


def adjust_hue(img: Image, hue_factor: Any) -> Image:
    """torchvision's ``adjust_hue``: turn the hue by ``hue_factor`` (in [-0.5, 0.5], per
    sample) of a full turn; bit-identical to torchvision's PIL path on uint8."""
    factors = per_sample(hue_factor, dispatch.batch_size(img), "hue_factor", low=-0.5, high=0.5)
    return dispatch.apply(img, {"hue": factors}, _hue_float, _hue_uint8,
                          channels=dispatch.SUPPORTED_CHANNELS, op="adjust_hue",
                          unit_range=True)


__all__ = ["adjust_hue", "hsv_to_rgb", "hue_shifts", "rgb_to_hsv", "turn_hue_reference",
           "turn_hue_tensor"]
