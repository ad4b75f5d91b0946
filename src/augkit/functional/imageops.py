"""Pillow's ``ImageOps`` look-up-table ops on every image kind, bit-identical to Pillow on uint8.

``invert``, ``posterize``, ``solarize``, ``equalize``, ``autocontrast`` and ``grayscale``
build, per sample and channel, the 256-entry table Pillow builds (from the parameters, or
from the channel's histogram) and look every pixel up in it; parameters may be per sample.
Pillow refuses RGBA for these ops; augkit applies them to the colour channels and leaves
alpha as it is. Float images follow torchvision's tensor formulas instead (``invert``,
``solarize``, ``autocontrast``, ``grayscale``); ``posterize`` and ``equalize`` take uint8 only,
as in torchvision.

>>> import torch
>>> from augkit.functional import posterize
>>> posterize(torch.tensor([[[0, 100, 255]]], dtype=torch.uint8), bits=2).tolist()
[[[0, 64, 192]]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import _layout_cpu, dispatch
from augkit.functional._lut_cpu import INVERT, MASK, SOLARIZE, histograms, look_up, luma, point
from augkit.functional.geometry import per_sample

Image = TypeVar("Image")
LutMaker = Callable[..., np.ndarray]  # (histograms (N, C, 256) or None, **params) -> (N, C, 256)

_IDENTITY = np.arange(256, dtype=np.int64)


# ---- applying tables ----------------------------------------------------------------------


def _colour(images: np.ndarray) -> np.ndarray:
    """The channels the ops change: all but an alpha channel (RGBA's fourth)."""
    return images[:, :3] if images.shape[1] == 4 else images


def _gray_planes(colour: np.ndarray) -> np.ndarray:
    """Pillow's ``convert("L")`` of (N, 3, H, W) uint8 planes, as (N, 1, H, W)."""
    if colour.shape[1] == 1:
        return colour
    r, g, b = (colour[:, i:i + 1].astype(np.int32) for i in range(3))
    return ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16).astype(np.uint8)


def _uint8_kernel(make: LutMaker, histogram: str | None,
                  computed: Callable[..., tuple[int, np.ndarray]] | None = None
                  ) -> Callable[..., np.ndarray]:
    """``histogram``: None (tables from the parameters alone), "channels" (one per
    channel) or "gray" (one from the grayscale image, for every channel). ``computed``:
    for a table that is arithmetic, the ``_lut_cpu.point`` kind and per-sample settings
    from the parameters, to compute the values (any layout without alpha) instead."""
    def kernel(images: np.ndarray, planar: bool, **params: np.ndarray) -> np.ndarray:
        if computed is not None and (planar or images.shape[-1] != 4):
            kind, settings = computed(**params)
            if not planar or images.shape[1] != 4:  # every value is a colour value
                return point(images, kind, settings)
            return np.concatenate([point(images[:, :3], kind, settings), images[:, 3:]], 1)
        batch = images if planar else _layout_cpu.planar(images)
        colour = _colour(batch)
        counts = None if histogram is None else histograms(
            _gray_planes(colour) if histogram == "gray" else colour)
        looked = look_up(colour, make(counts, colour.shape, **params))
        out = looked if colour.shape[1] == batch.shape[1] else np.concatenate(
            [looked, batch[:, 3:]], axis=1)  # alpha stays as it is
        return out if planar else _layout_cpu.interleaved(out)
    return kernel


def _tensor_kernel(make: LutMaker, histogram: str | None, float_op: Callable | None,
                   op: str) -> Callable[..., torch.Tensor]:
    """uint8 on any device through the same tables; floats through ``float_op``."""
    def kernel(images: torch.Tensor, **params: torch.Tensor) -> torch.Tensor:
        if images.dtype != torch.uint8:
            if float_op is None:
                raise AugkitTypeError(f"img: {op} takes uint8 images (as in torchvision), got "
                                      f"{images.dtype}")
            return float_op(images, **params)
        colour = images[:, :3] if images.shape[1] == 4 else images
        histograms = None if histogram is None else _torch_histograms(
            grayscale(colour) if histogram == "gray" else colour)
        numpy_params = {k: v.cpu().numpy() for k, v in params.items()}
        luts = torch.from_numpy(make(histograms, tuple(colour.shape), **numpy_params)
                                .astype(np.uint8)).to(images.device)
        n, c = colour.shape[:2]
        flat = colour.reshape(n * c, -1).long()
        looked = luts.reshape(n * c, 256).gather(1, flat).view(colour.shape)
        out = images.clone()
        out[:, :c] = looked
        return out
    return kernel


def _torch_histograms(planes: torch.Tensor) -> np.ndarray:
    n, c = planes.shape[:2]
    rows = torch.arange(n * c, device=planes.device).view(n, c, 1, 1) * 256
    counts = torch.bincount((rows + planes.long()).reshape(-1), minlength=n * c * 256)
    return counts.view(n, c, 256).cpu().numpy()


def _apply(img: Any, params: dict[str, np.ndarray], make: LutMaker, histogram: str | None,
           float_op: Callable | None, op: str,
           computed: Callable[..., tuple[int, np.ndarray]] | None = None) -> Any:
    return dispatch.apply(img, params, _tensor_kernel(make, histogram, float_op, op),
                          _uint8_kernel(make, histogram, computed),
                          channels=dispatch.SUPPORTED_CHANNELS, op=op, unit_range=True)


def _per_channel(table: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """(N, 256) tables repeated over the channels: (N, C, 256)."""
    return np.repeat(table[:, None, :], shape[1], axis=1)


# ---- the ops --------------------------------------------------------------------------------


def invert(img: Image) -> Image:
    """``ImageOps.invert``: ``255 - x`` (floats: ``1 - x``)."""
    def make(_: Any, shape: Sequence[int]) -> np.ndarray:
        return _per_channel(np.tile(255 - _IDENTITY, (shape[0], 1)), shape)

    return _apply(img, {}, make, None, lambda x: 1.0 - x, "invert",
                  lambda: (INVERT, np.zeros(dispatch.batch_size(img) or 1, np.int64)))


def posterize(img: Image, bits: Any) -> Image:
    """``ImageOps.posterize``: keep the top ``bits`` (0-8, per sample) of each value; 0, which
    Pillow refuses, gives zeros as torchvision's does."""
    batch = dispatch.batch_size(img)
    bits_ = per_sample(bits, batch, "bits", low=0, high=8)
    if not np.array_equal(bits_, np.round(bits_)):
        raise AugkitError(f"bits: {bits!r} is not allowed; expected whole numbers 0 to 8")

    def masks(bits: np.ndarray) -> np.ndarray:
        return ~(2 ** (8 - bits.astype(np.int64)) - 1) & 255

    def make(_: Any, shape: Sequence[int], bits: np.ndarray) -> np.ndarray:
        return _per_channel(_IDENTITY[None, :] & masks(bits)[:, None], shape)

    return _apply(img, {"bits": bits_}, make, None, None, "posterize",
                  lambda bits: (MASK, masks(bits)))


def solarize(img: Image, threshold: Any) -> Image:
    """``ImageOps.solarize``: invert the values at or above ``threshold`` (per sample; 0-255
    for uint8, 0-1 for floats)."""
    batch = dispatch.batch_size(img)
    high = 255.0 if _is_uint8(img) else 1.0
    thresholds = per_sample(threshold, batch, "threshold", low=0.0, high=high + 1.0)

    def make(_: Any, shape: Sequence[int], threshold: np.ndarray) -> np.ndarray:
        table = np.where(_IDENTITY[None, :] < threshold[:, None], _IDENTITY, 255 - _IDENTITY)
        return _per_channel(table, shape)

    def floats(x: torch.Tensor, threshold: torch.Tensor) -> torch.Tensor:
        t = threshold.to(x.dtype).view(-1, 1, 1, 1)
        return torch.where(x >= t, 1.0 - x, x)

    def whole_thresholds(threshold: np.ndarray) -> tuple[int, np.ndarray]:
        return SOLARIZE, np.ceil(threshold).astype(np.int64)  # x >= t for whole x

    return _apply(img, {"threshold": thresholds}, make, None, floats, "solarize",
                  whole_thresholds)


def _is_uint8(img: Any) -> bool:
    dtype = getattr(img, "dtype", None)
    return dtype is None or dtype in (np.uint8, torch.uint8)  # PIL images are uint8


def _equalize_tables(histograms: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Pillow's equalize table per channel: cumulative counts in steps of
    ``(total - count of the last value present) // 255``, identity when that is 0."""
    counts = histograms.astype(np.int64)
    present = counts > 0
    last = 255 - np.argmax(present[..., ::-1], axis=-1)
    last_count = np.take_along_axis(counts, last[..., None], axis=-1)[..., 0]
    step = (counts.sum(-1) - last_count) // 255
    before = np.cumsum(counts, axis=-1) - counts
    safe = np.maximum(step, 1)[..., None]
    tables = np.minimum((safe // 2 + before) // safe, 255)
    identity = (present.sum(-1) <= 1) | (step == 0)
    return np.where(identity[..., None], _IDENTITY, tables)


def equalize(img: Image) -> Image:
    """``ImageOps.equalize``: a histogram equalisation per channel (uint8 only)."""
    return _apply(img, {}, _equalize_tables, "channels", None, "equalize")


def _cut(counts: np.ndarray, cut: np.ndarray) -> np.ndarray:
    """``counts`` with ``cut`` values removed from the low end, as Pillow's loop does."""
    cumulative = np.cumsum(counts, axis=-1)
    return np.minimum(counts, np.maximum(0, cumulative - cut[..., None]))


def _autocontrast_tables(histograms: np.ndarray, shape: Sequence[int],
                         cutoff: tuple[float, float], ignore: Sequence[int]) -> np.ndarray:
    counts = histograms.astype(np.int64).copy()
    counts[..., list(ignore)] = 0
    if cutoff[0] or cutoff[1]:
        total = counts.sum(-1).astype(np.float64)
        low = np.floor_divide(total * cutoff[0], 100).astype(np.int64)
        high = np.floor_divide(total * cutoff[1], 100).astype(np.int64)
        counts = _cut(counts, low)
        counts = _cut(counts[..., ::-1], high)[..., ::-1]
    present = counts > 0
    lo = np.where(present.any(-1), np.argmax(present, axis=-1), 255)
    hi = np.where(present.any(-1), 255 - np.argmax(present[..., ::-1], axis=-1), 0)
    spread = np.maximum(hi - lo, 1).astype(np.float64)[..., None]
    scale = 255.0 / spread
    offset = -lo[..., None] * scale
    tables = np.clip(np.trunc(_IDENTITY * scale + offset), 0, 255).astype(np.int64)
    return np.where((hi <= lo)[..., None], _IDENTITY, tables)


def autocontrast(img: Image, cutoff: float | tuple[float, float] = 0,
                 ignore: int | Sequence[int] | None = None, preserve_tone: bool = False
                 ) -> Image:
    """``ImageOps.autocontrast``: stretch each channel so its darkest value becomes 0 and its
    lightest 255, after removing ``cutoff`` percent at each end and the ``ignore`` values;
    ``preserve_tone`` takes one table from the grayscale histogram. Floats follow
    torchvision's ``autocontrast`` (min-max per channel; ``cutoff`` and the rest unused)."""
    low, high = cutoff if isinstance(cutoff, (tuple, list)) else (cutoff, cutoff)
    for value in (low, high):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 50:
            raise AugkitError(f"cutoff: {cutoff!r} is not allowed; expected percentages in "
                              "[0, 50)")
    ignored = [] if ignore is None else [ignore] if isinstance(ignore, int) else list(ignore)
    if not all(isinstance(v, int) and 0 <= v <= 255 for v in ignored):
        raise AugkitError(f"ignore: {ignore!r} is not allowed; expected values 0 to 255")

    def make(histograms: np.ndarray, shape: Sequence[int]) -> np.ndarray:
        tables = _autocontrast_tables(histograms, shape, (low, high), ignored)
        return np.repeat(tables, shape[1], axis=1) if tables.shape[1] != shape[1] else tables

    histogram = "gray" if preserve_tone else "channels"
    return _apply(img, {}, make, histogram, _autocontrast_floats, "autocontrast")


def _autocontrast_floats(x: torch.Tensor) -> torch.Tensor:
    low = x.amin(dim=(-2, -1), keepdim=True)
    high = x.amax(dim=(-2, -1), keepdim=True)
    flat = high <= low
    scale = torch.where(flat, torch.ones_like(high), 1.0 / torch.where(flat, 1.0, high - low))
    return torch.where(flat, x, ((x - low) * scale).clamp(0, 1))


def grayscale(img: Image, num_output_channels: int = 1) -> Image:
    """``Image.convert("L")``: ``(19595 R + 38470 G + 7471 B + 32768) >> 16`` on uint8;
    floats use torchvision's weights (0.2989, 0.587, 0.114). ``num_output_channels`` 1 or 3."""
    if num_output_channels not in (1, 3):
        raise AugkitError(f"num_output_channels: {num_output_channels!r} is not allowed; "
                          "expected 1 or 3")
    def tensors(images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            gray = images
        elif images.dtype == torch.uint8:
            r, g, b = (images[:, i:i + 1].to(torch.int32) for i in range(3))
            gray = ((19595 * r + 38470 * g + 7471 * b + 32768) >> 16).to(torch.uint8)
        else:
            gray = 0.2989 * images[:, :1] + 0.587 * images[:, 1:2] + 0.114 * images[:, 2:3]
        return gray.expand(-1, num_output_channels, -1, -1).contiguous()

    def uint8(images: np.ndarray, planar: bool) -> np.ndarray:
        axis = 1 if planar else 3
        gray = images.copy() if images.shape[axis] == 1 else np.expand_dims(luma(images, planar),
                                                                         axis)
        return gray if num_output_channels == 1 else np.repeat(gray, 3, axis=axis)

    return dispatch.apply(img, {}, tensors, uint8, channels=dispatch.SUPPORTED_CHANNELS,
                          op="grayscale", unit_range=True)


__all__ = ["autocontrast", "equalize", "grayscale", "invert", "posterize", "solarize"]
