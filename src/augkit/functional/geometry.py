"""Geometric kernels: flips, affine warps, resized crops and erasing, per-sample parameters.

Coordinates put pixel centres on integers (0 .. W-1); the centre of an image is
``((W - 1) / 2, (H - 1) / 2)``. Sampling positions are computed in float64 and snapped to
integers within 1e-9, so an identity warp returns the input unchanged, a 90-degree rotation
of a square image equals ``rot90`` and an integer translation equals a shifted copy, with
every interpolation (bicubic included: its weights are then exactly 0, 1, 0, 0). uint8 results
are rounded to the nearest level.

>>> import torch
>>> from augkit.functional import affine
>>> img = torch.arange(9, dtype=torch.uint8).view(1, 3, 3)
>>> affine(img, angle=90).tolist()
[[[6, 3, 0], [7, 4, 1], [8, 5, 2]]]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from enum import Enum
from functools import partial
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import _layout_cpu, dispatch
from augkit.functional._warp_cpu import CUBIC_A, pillow_nearest_uint8, warp_uint8
from augkit.functional.pillow_sampling import affine_sources_batch, gather

Image = TypeVar("Image")
INTERPOLATIONS = ("nearest", "bilinear", "bicubic")
#: a name from INTERPOLATIONS in any case, or an object whose ``.value`` is one
#: (torchvision's ``InterpolationMode``, say)
Interpolation = str | Enum
Values = float | Sequence[float] | np.ndarray | torch.Tensor


def _plain_number(value: Any) -> float | None:
    """``value`` as a finite float when it is a plain Python int or float; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def per_sample(value: Any, batch: int | None, name: str, width: int = 1,
               low: float = -math.inf, high: float = math.inf) -> np.ndarray:
    """``value`` as a float64 array ``(N, width)`` (or ``(N,)`` for width 1), checked to be
    finite and within ``[low, high]``; a single value (or ``width`` values) is repeated."""
    n = 1 if batch is None else batch
    number = _plain_number(value)
    if width == 1 and number is not None and low <= number <= high:
        values = np.empty(n)  # the common case, without numpy's checks (a third of np.full's
        values.fill(number)  # time)
        return values
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AugkitTypeError(f"{name}: expected numbers, got {value!r:.60}") from None
    except OverflowError:
        raise AugkitError(f"{name}: {value!r:.40} is too large; expected finite values in "
                          f"[{low}, {high}]") from None
    if arr.size == width:
        arr = np.repeat(arr.reshape(1, width), n, axis=0)
    if arr.size != n * width:
        shape = f"{width} numbers" if width > 1 else "one number"
        raise AugkitError(f"{name}: got {arr.size} values; expected {shape} per image, for "
                          f"{'a single image' if batch is None else f'a batch of {n}'}")
    arr = arr.reshape(n, width)
    bad = arr[~np.isfinite(arr) | (arr < low) | (arr > high)]
    if bad.size:
        raise AugkitError(f"{name}: {bad[0]} is not allowed; expected finite values in "
                          f"[{low}, {high}]")
    return arr[:, 0] if width == 1 else arr


def check_interpolation(value: Any) -> str:
    """``value`` as a lower-case name from ``INTERPOLATIONS``: the name in any case, or an
    object whose ``.value`` is one, e.g. torchvision's ``InterpolationMode.BICUBIC``."""
    name = getattr(value, "value", value)
    if isinstance(name, str) and name.lower() in INTERPOLATIONS:
        return name.lower()
    raise AugkitError(f"interpolation: {value!r} is not allowed; expected one of "
                      f"{', '.join(INTERPOLATIONS)} (any case), or an enum with one as its value")


_check_interpolation = check_interpolation


def _fill_values(fill: Any, channels: int, dtype: torch.dtype) -> torch.Tensor:
    high = 255.0 if dtype == torch.uint8 else 1.0
    number = _plain_number(fill)
    if number is not None and 0 <= number <= high:
        return torch.full((channels,), number, dtype=torch.float64)
    values = per_sample(fill, None, "fill", width=1, low=0.0, high=high) if np.ndim(fill) == 0 \
        else np.asarray(fill, dtype=np.float64).reshape(-1)
    if values.size not in (1, channels) or not np.all((values >= 0) & (values <= high)):
        raise AugkitError(f"fill: {fill!r} is not allowed; expected one value or {channels} "
                          f"values in [0, {high:g}]")
    return torch.as_tensor(np.broadcast_to(values, (channels,)).copy())


def fill_bytes(fill: Any, channels: int) -> np.ndarray:
    """``fill`` as an op takes it for a uint8 image (one value, or one per channel, in [0,
    255]) as ``channels`` bytes, rounded half to even; a plain number's bytes are worked out
    once and copied after that."""
    number = _plain_number(fill)
    if number is not None:
        return _plain_fill_bytes(number, channels).copy()
    return _bytes(_fill_values(fill, channels, torch.uint8))


@functools.lru_cache(maxsize=256)
def _plain_fill_bytes(number: float, channels: int) -> np.ndarray:
    return _bytes(_fill_values(number, channels, torch.uint8))


def _bytes(values: torch.Tensor) -> np.ndarray:
    # a few plain numbers: Python's round is a tenth of numpy's clip-and-round's time here
    return np.array([min(max(round(v), 0), 255) for v in values.tolist()], np.uint8)


# ---- sampling ----------------------------------------------------------------------------


def _snap(coords: torch.Tensor) -> torch.Tensor:
    nearest = coords.round()
    return torch.where((coords - nearest).abs() < 1e-9, nearest, coords)


Gather = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _nearest(gather: Gather, src_x: torch.Tensor, src_y: torch.Tensor,
             work_dtype: torch.dtype) -> torch.Tensor:
    return gather(torch.floor(src_x + 0.5).long(), torch.floor(src_y + 0.5).long())


def _bilinear(gather: Gather, src_x: torch.Tensor, src_y: torch.Tensor,
              work_dtype: torch.dtype) -> torch.Tensor:
    n = src_x.shape[0]
    x0, y0 = torch.floor(src_x), torch.floor(src_y)
    wx = (src_x - x0).view(n, 1, -1).to(work_dtype)
    wy = (src_y - y0).view(n, 1, -1).to(work_dtype)
    x0, y0 = x0.long(), y0.long()
    top = gather(x0, y0) * (1 - wx) + gather(x0 + 1, y0) * wx
    bottom = gather(x0, y0 + 1) * (1 - wx) + gather(x0 + 1, y0 + 1) * wx
    return top * (1 - wy) + bottom * wy


def _cubic_taps(coords: torch.Tensor, work_dtype: torch.dtype
                ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The neighbours ``floor - 1 .. floor + 2`` of each position and their weights (cubic
    convolution, computed in float64 in the order ``_warp_cpu`` uses)."""
    a = CUBIC_A
    first = torch.floor(coords)
    t = coords - first

    def near(d: torch.Tensor) -> torch.Tensor:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: torch.Tensor) -> torch.Tensor:  # 1 <= |d| <= 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    weights = [w.view(coords.shape[0], 1, -1).to(work_dtype)
               for w in (far(t + 1), near(t), near(1 - t), far(2 - t))]
    index = first.long()
    return [index + k for k in (-1, 0, 1, 2)], weights


def _bicubic(gather: Gather, src_x: torch.Tensor, src_y: torch.Tensor,
             work_dtype: torch.dtype) -> torch.Tensor:
    xs, wx = _cubic_taps(src_x, work_dtype)
    ys, wy = _cubic_taps(src_y, work_dtype)
    out = None
    for iy, w_row in zip(ys, wy, strict=True):
        row = gather(xs[0], iy) * wx[0]
        for ix, w in zip(xs[1:], wx[1:], strict=True):
            row = row + gather(ix, iy) * w
        out = row * w_row if out is None else out + row * w_row
    return out


_SAMPLERS = {"nearest": _nearest, "bilinear": _bilinear, "bicubic": _bicubic}


def warp(batch: torch.Tensor, inverse: torch.Tensor, size: tuple[int, int],
         interpolation: Interpolation = "bilinear", fill: Any = 0, border: str = "fill"
         ) -> torch.Tensor:
    """Sample ``batch`` (N, C, H, W) at ``inverse @ (x, y, 1)`` for each output pixel.

    ``inverse`` is (N, 2, 3) float64, mapping output to input coordinates. Neighbours outside
    the input take ``fill`` (``border="fill"``) or the nearest edge pixel (``"edge"``).
    Bicubic is cubic convolution with a = -0.75, as in ``torch.nn.functional.grid_sample``.
    """
    n = batch.shape[0]
    out_h, out_w = size
    device = batch.device
    ys = torch.arange(out_h, dtype=torch.float64, device=device).view(1, out_h, 1)
    xs = torch.arange(out_w, dtype=torch.float64, device=device).view(1, 1, out_w)
    m = inverse.to(device=device, dtype=torch.float64).view(n, 6, 1, 1)
    src_x = _snap(m[:, 0] * xs + m[:, 1] * ys + m[:, 2])
    src_y = _snap(m[:, 3] * xs + m[:, 4] * ys + m[:, 5])
    return sample_at(batch, src_x, src_y, interpolation, fill, border)


def sample_at(batch: torch.Tensor, src_x: torch.Tensor, src_y: torch.Tensor,
              interpolation: Interpolation = "bilinear", fill: Any = 0, border: str = "fill"
              ) -> torch.Tensor:
    """Sample ``batch`` (N, C, H, W) at the input positions ``(src_x, src_y)`` (N, h, w),
    pixel centres at whole numbers; neighbours outside take ``fill`` or (``border="edge"``)
    the nearest edge pixel; uint8 results rounded."""
    sample = _SAMPLERS[check_interpolation(interpolation)]
    n, channels, height, width = batch.shape
    out_h, out_w = src_x.shape[1:]
    device = batch.device
    flat = batch.reshape(n, channels, height * width)
    work_dtype = torch.float32 if batch.dtype == torch.uint8 else batch.dtype
    fill_values = _fill_values(fill, channels, batch.dtype).to(device, work_dtype).view(1, -1, 1)

    def gather(ix: torch.Tensor, iy: torch.Tensor) -> torch.Tensor:
        if border == "edge":
            ix, iy = ix.clamp(0, width - 1), iy.clamp(0, height - 1)
        inside = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
        index = (iy.clamp(0, height - 1) * width + ix.clamp(0, width - 1)).view(n, 1, -1)
        values = flat.gather(2, index.expand(n, channels, -1)).to(work_dtype)
        return torch.where(inside.view(n, 1, -1), values, fill_values)

    out = sample(gather, src_x, src_y, work_dtype).view(n, channels, out_h, out_w)
    if batch.dtype == torch.uint8:
        return out.round_().clamp_(0, 255).to(torch.uint8)
    return out


def _exact_cos_sin(degrees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    radians = np.deg2rad(degrees)
    cos, sin = np.cos(radians), np.sin(radians)
    # cos(90 degrees) is 6e-17 in floating point; make quarter turns exact
    quarter = np.isclose(np.mod(degrees, 90.0), 0.0) | np.isclose(np.mod(degrees, 90.0), 90.0)
    return np.where(quarter, np.round(cos), cos), np.where(quarter, np.round(sin), sin)


def affine_matrices(size: tuple[int, int], angle: np.ndarray, translate: np.ndarray,
                    scale: np.ndarray, shear: np.ndarray,
                    center: Sequence[float] | None = None) -> np.ndarray:
    """Forward 3x3 matrices (N, 3, 3) on pixel centres, torchvision's ``affine`` geometry:
    about ``center`` (torchvision's: pixels from the top-left corner of the image; default
    its middle), rotate clockwise by ``angle`` degrees with ``scale`` and the x / y
    ``shear`` angles (torchvision's rotation-scale-shear matrix), then translate by
    ``(tx, ty)`` pixels."""
    height, width = size
    cx, cy = ((width - 1) / 2, (height - 1) / 2) if center is None \
        else (center[0] - 0.5, center[1] - 0.5)
    n = angle.shape[0]
    cos, sin = _exact_cos_sin(angle)
    cos_r, sin_r = _exact_cos_sin(angle - shear[:, 1])
    sy = np.deg2rad(shear[:, 1])
    tan_x = np.where(shear[:, 0] == 0, 0.0, np.tan(np.deg2rad(shear[:, 0])))
    cos_y = np.where(shear[:, 1] == 0, 1.0, np.cos(sy))
    forward = np.zeros((n, 3, 3))
    forward[:, 0, 0] = scale * cos_r / cos_y
    forward[:, 0, 1] = scale * (-cos_r * tan_x / cos_y - sin)
    forward[:, 1, 0] = scale * sin_r / cos_y
    forward[:, 1, 1] = scale * (-sin_r * tan_x / cos_y + cos)
    forward[:, 2, 2] = 1
    centre = np.array([cx, cy])
    forward[:, :2, 2] = centre + translate - np.einsum("nij,j->ni", forward[:, :2, :2], centre)
    return forward


def resized_crop_matrices(top: np.ndarray, left: np.ndarray, height: np.ndarray,
                          width: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Forward 3x3 matrices (N, 3, 3) on pixel centres of ``resized_crop``."""
    out_h, out_w = size
    forward = np.zeros((len(top), 3, 3))
    forward[:, 0, 0] = out_w / width
    forward[:, 0, 2] = (0.5 - left) * out_w / width - 0.5
    forward[:, 1, 1] = out_h / height
    forward[:, 1, 2] = (0.5 - top) * out_h / height - 0.5
    forward[:, 2, 2] = 1
    return forward


def flip_matrices(n: int, size: tuple[int, int], horizontal: bool) -> np.ndarray:
    """Forward 3x3 matrices (N, 3, 3) on pixel centres of ``hflip`` / ``vflip``."""
    forward = np.tile(np.eye(3), (n, 1, 1))
    axis = 0 if horizontal else 1
    forward[:, axis, axis] = -1
    forward[:, axis, 2] = (size[1] if horizontal else size[0]) - 1
    return forward


def affine(img: Image, angle: Values = 0.0, translate: Values = (0.0, 0.0),
           scale: Values = 1.0, shear: Values = (0.0, 0.0),
           interpolation: Interpolation = "nearest", fill: float | Sequence[float] = 0,
           center: Sequence[float] | None = None) -> Image:
    """torchvision's ``affine``: rotate (degrees, clockwise), translate (pixels), scale and
    shear (degrees) about ``center`` (pixels from the top-left corner; default the image's
    middle); uncovered pixels take ``fill``. Parameters may be per sample. NEAREST equals
    torchvision's PIL path (Pillow's ``Image.transform``) on every pixel."""
    batch = dispatch.batch_size(img)
    size = dispatch.image_size(img)
    params = {
        "angle": per_sample(angle, batch, "angle"),
        "translate": per_sample(translate, batch, "translate", width=2),
        "scale": per_sample(scale, batch, "scale", low=1e-6),
        "shear": per_sample(shear, batch, "shear", width=2, low=-89.0, high=89.0),
    }
    if center is not None and (len(center) != 2 or not all(
            isinstance(c, (int, float)) and np.isfinite(c) for c in center)):
        raise AugkitError(f"center: {center!r} is not allowed; expected (x, y) in pixels from "
                          "the top-left corner")
    interpolation = check_interpolation(interpolation)
    fills = _fill_values(fill, dispatch.num_channels(img), _dtype(img))
    if interpolation == "nearest":
        return transform_nearest(img, affine_data(size, params, center), fill)
    inverse = np.linalg.inv(affine_matrices(size, **params, center=center))[:, :2, :]

    def kernel(images: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
        return warp(images, inverse, size, interpolation, fill)

    return dispatch.apply(img, {"inverse": inverse}, kernel, partial(
        warp_uint8, size=size, interpolation=interpolation, fill=fills.numpy(),
        border="fill"))


def transform_nearest(img: Image, data: np.ndarray, fill: Any,
                      out_size: tuple[int, int] | None = None) -> Image:
    """Pillow's NEAREST ``Image.transform(size, AFFINE, data)`` with per-sample (N, 6)
    ``data`` onto a canvas of ``out_size`` (default the input's); ``fill`` one value, or one
    per channel."""
    out = dispatch.image_size(img) if out_size is None else tuple(out_size)

    def nearest(images: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        sources = affine_sources_batch(data.cpu().numpy(), tuple(images.shape[-2:]), out,
                                       images.device)
        return gather(images, sources, _fill_values(fill, images.shape[1], images.dtype))

    def uint8_kernel(images: np.ndarray, planar: bool, data: np.ndarray) -> np.ndarray:
        channels = images.shape[1 if planar else 3]
        return pillow_nearest_uint8(images, planar, data, fill_bytes(fill, channels), out)

    return dispatch.apply(img, {"data": data}, nearest, uint8_kernel)


def transform_masks(masks: torch.Tensor, data: np.ndarray, fill: int,
                    out_size: tuple[int, int] | None = None) -> torch.Tensor:
    """(N, M, H, W) masks of any integer dtype through ``transform_nearest``'s pixels, onto
    a canvas of ``out_size`` (default theirs)."""
    size = tuple(masks.shape[-2:])
    out = size if out_size is None else tuple(out_size)
    if masks.device.type == "cpu" and masks.dtype in (torch.uint8, torch.bool) \
            and 0 <= fill <= 255:
        as_bytes = masks.view(torch.uint8) if masks.dtype == torch.bool else masks
        moved = torch.from_numpy(pillow_nearest_uint8(
            as_bytes.contiguous().numpy(), True, data,
            np.full(masks.shape[1], fill, np.uint8), out))
        return moved.view(torch.bool) if masks.dtype == torch.bool else moved
    sources = affine_sources_batch(data, size, out, masks.device)
    return gather(masks, sources, torch.tensor([fill]).expand(masks.shape[1]))


def torchvision_inverse(center: Sequence[float], angle: float, translate: Sequence[float],
                        scale: float, shear: Sequence[float]) -> list[float]:
    """torchvision's inverse affine matrix (output to input, continuous coordinates), the
    ``data`` its PIL path gives ``Image.transform``; computed in its order."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty)
    matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty)
    matrix[2] += cx
    matrix[5] += cy
    return matrix


def affine_data(size: tuple[int, int], params: dict[str, np.ndarray],
                center: Sequence[float] | None = None) -> np.ndarray:
    """Per-sample (N, 6) ``Image.transform`` data of NEAREST ``affine``: torchvision's
    inverse matrix about the continuous centre, as its PIL path builds it."""
    height, width = size
    pivot = (width * 0.5, height * 0.5) if center is None else center
    return np.array([torchvision_inverse(pivot, float(angle), translate, float(scale), shear)
                     for angle, translate, scale, shear in zip(
                         params["angle"], params["translate"], params["scale"],
                         params["shear"], strict=True)], dtype=np.float64)


def resized_crop(img: Image, top: Values, left: Values, height: Values, width: Values,
                 size: int | Sequence[int], interpolation: Interpolation = "bilinear"
                 ) -> Image:
    """Crop the box ``(top, left, height, width)`` (per sample, in pixels, may be fractional)
    and resize it to ``size`` (``(h, w)`` or one int for both), edges replicated."""
    batch = dispatch.batch_size(img)
    out_h, out_w = _check_size(size)
    top_, left_ = per_sample(top, batch, "top"), per_sample(left, batch, "left")
    box_h = per_sample(height, batch, "height", low=1e-6)
    box_w = per_sample(width, batch, "width", low=1e-6)
    interpolation = check_interpolation(interpolation)
    n = top_.shape[0]
    inverse = np.zeros((n, 2, 3))
    inverse[:, 0, 0] = box_w / out_w
    inverse[:, 0, 2] = left_ + 0.5 * box_w / out_w - 0.5
    inverse[:, 1, 1] = box_h / out_h
    inverse[:, 1, 2] = top_ + 0.5 * box_h / out_h - 0.5

    def kernel(images: torch.Tensor, inverse: torch.Tensor) -> torch.Tensor:
        return warp(images, inverse, (out_h, out_w), interpolation, border="edge")

    fills = np.zeros(dispatch.num_channels(img), np.float32)
    return dispatch.apply(img, {"inverse": inverse}, kernel, partial(
        warp_uint8, size=(out_h, out_w), interpolation=interpolation, fill=fills, border="edge"))


def _dtype(img: Any) -> torch.dtype:
    if isinstance(img, torch.Tensor):
        return img.dtype
    if isinstance(img, np.ndarray) and img.dtype != np.uint8:
        return torch.float64
    return torch.uint8


def _check_size(size: Any) -> tuple[int, int]:
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in size)):
        raise AugkitError(f"size: {size!r} is not allowed; expected a positive int or an "
                          "(height, width) pair of positive ints")
    return int(size[0]), int(size[1])


def hflip(img: Image) -> Image:
    """Mirror left to right."""
    return dispatch.apply(img, {}, lambda images: images.flip(-1), _layout_cpu.mirrored)


def flip_samples(img: Image, flags: Any, horizontal: bool) -> Image:
    """``hflip`` (``horizontal``) or ``vflip`` of the samples of a batch whose flag is set
    (``flags``: one bool per sample), the others as they are: one pass over the batch."""
    def flipped(images: torch.Tensor, flags: torch.Tensor) -> torch.Tensor:
        return torch.where(flags.view(-1, 1, 1, 1), images.flip(-1 if horizontal else -2),
                           images)

    return dispatch.apply(img, {"flags": flags}, flipped, _layout_cpu.mirrored_where
                          if horizontal else _layout_cpu.upside_down_where)


def vflip(img: Image) -> Image:
    """Mirror top to bottom."""
    return dispatch.apply(img, {}, lambda images: images.flip(-2))


def erase(img: Image, top: Values, left: Values, height: Values, width: Values,
          value: float | Sequence[float] = 0) -> Image:
    """Set the rectangle ``(top, left, height, width)`` (integers, per sample) to ``value``."""
    batch = dispatch.batch_size(img)
    boxes = np.stack([per_sample(v, batch, name, low=0)
                      for v, name in ((top, "top"), (left, "left"), (height, "height"),
                                      (width, "width"))], axis=1)
    if not np.array_equal(boxes, np.round(boxes)):
        raise AugkitError("top, left, height, width: expected whole numbers of pixels")
    channels = dispatch.num_channels(img)

    def kernel(images: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        n, _, h, w = images.shape
        fill = _fill_values(value, channels, images.dtype).to(images.device, images.dtype)
        if images.device.type == "cpu":  # a copy, then each box filled as a slice
            out = images.clone()
            for i, (top_i, left_i, h_i, w_i) in enumerate(boxes.long().tolist()):
                out[i, :, top_i:top_i + h_i, left_i:left_i + w_i] = fill.view(-1, 1, 1)
            return out
        rows = torch.arange(h, device=images.device).view(1, h, 1)
        cols = torch.arange(w, device=images.device).view(1, 1, w)
        b = boxes.long().view(n, 4, 1, 1)
        inside = ((rows >= b[:, 0]) & (rows < b[:, 0] + b[:, 2])
                  & (cols >= b[:, 1]) & (cols < b[:, 1] + b[:, 3])).unsqueeze(1)
        return torch.where(inside, fill.view(1, -1, 1, 1), images)

    return dispatch.apply(img, {"boxes": boxes}, kernel)
