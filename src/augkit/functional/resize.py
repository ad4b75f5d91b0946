"""``resize``: Pillow's ``Image.resize`` on uint8, bit for bit, with torchvision's arguments.

Pillow resamples in two separable passes, columns first, then rows, each a weighted sum over
the input pixels under the filter stretched by the scale when shrinking (antialiasing). The
taps are computed in float64 and turned into 22-bit fixed-point integers; each pass rounds
and clips to uint8. RGBA is premultiplied by its alpha first and divided back after, as
Pillow does (it resizes in mode ``RGBa``). NEAREST is Pillow's scale-only affine sampler.
uint8 on the CPU runs the compiled passes; uint8 on another device the same integer sums as
float64 matrix products (exact: every partial sum stays far below 2**53); float images the
float taps without rounding, torchvision's antialiased resize.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import _layout_cpu, _resample_cpu, dispatch
from augkit.functional.dispatch import Image
from augkit.functional.pillow_sampling import scale_sources

#: the ``interpolation`` names ``resize`` takes, as Pillow's filters
FILTERS = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")
_ONE = 1 << _resample_cpu.PRECISION_BITS


# Pillow's filters as (number used by the compiled ``precompute``, support)
_KERNELS = {"box": (0, 0.5), "bilinear": (1, 1.0), "hamming": (2, 1.0), "bicubic": (3, 2.0),
            "lanczos": (4, 3.0)}


@functools.lru_cache(maxsize=256)
def taps(in_size: int, out_size: int, interpolation: str, start: float = 0.0,
         end: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pillow's ``precompute_coeffs`` for one axis, over the input span ``start``-``end``
    (default the whole axis; float32, as Pillow reads a box): ``bounds`` (out, 2) of first
    input index and tap count, the float taps (out, k) and their 22-bit fixed-point form."""
    kernel, support = _KERNELS[interpolation]
    first = float(np.float32(start))
    last = float(np.float32(in_size if end is None else end))
    scale = float(np.float32(last) - np.float32(first)) / out_size
    bounds, weights = _resample_cpu.precompute(in_size, out_size, first, scale, kernel,
                                               support)
    fixed = np.where(weights < 0, np.trunc(-0.5 + weights * _ONE),
                     np.trunc(0.5 + weights * _ONE)).astype(np.int32)
    for array in (bounds, weights, fixed):
        array.flags.writeable = False
    return bounds, weights, fixed


def output_size(size: tuple[int, int], target: int | Sequence[int] | None,
                max_size: int | None = None) -> tuple[int, int]:
    """torchvision's resized size: ``(h, w)`` as given, or one number for the shorter side
    (the longer one keeps the aspect ratio, at most ``max_size``)."""
    height, width = size
    if isinstance(target, (list, tuple)) and len(target) == 2:
        if type(target[0]) is int and type(target[1]) is int and target[0] > 0 \
                and target[1] > 0 and max_size is None:
            return target[0], target[1]  # the common case, without the checks' calls
        out = (_positive(target[0], "size"), _positive(target[1], "size"))
        if max_size is not None:
            raise AugkitError("max_size: only with a single number for size (the shorter "
                              "side)")
        return out  # type: ignore[return-value]
    if isinstance(target, (list, tuple)) and len(target) == 1:
        target = target[0]
    if target is None and max_size is None:
        raise AugkitError("size: None needs max_size (the longer side)")
    short, long = (width, height) if width <= height else (height, width)
    if target is None:
        new_long = _positive(max_size, "max_size")
        new_short = int(new_long * short / long)
    else:
        new_short = _positive(target, "size")
        new_long = int(new_short * long / short)
        if max_size is not None:
            if _positive(max_size, "max_size") <= new_short:
                raise AugkitError(f"max_size: {max_size} must be larger than size "
                                  f"({new_short})")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    new_short = max(new_short, 1)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise AugkitError(f"{name}: {value!r} is not allowed; expected a positive integer, or "
                          "(height, width) for size")
    return int(value)


def check_filter(interpolation: Any) -> str:
    """A Pillow filter name from a string or torchvision's ``InterpolationMode``."""
    name = str(getattr(interpolation, "value", interpolation)).lower()
    if name not in FILTERS:
        raise AugkitError(f"interpolation: {interpolation!r} is not allowed; expected one of "
                          f"{', '.join(FILTERS)}")
    return name


Box = tuple[float, float, float, float]


def _check_box(box: Any, in_size: tuple[int, int]) -> Box | None:
    """Pillow's ``box`` (left, top, right, bottom), inside the image and not empty."""
    if box is None:
        return None
    height, width = in_size
    if (not isinstance(box, (list, tuple)) or len(box) != 4
            or not all(isinstance(v, (int, float, np.integer, np.floating))
                       and not isinstance(v, bool) for v in box)):
        raise AugkitError(f"box: {box!r} is not allowed; expected (left, top, right, bottom)")
    left, top, right, bottom = (float(v) for v in box)
    if not (0 <= left < right <= width and 0 <= top < bottom <= height):
        raise AugkitError(f"box: {box!r} is not allowed; expected 0 <= left < right <= "
                          f"{width} and 0 <= top < bottom <= {height}")
    return None if (left, top, right, bottom) == (0, 0, width, height) else (
        left, top, right, bottom)


def resize(img: Image, size: int | Sequence[int] | None,
           interpolation: Any = "bilinear", max_size: int | None = None,
           antialias: bool = True, box: Sequence[float] | None = None) -> Image:
    """Pillow's ``Image.resize`` (``reducing_gap`` off) to torchvision's ``size``: exact on
    uint8 for every filter and for L, RGB and RGBA; float images the same taps unrounded.
    ``box``: Pillow's region of the input to resize, ``(left, top, right, bottom)`` in
    pixels, fractions allowed."""
    interpolation = check_filter(interpolation)
    if antialias is not True:
        raise AugkitError("antialias: only True (Pillow's resize always antialiases when it "
                          "shrinks)")
    _, channels, *in_size = dispatch.layout(img)
    in_size = tuple(in_size)
    out_h, out_w = output_size(in_size, size, max_size)
    region = _check_box(box, in_size)
    if (out_h, out_w) == in_size and region is None:
        return dispatch.apply(img, {}, lambda images: images.clone())
    if interpolation == "nearest":
        return _nearest(img, in_size, (out_h, out_w), region)
    plan = _plan(in_size, (out_h, out_w), interpolation, region)
    return dispatch.apply(img, {}, functools.partial(_resize_tensor, plan=plan,
                                                     channels=channels),
                          functools.partial(_resize_uint8, plan=plan))


def resize_boxes(images: torch.Tensor, boxes: np.ndarray, size: tuple[int, int],
                 interpolation: str) -> torch.Tensor:
    """Each sample's whole-pixel box ``(top, left, height, width)`` (``boxes`` (N, 4)) of an
    (N, C, H, W) batch resized to ``size`` as ``resize`` would resize its crop (filters but
    NEAREST), all samples in two batched matrix products per pass: the way for batches off
    the CPU, where a loop over samples would launch a few kernels per sample. Each sample's
    taps go into a dense matrix over the whole axis, zero outside its box; samples whose
    rows Pillow resizes first go as a second batch."""
    exact = images.dtype == torch.uint8
    dtype = torch.float64 if exact else images.dtype
    x = images.to(dtype)
    if exact and images.shape[1] == 4:
        x = _through_nhwc(premultiply, images).to(dtype)
    boxes = np.asarray(boxes, np.int64)
    out_h, out_w = size
    columns = _box_matrices(boxes[:, 1], boxes[:, 3], images.shape[3], out_w, interpolation,
                            exact, x)
    rows = _box_matrices(boxes[:, 0], boxes[:, 2], images.shape[2], out_h, interpolation,
                         exact, x)
    shrink_h, shrink_w = boxes[:, 2] - out_h, boxes[:, 3] - out_w
    rows_first = (shrink_h > 0) & (shrink_h > 2 * shrink_w)
    out = x.new_empty((*x.shape[:2], out_h, out_w))
    for order in (False, True):
        picked = torch.from_numpy(np.flatnonzero(rows_first == order)).to(x.device)
        if len(picked) == 0:
            continue
        part, by_cols, by_rows = x[picked], columns[picked, None], rows[picked, None]
        if not order:
            part = _round_clip(part @ by_cols) if exact else part @ by_cols
        part = (part.transpose(-1, -2) @ by_rows).transpose(-1, -2)
        part = _round_clip(part) if exact else part
        if order:
            part = _round_clip(part @ by_cols) if exact else part @ by_cols
        out[picked] = part
    if not exact:
        return out
    out = out.to(torch.uint8)
    return _through_nhwc(unpremultiply, out) if images.shape[1] == 4 else out


def _box_matrices(starts: np.ndarray, lengths: np.ndarray, full: int, out_size: int,
                  interpolation: str, fixed: bool, like: torch.Tensor) -> torch.Tensor:
    """(N, full, out_size) matrices: each sample's taps for resizing ``lengths[i]`` input
    pixels from ``starts[i]`` to ``out_size``, placed on the whole axis."""
    plans = [taps(int(length), out_size, interpolation) for length in lengths]
    return _dense(plans, starts, full, fixed, like.dtype, like.device)


def _dense(plans: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], starts: Any,
           full: int, fixed: bool, dtype: torch.dtype, device: Any) -> torch.Tensor:
    """(N, full, out) matrices of ``taps`` results, each shifted by its ``starts[i]``: the
    fixed-point integers or the float weights, zero where a tap does not reach."""
    width = max(plan[1].shape[1] for plan in plans)
    out_size = len(plans[0][0])
    positions = np.zeros((len(plans), width, out_size), np.int64)
    values = np.zeros((len(plans), width, out_size))
    for i, (bounds, weights, integers) in enumerate(plans):
        k = np.arange(weights.shape[1])
        inside = k[None, :] < bounds[:, 1:]
        where = np.where(inside, bounds[:, :1] + k[None, :] + starts[i], 0)
        positions[i, :len(k)] = where.T
        values[i, :len(k)] = np.where(inside, integers if fixed else weights, 0).T
    matrices = torch.zeros((len(plans), full, out_size), dtype=dtype, device=device)
    return matrices.scatter_add_(1, torch.from_numpy(positions).to(device),
                                 torch.from_numpy(values).to(device, dtype))


def _nearest(img: Image, in_size: tuple[int, int], out_size: tuple[int, int],
             box: Box | None = None) -> Image:
    """Pillow's NEAREST resize: its scale-only affine sampler, whose source rows and columns
    are separable (every output pixel lands inside the input)."""
    rows, cols = nearest_sources(in_size, out_size, box)

    def kernel(images: torch.Tensor) -> torch.Tensor:
        index_rows = torch.as_tensor(rows, device=images.device)
        index_cols = torch.as_tensor(cols, device=images.device)
        return images.index_select(-2, index_rows).index_select(-1, index_cols)

    step = _column_step(in_size, out_size, box)
    first = int(cols[0])

    def uint8_kernel(batch: np.ndarray, planar: bool) -> np.ndarray:
        batch = np.ascontiguousarray(batch)
        channels = 1 if planar else batch.shape[3]
        if step and channels <= 4:  # every step-th column: shuffles
            shape = (*batch.shape[:2], *out_size) if planar else (
                batch.shape[0], *out_size, channels)
            out = np.empty(shape, np.uint8)
            images = batch.reshape(-1, in_size[0], in_size[1] * channels)
            _resample_cpu.pick_columns(step, channels)(
                images, out.reshape(images.shape[0], out_size[0], -1), rows, first)
            return out
        if planar:
            out = np.empty((*batch.shape[:2], *out_size), np.uint8)
            _resample_cpu.gather_planes(batch, out, rows, cols)
            return out
        out = np.empty((batch.shape[0], *out_size, batch.shape[3]), np.uint8)
        _resample_cpu.gather_pass(batch, out, rows, cols)
        return out

    return dispatch.apply(img, {}, kernel, uint8_kernel)


def fit(img: Image, size: Sequence[int], interpolation: Any = "bicubic", bleed: float = 0.0,
        centering: Sequence[float] = (0.5, 0.5)) -> Image:
    """Pillow's ``ImageOps.fit``: the largest region of the output's aspect ratio (less a
    ``bleed`` share at every edge), placed by ``centering`` (0 to 1 across and down), resized
    to ``size`` ``(height, width)``; out-of-range ``bleed`` and ``centering`` fall back to
    Pillow's defaults, as Pillow does."""
    out_h, out_w = output_size((1, 1), list(size) if isinstance(size, tuple) else size)
    height, width = dispatch.image_size(img)
    centre_x, centre_y = (float(v) for v in centering)
    centre_x = centre_x if 0.0 <= centre_x <= 1.0 else 0.5
    centre_y = centre_y if 0.0 <= centre_y <= 1.0 else 0.5
    bleed = bleed if 0.0 <= bleed < 0.5 else 0.0
    trim_x, trim_y = bleed * width, bleed * height
    live_w, live_h = width - trim_x * 2, height - trim_y * 2
    live_ratio, out_ratio = live_w / live_h, out_w / out_h
    if live_ratio == out_ratio:
        crop_w, crop_h = live_w, live_h
    elif live_ratio >= out_ratio:
        crop_w, crop_h = out_ratio * live_h, live_h
    else:
        crop_w, crop_h = live_w, live_w / out_ratio
    left = trim_x + (live_w - crop_w) * centre_x
    top = trim_y + (live_h - crop_h) * centre_y
    return resize(img, [out_h, out_w], interpolation, box=(left, top, left + crop_w,
                                                           top + crop_h))


@functools.lru_cache(maxsize=256)
def _column_step(in_size: tuple[int, int], out_size: tuple[int, int],
                 box: Box | None = None) -> int | None:
    """The step of NEAREST's source columns when they step by a whole 2 to
    ``MAX_BOX_FACTOR`` (a shrink by a whole factor), else ``None``."""
    cols = nearest_sources(in_size, out_size, box)[1]
    if len(cols) < 2:
        return None
    step = int(cols[1] - cols[0])
    if 2 <= step <= _resample_cpu.MAX_BOX_FACTOR and (np.diff(cols) == step).all():
        return step
    return None


@functools.lru_cache(maxsize=256)
def nearest_sources(in_size: tuple[int, int], out_size: tuple[int, int],
                    box: Box | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Source rows and columns of Pillow's NEAREST resize from ``in_size`` (its ``box``,
    float32 as Pillow reads it) to ``out_size``."""
    height, width = in_size
    f = np.float32
    left, top, right, bottom = (f(v) for v in (box or (0, 0, width, height)))
    data = (float(right - left) / out_size[1], 0.0, float(left), 0.0,
            float(bottom - top) / out_size[0], float(top))
    rows, cols = scale_sources(data, out_size)
    return np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1)


class _Plan:
    """Which passes a resize needs and their taps (Pillow's ``ImagingResampleInner``)."""

    def __init__(self, in_size: tuple[int, int], out_size: tuple[int, int],
                 interpolation: str, box: Box | None = None):
        self.in_size, self.out_size, self.interpolation = in_size, out_size, interpolation
        self.box = box or (0, 0, in_size[1], in_size[0])
        left, top, right, bottom = self.box
        # Pillow's tests, which compare the box's far edge with the output size
        self.horizontal = out_size[1] != in_size[1] or left != 0 or right != out_size[1]
        self.vertical = out_size[0] != in_size[0] or top != 0 or bottom != out_size[0]
        # Pillow (>= 11.2) runs the rows first when the height shrinks by more than twice
        # what the width does; the passes round to uint8 in between, so the order shows
        shrink_h, shrink_w = in_size[0] - out_size[0], in_size[1] - out_size[1]
        self.rows_first = shrink_h > 0 and shrink_h > 2 * shrink_w
        self.cols = taps(in_size[1], out_size[1], interpolation, left, right) \
            if self.horizontal else None
        self.rows = taps(in_size[0], out_size[0], interpolation, top, bottom) \
            if self.vertical else None
        # both passes (or the one needed) a box shrinking by whole factors: the compiled
        # box kernel's (first row, first column, factor down, factor across)
        cols_box = whole_box(self.cols) if self.cols else (0, 1)
        rows_box = whole_box(self.rows) if self.rows else (0, 1)
        self.whole_box = (rows_box[0], cols_box[0], rows_box[1], cols_box[1]) \
            if cols_box and rows_box else None
        if self.rows is not None and not self.rows_first:
            # the first pass makes only the rows the second reads
            bounds = self.rows[0]
            self.first_row = int(bounds[0, 0])
            self.last_row = int(bounds[-1, 0] + bounds[-1, 1])
        else:
            self.first_row, self.last_row = 0, in_size[0]
        # the rows' pass taps counted from the first row the columns' pass made
        self.row_bounds = None
        if self.rows is not None:
            shifted = self.horizontal and not self.rows_first
            self.row_bounds = np.ascontiguousarray(
                self.rows[0] - np.array([self.first_row, 0])) if shifted else self.rows[0]
        # the compiled rows' pass's paired weights, worked out once a plan
        self.row_pairs = None if self.rows is None else _resample_cpu.row_pair_words(
            self.rows[2])


_plan = functools.lru_cache(maxsize=256)(_Plan)


def whole_box(axis_taps: tuple[np.ndarray, np.ndarray, np.ndarray]
              ) -> tuple[int, int] | None:
    """``(first input, factor)`` when an axis' taps are a box shrinking by a whole factor
    from 2 to ``MAX_BOX_FACTOR``: output ``x`` the mean of inputs ``first + factor * x``
    onward, every tap ``box_weight(factor)`` (the compiled box passes' case); else
    ``None``."""
    bounds, _, fixed = axis_taps
    factor = int(bounds[0, 1])
    if not 2 <= factor <= _resample_cpu.MAX_BOX_FACTOR or fixed.shape[1] < factor:
        return None
    first = int(bounds[0, 0])
    steps = first + factor * np.arange(len(bounds))
    if (bounds[:, 1] == factor).all() and (bounds[:, 0] == steps).all() \
            and (fixed[:, :factor] == _resample_cpu.box_weight(factor)).all():
        return first, factor
    return None


def _resize_uint8(batch: np.ndarray, planar: bool, plan: _Plan) -> np.ndarray:
    channels = batch.shape[1 if planar else 3]
    if channels == 4:  # premultiplied, interleaved
        nhwc = premultiply(_layout_cpu.interleaved(batch) if planar else batch)
        out = unpremultiply(_passes(nhwc, plan, planar=False))
        return _layout_cpu.planar(out) if planar else out
    return _passes(np.ascontiguousarray(batch), plan, planar)


def _passes(batch: np.ndarray, plan: _Plan, planar: bool) -> np.ndarray:
    channels = 1 if planar else batch.shape[3]
    if plan.whole_box and channels <= 4:  # wider pixels: vectors too long to compile well
        first_row, first, factor_y, factor_x = plan.whole_box
        out_h, out_w = plan.out_size
        if planar:
            out = np.empty((*batch.shape[:2], out_h, out_w), np.uint8)
        else:
            out = np.empty((batch.shape[0], out_h, out_w, channels), np.uint8)
        rows = batch.reshape(-1, plan.in_size[0], plan.in_size[1] * channels)
        _resample_cpu.box_shrink(factor_x, factor_y, channels)(
            rows, out.reshape(rows.shape[0], out_h, out_w * channels), first_row, first,
            plan.rows_first)
        return out
    passes = [(_columns_pass, plan.horizontal), (_rows_pass, plan.vertical)]
    for one_pass, needed in passes[::-1] if plan.rows_first else passes:
        if needed:
            batch = one_pass(batch, plan, planar)
    return batch


def _columns_pass(batch: np.ndarray, plan: _Plan, planar: bool) -> np.ndarray:
    """The horizontal pass; before the rows' pass, only on the input rows it reads."""
    height = batch.shape[2 if planar else 1]
    first, last = (0, height) if plan.rows_first else (plan.first_row, plan.last_row)
    channels = 1 if planar else batch.shape[3]
    offsets, weights, pairs = column_taps(plan.in_size[1], plan.out_size[1],
                                          plan.interpolation, plan.box[0], plan.box[2],
                                          channels)
    rows = batch.reshape(-1, height, plan.in_size[1] * channels)
    out = np.empty((rows.shape[0], last - first, plan.out_size[1] * channels), np.uint8)
    _resample_cpu.horizontal_pass(rows, out, first, offsets, weights, pairs, channels)
    if planar:
        return out.reshape(*batch.shape[:2], last - first, plan.out_size[1])
    return out.reshape(batch.shape[0], last - first, plan.out_size[1], channels)


@functools.lru_cache(maxsize=64)
def column_taps(in_size: int, out_size: int, interpolation: str, start: float, end: float,
                channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``taps`` laid out for the compiled columns' pass (``_resample_cpu.column_tables``) on
    rows of ``channels`` interleaved values."""
    bounds, _, fixed = taps(in_size, out_size, interpolation, start, end)
    tables = _resample_cpu.column_tables(bounds, fixed, in_size, channels)
    for array in tables:
        array.flags.writeable = False
    return tables


def _rows_pass(batch: np.ndarray, plan: _Plan, planar: bool) -> np.ndarray:
    rows = batch.reshape(-1, *batch.shape[2:], 1) if planar else batch
    out = np.empty((rows.shape[0], plan.out_size[0], rows.shape[2], rows.shape[3]), np.uint8)
    _resample_cpu.vertical_pass(rows, out, plan.row_bounds, plan.rows[2], plan.row_pairs)
    return out.reshape(*batch.shape[:2], *out.shape[1:3]) if planar else out


def premultiply(nhwc: np.ndarray) -> np.ndarray:
    """RGBA to Pillow's RGBa: colour times alpha / 255, rounded as its ``MULDIV255``."""
    out = nhwc.copy()
    alpha = nhwc[..., 3:].astype(np.uint32)
    products = nhwc[..., :3].astype(np.uint32) * alpha + 128
    out[..., :3] = ((products >> 8) + products) >> 8
    return out


def unpremultiply(nhwc: np.ndarray) -> np.ndarray:
    """Pillow's RGBa to RGBA: colour times 255 / alpha (truncated, clipped); alpha 0 and 255
    keep the colour."""
    out = nhwc.copy()
    alpha = nhwc[..., 3:].astype(np.uint32)
    scaled = np.minimum(nhwc[..., :3].astype(np.uint32) * 255 // np.maximum(alpha, 1), 255)
    keep = (alpha == 0) | (alpha == 255)
    out[..., :3] = np.where(keep, nhwc[..., :3], scaled)
    return out


def _matrix(taps_: tuple[np.ndarray, np.ndarray, np.ndarray], in_size: int, fixed: bool,
            dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """The taps of one axis as a dense (in, out) matrix."""
    return _dense([taps_], [0], in_size, fixed, dtype, device)[0]


def _resize_tensor(images: torch.Tensor, plan: _Plan, channels: int) -> torch.Tensor:
    exact = images.dtype == torch.uint8
    dtype = torch.float64 if exact else (images.dtype if images.is_floating_point()
                                         else torch.float32)
    x = images.to(dtype)
    if exact and channels == 4:
        x = _through_nhwc(premultiply, images).to(dtype)
    passes = [_tensor_columns, _tensor_rows]
    for one_pass in passes[::-1] if plan.rows_first else passes:
        x = one_pass(x, plan, exact)
    if not exact:
        return x.to(images.dtype) if images.is_floating_point() else x.round().clamp(
            torch.iinfo(images.dtype).min, torch.iinfo(images.dtype).max).to(images.dtype)
    out = x.to(torch.uint8)
    return _through_nhwc(unpremultiply, out) if channels == 4 else out


def _tensor_columns(x: torch.Tensor, plan: _Plan, exact: bool) -> torch.Tensor:
    if not plan.horizontal:
        return x
    x = x @ _matrix(plan.cols, plan.in_size[1], exact, x.dtype, x.device)
    return _round_clip(x) if exact else x


def _tensor_rows(x: torch.Tensor, plan: _Plan, exact: bool) -> torch.Tensor:
    if not plan.vertical:
        return x
    rows = _matrix(plan.rows, plan.in_size[0], exact, x.dtype, x.device)
    x = (x.transpose(-1, -2) @ rows).transpose(-1, -2)
    return _round_clip(x) if exact else x


def _round_clip(totals: torch.Tensor) -> torch.Tensor:
    return torch.floor((totals + (1 << (_resample_cpu.PRECISION_BITS - 1))) / _ONE).clamp(0, 255)


def _through_nhwc(fn: Callable[[np.ndarray], np.ndarray], images: torch.Tensor
                  ) -> torch.Tensor:
    """``fn`` on an (N, C, H, W) uint8 batch as interleaved numpy, back on its device."""
    nhwc = images.permute(0, 2, 3, 1).cpu().numpy()
    return torch.from_numpy(fn(nhwc)).permute(0, 3, 1, 2).to(images.device)


__all__ = ["FILTERS", "check_filter", "fit", "nearest_sources", "output_size", "premultiply",
           "resize", "resize_boxes", "taps", "unpremultiply"]
