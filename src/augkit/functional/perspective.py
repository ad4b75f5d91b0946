"""``perspective``: torchvision's ``perspective``, equal to its PIL path (Pillow's
``Image.transform(size, PERSPECTIVE, coefficients, filter, fillcolor=fill)``) on every pixel,
with NEAREST, BILINEAR and BICUBIC, for L, RGB and RGBA.

The eight coefficients map each output pixel centre to the input (continuous coordinates):
``x_in = (a*x + b*y + c) / (g*x + h*y + 1)``, ``y_in = (d*x + e*y + f) / (g*x + h*y + 1)``.
``perspective_coefficients`` solves them from four point pairs as torchvision does (float64
least squares, rounded to float32). Floats in [0, 1] follow the same sampling without the
uint8 truncation.

>>> import torch
>>> from augkit.functional import perspective
>>> corners = [[0, 0], [2, 0], [2, 2], [0, 2]]
>>> perspective(torch.arange(9, dtype=torch.uint8).view(1, 3, 3), corners, corners,
...             "nearest").tolist()
[[[0, 1, 2], [3, 4, 5], [6, 7, 8]]]
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import _layout_cpu, dispatch
from augkit.functional._transform_cpu import MODES, pillow_transform, pillow_transform_planar
from augkit.functional.geometry import _dtype, _fill_values, check_interpolation, fill_bytes
from augkit.functional.resize import premultiply, unpremultiply

Image = TypeVar("Image")


def _points(value: Any, batch: int | None, name: str) -> np.ndarray:
    """Corner lists as float64 ``(N, 4, 2)``: one list of four ``[x, y]`` for all samples or
    one per sample."""
    n = 1 if batch is None else batch
    try:
        arr = np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value,
                         dtype=np.float64)
    except (TypeError, ValueError):
        raise AugkitError(f"{name}: expected four [x, y] corners, got {value!r:.60}") from None
    if arr.shape == (4, 2):
        arr = np.repeat(arr[None], n, axis=0)
    if arr.shape != (n, 4, 2) or not np.isfinite(arr).all():
        raise AugkitError(f"{name}: expected four finite [x, y] corners (top-left, top-right, "
                          f"bottom-right, bottom-left){'' if batch is None else ' per sample'}, "
                          f"got shape {arr.shape}")
    return arr


IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)


def perspective_coefficients(startpoints: Any, endpoints: Any, degenerate: str = "raise"
                             ) -> np.ndarray:
    """The eight coefficients (float32 values, as float64) of the map taking ``endpoints`` to
    ``startpoints``, as torchvision's ``_get_perspective_coeffs`` solves them; ``(N, 4, 2)``
    corners give ``(N, 8)``. Corners that define no such map (three on a line) raise, or
    with ``degenerate="identity"`` give the identity."""
    start = np.asarray(startpoints, dtype=np.float64).reshape(-1, 4, 2)
    end = np.asarray(endpoints, dtype=np.float64).reshape(-1, 4, 2)
    out = np.empty((len(start), 8))
    for i, (src, dst) in enumerate(zip(start, end, strict=True)):
        a = np.zeros((8, 8))
        for k, ((x, y), (u, v)) in enumerate(zip(dst, src, strict=True)):
            a[2 * k] = [x, y, 1, 0, 0, 0, -u * x, -u * y]
            a[2 * k + 1] = [0, 0, 0, x, y, 1, -v * x, -v * y]
        if np.linalg.matrix_rank(a) < 8:
            if degenerate == "identity":
                out[i] = IDENTITY
                continue
            raise AugkitError("startpoints, endpoints: the corners do not define a "
                              "perspective map (three of them lie on a line)")
        solution = torch.linalg.lstsq(torch.from_numpy(a), torch.from_numpy(src.reshape(8)),
                                      driver="gels").solution
        out[i] = solution.to(torch.float32).numpy()
    return out


def _coefficients(value: Any, batch: int | None) -> np.ndarray:
    n = 1 if batch is None else batch
    arr = np.asarray(value.cpu() if isinstance(value, torch.Tensor) else value, dtype=np.float64)
    if arr.size == 8:
        arr = np.repeat(arr.reshape(1, 8), n, axis=0)
    if arr.shape != (n, 8) or not np.isfinite(arr).all():
        raise AugkitError(f"coefficients: expected eight finite numbers"
                          f"{'' if batch is None else ' (or eight per sample)'}, got "
                          f"{arr.size} values")
    return arr


def perspective(img: Image, startpoints: Any = None, endpoints: Any = None,
                interpolation: Any = "bilinear", fill: Any = 0, coefficients: Any = None
                ) -> Image:
    """torchvision's ``perspective``: move the corners ``startpoints`` to ``endpoints``
    (``[[x, y]] * 4``, top-left, top-right, bottom-right, bottom-left; per sample on batches),
    or sample through the eight ``coefficients``; uncovered pixels take ``fill``."""
    batch = dispatch.batch_size(img)
    if coefficients is None:
        if startpoints is None or endpoints is None:
            raise AugkitError("perspective: give startpoints and endpoints, or coefficients")
        data = perspective_coefficients(_points(startpoints, batch, "startpoints"),
                                        _points(endpoints, batch, "endpoints"))
    elif startpoints is not None or endpoints is not None:
        raise AugkitError("perspective: give startpoints and endpoints, or coefficients, not "
                          "both")
    else:
        data = coefficients
    return transform_generic(img, data, interpolation, fill)


def transform_generic(img: Image, data: np.ndarray, interpolation: Any = "bilinear",
                      fill: Any = 0, out_size: tuple[int, int] | None = None) -> Image:
    """Pillow's generic ``Image.transform`` with per-sample ``(N, 8)`` perspective ``data``
    (an affine map is ``[a, b, c, d, e, f, 0, 0]``) onto a canvas of ``out_size`` (default
    the input's)."""
    out_size = None if out_size is None else (int(out_size[0]), int(out_size[1]))
    mode = check_interpolation(interpolation)
    batch, channels = dispatch.layout(img)[:2]
    return transform_prepared(img, _coefficients(data, batch), mode, fill, out_size, channels)


def transform_prepared(img: Image, data: np.ndarray, mode: str, fill: Any,
                       out_size: tuple[int, int] | None, channels: int) -> Image:
    """``transform_generic`` with its ``data`` already (N, 8) finite float64, its
    interpolation already a checked name and the image's ``channels`` counted."""
    dtype = _dtype(img)
    fills = None if dtype == torch.uint8 else _fill_values(fill, channels, dtype)
    bytes_fill = fill_bytes(fill, channels)  # checks a uint8 image's fill
    smooth_alpha = channels == 4 and mode != "nearest"

    def uint8_kernel(images: np.ndarray, planar: bool, data: np.ndarray) -> np.ndarray:
        if not smooth_alpha:
            return _compiled(images, data, bytes_fill, mode, out_size, planar)
        nhwc = premultiply(_layout_cpu.interleaved(images) if planar else images)
        out_nhwc = unpremultiply(_compiled(nhwc, data, bytes_fill, mode, out_size))
        return _layout_cpu.planar(out_nhwc) if planar else out_nhwc

    def tensor_kernel(images: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
        if smooth_alpha and images.dtype == torch.uint8:
            nhwc = premultiply(images.permute(0, 2, 3, 1).cpu().numpy())
            images = torch.from_numpy(nhwc).permute(0, 3, 1, 2).to(data.device)
        values = fills if fills is not None else _fill_values(fill, channels, images.dtype)
        out = sample_generic(images, data, mode, values, out_size)
        if smooth_alpha and out.dtype == torch.uint8:
            nhwc = unpremultiply(out.permute(0, 2, 3, 1).cpu().numpy())
            out = torch.from_numpy(nhwc).permute(0, 3, 1, 2).to(data.device)
        return out.contiguous()

    return dispatch.apply(img, {"data": data}, tensor_kernel, uint8_kernel)


def _compiled(images: np.ndarray, data: np.ndarray, fill: np.ndarray, mode: str,
              out_size: tuple[int, int] | None = None, planar: bool = False) -> np.ndarray:
    """``pillow_transform`` on uint8 images, ``(N, C, H, W)`` when ``planar`` (else ``(N, H,
    W, C)``), into a new array of the same layout and ``out_size`` (default the input's)."""
    height, width, channels = (images.shape[2], images.shape[3], images.shape[1]) if planar \
        else images.shape[1:]
    if mode == "bilinear" and height * width * min(channels, 4) >= 2**31:
        raise AugkitError(f"img: one image of {height}x{width}x{channels} bytes is 2 GiB or "
                          "more; BILINEAR rotation and perspective take smaller images "
                          "(split it into tiles)")
    src = _layout_cpu.read_only(np.ascontiguousarray(images))  # one compiled signature
    axis = 1 if planar else 3
    size = out_size or (src.shape[2:4] if planar else src.shape[1:3])
    data = np.ascontiguousarray(data, np.float64)
    if mode != "nearest" and channels > 4:  # the smooth samplers read 4 channels' words
        parts = [_compiled(np.take(src, range(first, min(first + 4, channels)), axis), data,
                           np.ascontiguousarray(fill[first:first + 4]), mode, out_size, planar)
                 for first in range(0, channels, 4)]
        return np.concatenate(parts, axis)
    shape = (src.shape[0], channels, *size) if planar else (src.shape[0], *size, channels)
    out = np.empty(shape, np.uint8)
    if not planar:
        pillow_transform(src, out, data, fill, MODES[mode])
        return out
    image = np.empty((1, *src.shape[2:4], channels), np.uint8)
    pillow_transform_planar(src, out, data, fill, MODES[mode], image, _layout_cpu.read_only(
        image))
    return out


def transform_masks_generic(masks: torch.Tensor, data: np.ndarray, fill: int) -> torch.Tensor:
    """(N, M, H, W) masks of any integer dtype through NEAREST's pixels of ``data``."""
    if masks.device.type == "cpu" and masks.dtype in (torch.uint8, torch.bool) \
            and 0 <= fill <= 255:
        planes = (masks.view(torch.uint8) if masks.dtype == torch.bool else masks).numpy()
        out = torch.from_numpy(_compiled(planes, data, np.full(masks.shape[1], fill, np.uint8),
                                         "nearest", planar=True))
        return out.view(torch.bool) if masks.dtype == torch.bool else out
    fills = torch.full((masks.shape[1],), float(fill), dtype=torch.float64)
    return sample_generic(masks, torch.as_tensor(data), "nearest", fills)


def sample_generic(images: torch.Tensor, data: torch.Tensor, mode: str, fill: torch.Tensor,
                   out_size: tuple[int, int] | None = None) -> torch.Tensor:
    """``pillow_transform`` in torch on ``(N, C, H, W)`` of any dtype and device, onto a
    canvas of ``out_size`` (default the input's): the same float64 positions and filters;
    uint8 truncated as Pillow does, floats kept (bicubic clamped to [0, 1])."""
    n, channels, height, width = images.shape
    out_h, out_w = out_size or (height, width)
    device = images.device
    a = data.to(device, torch.float64).view(n, 8, 1, 1)
    yc = (torch.arange(out_h, dtype=torch.float64, device=device) + 0.5).view(1, -1, 1)
    xc = (torch.arange(out_w, dtype=torch.float64, device=device) + 0.5).view(1, 1, -1)
    den = a[:, 6] * xc + a[:, 7] * yc + 1.0
    xin = (a[:, 0] * xc + a[:, 1] * yc + a[:, 2]) / den
    yin = (a[:, 3] * xc + a[:, 4] * yc + a[:, 5]) / den
    inside = ((xin >= 0) & (xin < width) & (yin >= 0) & (yin < height)).unsqueeze(1)
    flat = images.reshape(n, channels, -1)

    def at(ix: torch.Tensor, iy: torch.Tensor) -> torch.Tensor:
        index = (iy * width + ix).view(n, 1, -1).expand(n, channels, -1)
        return flat.gather(2, index).view(n, channels, out_h, out_w).to(torch.float64)

    if mode == "nearest":
        safe_x = torch.where(inside[:, 0], xin, 0.0).long()
        safe_y = torch.where(inside[:, 0], yin, 0.0).long()
        value = at(safe_x, safe_y)
    else:
        xs = torch.where(inside[:, 0], xin, 0.5) - 0.5
        ys = torch.where(inside[:, 0], yin, 0.5) - 0.5
        fx, fy = xs.floor(), ys.floor()
        dx, dy = (xs - fx).unsqueeze(1), (ys - fy).unsqueeze(1)
        ix, iy = fx.long(), fy.long()
        value = (_bilinear(at, ix, iy, dx, dy, width, height) if mode == "bilinear"
                 else _bicubic(at, ix - 1, iy - 1, dx, dy, width, height))
    if images.dtype == torch.uint8:
        value = value.clamp(0.0, 255.0).trunc()
    elif mode == "bicubic":  # the overshoot clamped, as Pillow clamps uint8
        value = value.clamp(0.0, 1.0)
    filler = fill.to(device, torch.float64).view(1, -1, 1, 1)
    return torch.where(inside, value, filler).to(images.dtype)


def _row_taps(iy: torch.Tensor, count: int, height: int) -> list[tuple[torch.Tensor,
                                                                      torch.Tensor]]:
    """Rows ``iy .. iy + count - 1``: the first clipped, the others with whether they exist."""
    rows = [(iy.clamp(0, height - 1), torch.ones_like(iy, dtype=torch.bool))]
    for k in range(1, count):
        row = iy + k
        rows.append((row.clamp(0, height - 1), ((row >= 0) & (row < height))))
    return rows


def _bilinear(at: Any, ix: torch.Tensor, iy: torch.Tensor, dx: torch.Tensor,
              dy: torch.Tensor, width: int, height: int) -> torch.Tensor:
    x0, x1 = ix.clamp(0, width - 1), (ix + 1).clamp(0, width - 1)
    values = []
    for row, exists in _row_taps(iy, 2, height):
        a = at(x0, row)
        v = a + (at(x1, row) - a) * dx
        values.append(v if not values else torch.where(exists.unsqueeze(1), v, values[-1]))
    v1, v2 = values
    return v1 + (v2 - v1) * dy


def _cubic(v1: torch.Tensor, v2: torch.Tensor, v3: torch.Tensor, v4: torch.Tensor,
           d: torch.Tensor) -> torch.Tensor:
    p2 = -v1 + v3
    p3 = 2.0 * (v1 - v2) + v3 - v4
    p4 = -v1 + v2 - v3 + v4
    return v2 + d * (p2 + d * (p3 + d * p4))


def _bicubic(at: Any, ix: torch.Tensor, iy: torch.Tensor, dx: torch.Tensor,
             dy: torch.Tensor, width: int, height: int) -> torch.Tensor:
    xs = [(ix + k).clamp(0, width - 1) for k in range(4)]
    values = []
    for row, exists in _row_taps(iy, 4, height):
        v = _cubic(*(at(x, row) for x in xs), dx)
        values.append(v if not values else torch.where(exists.unsqueeze(1), v, values[-1]))
    return _cubic(*values, dy)


__all__ = ["perspective", "perspective_coefficients", "sample_generic", "transform_generic",
           "transform_masks_generic"]
