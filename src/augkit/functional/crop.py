"""Crops, centre crops and padding (torchvision's ``crop``, ``center_crop`` and ``pad``), and
``normalize`` and ``to_dtype``; exact on every dtype, by indexing.

A crop reaching beyond the image takes ``fill`` there, as Pillow's ``Image.crop`` (and
torchvision) do. Padding modes are torchvision's: ``constant`` (``fill``), ``edge``,
``reflect`` (without repeating the edge) and ``symmetric`` (repeating it).

>>> import torch
>>> from augkit.functional import pad
>>> pad(torch.tensor([[[1, 2, 3]]]), [2, 0], padding_mode="reflect").tolist()
[[[3, 2, 1, 2, 3, 2, 1]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import dispatch
from augkit.functional._crop_cpu import index_runs
from augkit.functional.geometry import _check_size, _dtype, _fill_values, hflip, per_sample, vflip

Image = TypeVar("Image")
PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def source_indices(positions: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Input indices for output ``positions`` (input coordinates, may be out of range) under
    a padding ``mode``; -1 where ``constant`` padding fills."""
    if mode == "constant":
        return np.where((positions >= 0) & (positions < size), positions, -1)
    if mode == "edge" or size == 1:
        return np.clip(positions, 0, size - 1)
    if mode == "reflect":
        period = 2 * (size - 1)
        folded = np.mod(positions, period)
        return np.where(folded < size, folded, period - folded)
    period = 2 * size
    folded = np.mod(positions, period)
    return np.where(folded < size, folded, period - 1 - folded)


def remap(batch: torch.Tensor, rows: np.ndarray, cols: np.ndarray, fill: torch.Tensor
          ) -> torch.Tensor:
    """``batch[n, :, rows[n], cols[n]]`` for (N, out_h) and (N, out_w) indices; -1 takes
    ``fill`` (one value per channel)."""
    n, channels = batch.shape[:2]
    row_runs = _runs(rows) if batch.device.type == "cpu" else None
    col_runs = None if row_runs is None else _runs(cols)
    if row_runs is not None and col_runs is not None:
        # a window, with fill around where it passes the image: a slice copy each (indexing
        # copies element by element on the CPU: 250 us for a 150x150 RGB window, a slice 10)
        out = batch.new_empty((n, channels, rows.shape[1], cols.shape[1]))
        if (row_runs[:, 2] < rows.shape[1]).any() or (col_runs[:, 2] < cols.shape[1]).any():
            out[...] = fill.to(batch.dtype).view(1, channels, 1, 1)
        for i, ((y, top, h), (x, left, w)) in enumerate(zip(row_runs.tolist(),
                                                            col_runs.tolist(), strict=True)):
            out[i, :, y:y + h, x:x + w] = batch[i, :, top:top + h, left:left + w]
        return out
    return gather_windows(batch, rows, cols, fill)


def gather_windows(batch: torch.Tensor, rows: np.ndarray, cols: np.ndarray,
                   fill: torch.Tensor) -> torch.Tensor:
    """``remap`` by indexing: any indices, any device (one gather, where the CPU's windows
    copy slices)."""
    n, channels = batch.shape[:2]
    device = batch.device
    r = torch.as_tensor(rows, device=device, dtype=torch.long)
    c = torch.as_tensor(cols, device=device, dtype=torch.long)
    picked = batch[torch.arange(n, device=device)[:, None, None], :,
                   r.clamp(min=0)[:, :, None], c.clamp(min=0)[:, None, :]]
    out = picked.permute(0, 3, 1, 2)
    outside = ((r < 0)[:, :, None] | (c < 0)[:, None, :])[:, None]
    if bool(outside.any()):
        out = torch.where(outside, fill.to(device, batch.dtype).view(1, channels, 1, 1), out)
    return out.contiguous()


def _runs(indices: np.ndarray) -> np.ndarray | None:
    """``_crop_cpu.index_runs``: (N, 3) rows of (first output, first source, length) when
    every row of (N, k) source indices is one window with fill around it, else ``None``."""
    indices = np.ascontiguousarray(indices, np.int64)
    runs = np.empty((indices.shape[0], 3), np.int64)
    return runs if index_runs(indices, runs) else None


def windows(top: Any, left: Any, size: tuple[int, int], batch: int | None,
            in_size: tuple[int, int], mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Row and column source indices of per-sample windows of ``size`` at ``(top, left)``."""
    tops = per_sample(top, batch, "top").round().astype(np.int64)
    lefts = per_sample(left, batch, "left").round().astype(np.int64)
    rows = source_indices(tops[:, None] + np.arange(size[0]), in_size[0], mode)
    cols = source_indices(lefts[:, None] + np.arange(size[1]), in_size[1], mode)
    return rows, cols


def remap_image(img: Any, rows: np.ndarray, cols: np.ndarray, fill: Any) -> Any:
    """``remap`` on any image kind, with per-sample (N, out_h) rows and (N, out_w) columns."""
    fills = _fill_values(fill, dispatch.num_channels(img), _dtype(img))

    return dispatch.apply(img, {}, lambda images: remap(images, rows, cols, fills))


def crop(img: Image, top: Any, left: Any, height: int, width: int, fill: Any = 0) -> Image:
    """The window ``(top, left, height, width)`` in whole pixels (top and left per sample);
    beyond the image, ``fill``."""
    size = _check_size(tuple(int(v) if isinstance(v, np.integer) else v
                             for v in (height, width)))
    rows, cols = windows(top, left, size, dispatch.batch_size(img), dispatch.image_size(img),
                          "constant")
    return remap_image(img, rows, cols, fill)


def center_crop_box(in_size: tuple[int, int], size: Any) -> tuple[int, int, int, int]:
    """torchvision's centre-crop window ``(top, left, height, width)``."""
    out_h, out_w = _check_size(size)
    return (round((in_size[0] - out_h) / 2.0), round((in_size[1] - out_w) / 2.0), out_h, out_w)


def center_crop(img: Image, output_size: int | Sequence[int]) -> Image:
    """torchvision's ``center_crop``: the middle ``output_size`` window (padded with 0 when
    larger than the image)."""
    top, left, height, width = center_crop_box(dispatch.image_size(img), output_size)
    return crop(img, top, left, height, width)


def five_crop(img: Image, size: int | Sequence[int]) -> tuple[Image, Image, Image, Image, Image]:
    """torchvision's ``five_crop``: the four corner windows of ``size`` and the centre one, as
    ``(top_left, top_right, bottom_left, bottom_right, centre)``."""
    out_h, out_w = _check_size(size)
    height, width = dispatch.image_size(img)
    if out_h > height or out_w > width:
        raise AugkitError(f"size: ({out_h}, {out_w}) is larger than the {height}x{width} image")
    corners = [(0, 0), (0, width - out_w), (height - out_h, 0), (height - out_h, width - out_w)]
    return (*(crop(img, top, left, out_h, out_w) for top, left in corners),
            center_crop(img, (out_h, out_w)))


def ten_crop(img: Image, size: int | Sequence[int], vertical_flip: bool = False
             ) -> tuple[Image, ...]:
    """torchvision's ``ten_crop``: ``five_crop`` of the image, then of its horizontal (or, with
    ``vertical_flip``, vertical) mirror."""
    if not isinstance(vertical_flip, bool):
        raise AugkitError(f"vertical_flip: {vertical_flip!r} is not allowed; expected a bool")
    mirrored = vflip(img) if vertical_flip else hflip(img)
    return five_crop(img, size) + five_crop(mirrored, size)


def check_padding(padding: Any) -> tuple[int, int, int, int]:
    """torchvision's padding: one int for all sides, ``(left/right, top/bottom)`` or
    ``(left, top, right, bottom)``, as ``(left, top, right, bottom)``."""
    values = [padding] if isinstance(padding, int) else padding
    if (isinstance(padding, bool) or not isinstance(values, (list, tuple))
            or len(values) not in (1, 2, 4)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                       for v in values)):
        raise AugkitError(f"padding: {padding!r} is not allowed; expected an int >= 0, "
                          "(left/right, top/bottom) or (left, top, right, bottom)")
    if len(values) == 1:
        return (values[0],) * 4
    if len(values) == 2:
        return values[0], values[1], values[0], values[1]
    return tuple(values)


def check_padding_mode(mode: Any) -> str:
    if mode not in PADDING_MODES:
        raise AugkitError(f"padding_mode: {mode!r} is not allowed; expected one of "
                          f"{', '.join(PADDING_MODES)}")
    return mode


def pad(img: Image, padding: Any, fill: Any = 0, padding_mode: str = "constant") -> Image:
    """torchvision's ``pad``; ``reflect`` needs the padding smaller than the image side."""
    left, top, right, bottom = check_padding(padding)
    mode = check_padding_mode(padding_mode)
    height, width = dispatch.image_size(img)
    if mode == "reflect" and (max(left, right) >= width or max(top, bottom) >= height):
        raise AugkitError(f"padding: {padding!r} is too large for reflect padding of a "
                          f"{width}x{height} image; expected less than the side")
    size = (height + top + bottom, width + left + right)
    rows, cols = windows(-top, -left, size, dispatch.batch_size(img), (height, width), mode)
    return remap_image(img, rows, cols, fill)


def normalize(img: Any, mean: Sequence[float], std: Sequence[float]) -> Any:
    """torchvision's ``normalize``: ``(x - mean) / std`` per channel, on float tensors or
    arrays (the result leaves [0, 1], so the photometric ops refuse it afterwards)."""
    if isinstance(img, torch.Tensor) and img.dtype.is_floating_point:
        values = img
    elif isinstance(img, np.ndarray) and np.issubdtype(img.dtype, np.floating):
        values = torch.from_numpy(img)
    else:
        raise AugkitTypeError("img: normalize takes float images; convert first, e.g. "
                              "ToDtype(torch.float32, scale=True)")
    channels = dispatch.num_channels(img)
    mean_, std_ = (np.broadcast_to(np.asarray(v, np.float64).reshape(-1), (channels,)).copy()
                   if np.size(v) in (1, channels) else None for v in (mean, std))
    if mean_ is None or std_ is None or not np.all(std_ > 0):
        raise AugkitError(f"mean, std: expected 1 or {channels} values each, std > 0; got "
                          f"{mean!r}, {std!r}")
    if isinstance(img, np.ndarray):  # channels last
        return ((values.numpy() - mean_) / std_).astype(img.dtype)
    shape = (-1, 1, 1)
    m = torch.as_tensor(mean_, dtype=img.dtype, device=img.device).view(shape)
    s = torch.as_tensor(std_, dtype=img.dtype, device=img.device).view(shape)
    return (img - m) / s


def linear_transformation(img: Any, transformation_matrix: torch.Tensor,
                          mean_vector: torch.Tensor) -> Any:
    """torchvision's ``LinearTransformation`` (e.g. ZCA whitening) on float tensors: each
    image flattened to ``D = C * H * W`` values, ``mean_vector`` subtracted, times the ``(D,
    D)`` ``transformation_matrix``."""
    if not isinstance(img, torch.Tensor) or not img.dtype.is_floating_point:
        kind = type(img).__name__ if not isinstance(img, torch.Tensor) else str(img.dtype)
        raise AugkitTypeError(f"img: LinearTransformation takes float tensors, got {kind}")
    size = transformation_matrix.shape[0]
    if img.ndim < 3 or math.prod(img.shape[-3:]) != size:
        raise AugkitError(f"img: shape {tuple(img.shape)} does not fit the {size} x {size} "
                          f"transformation_matrix; expected C * H * W = {size}")
    flat = img.reshape(-1, size) - mean_vector.to(img.device, img.dtype)
    return (flat @ transformation_matrix.to(img.device, img.dtype)).reshape(img.shape)


def to_dtype(img: Any, dtype: torch.dtype, scale: bool = False) -> Any:
    """torchvision's ``to_dtype`` on tensors: a cast; with ``scale``, uint8 0-255 <-> float
    0-1 (float to uint8 as torchvision does: ``x * (256 - 1e-3)``, truncated)."""
    if not isinstance(img, torch.Tensor):
        raise AugkitTypeError(f"img: to_dtype takes tensors, got {type(img).__name__}")
    if not scale or img.dtype.is_floating_point == dtype.is_floating_point:
        return img.to(dtype)
    if dtype.is_floating_point:
        return img.to(dtype) / 255.0
    if dtype != torch.uint8:
        raise AugkitError(f"dtype: scaling to {dtype} is not supported; expected torch.uint8 "
                          "or a float dtype")
    return (img * (256.0 - 1e-3)).to(torch.uint8)


__all__ = ["PADDING_MODES", "center_crop", "center_crop_box", "check_padding",
           "check_padding_mode", "crop", "five_crop", "gather_windows", "linear_transformation",
           "normalize", "pad", "remap", "remap_image", "source_indices", "ten_crop", "to_dtype",
           "windows"]
