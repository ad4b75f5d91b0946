"""What travels with an image through a transform: masks, boxes, keypoints and their labels.

``Targets`` holds them in one internal form (masks as ``(N, M, H, W)`` tensors, boxes as
xyxy pixels and keypoints per sample as float64 arrays), whatever form the user gave;
``read_targets`` builds it from a call's keyword arguments or a torchvision-style target
dict and ``write_targets`` gives them back in the form they came in. Geometric transforms
move them with ``Targets.warped``; every other transform leaves them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from PIL import Image

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional.targets import (
    box_areas,
    boxes_to_xyxy,
    check_box_format,
    clip_boxes,
    continuous_matrices,
    points_inside,
    transform_boxes,
    transform_points,
    warp_masks,
    xyxy_to_boxes,
)

MASK_KEYS = ("mask", "masks")
TARGET_KEYS = ("mask", "masks", "boxes", "keypoints", "labels")
#: entries of a target dict that hold one value per box and are dropped with their boxes
BOX_ALIGNED = ("labels", "iscrowd", "area")
OUTSIDE_KEYPOINTS = ("keep", "flag", "drop")


@dataclass(frozen=True)
class TargetOptions:
    """How boxes and keypoints are read and kept; set on a call or on a ``Compose``.

    ``box_format``: xyxy, xywh or cxcywh, in pixels, or with a trailing ``n`` normalised by
    the image size. A box is dropped (with its labels) when nothing of it is left on the
    image, when its area in pixels is below ``min_area``, or when the share of it still on
    the image is below ``min_visibility``. A keypoint that leaves the image is kept as it
    is (``"keep"``), flagged (``"flag"``: a third column, if given, is set to 0, otherwise
    ``keypoints_visible`` is returned beside ``keypoints``) or dropped (``"drop"``).
    """

    box_format: str = "xyxy"
    min_area: float = 0.0
    min_visibility: float = 0.0
    outside_keypoints: str = "flag"

    def __post_init__(self) -> None:
        check_box_format(self.box_format)
        for name in ("min_area", "min_visibility"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise AugkitError(f"{name}: {value!r} is not allowed; expected a number >= 0")
        if self.min_visibility > 1:
            raise AugkitError(f"min_visibility: {self.min_visibility!r} is not allowed; "
                              "expected a share in [0, 1]")
        if self.outside_keypoints not in OUTSIDE_KEYPOINTS:
            raise AugkitError(f"outside_keypoints: {self.outside_keypoints!r} is not allowed; "
                              f"expected one of {', '.join(OUTSIDE_KEYPOINTS)}")


@dataclass
class Targets:
    """Targets of ``N`` samples on a canvas of ``size`` ``(height, width)``."""

    size: tuple[int, int]
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    boxes: list[np.ndarray] | None = None
    visibility: list[np.ndarray] | None = None
    keypoints: list[np.ndarray] | None = None
    visible: list[np.ndarray] | None = None

    def copy(self) -> Targets:
        """A copy whose masks and lists can be written without touching this one's."""
        rows = range(len(self.boxes or self.keypoints or []))
        return Targets(self.size, {k: v.clone() for k, v in self.masks.items()},
                       _pick(self.boxes, rows), _pick(self.visibility, rows),
                       _pick(self.keypoints, rows), _pick(self.visible, rows))

    def select(self, index: torch.Tensor) -> Targets:
        rows = index.tolist()
        return Targets(self.size, {k: v[index.to(v.device)] for k, v in self.masks.items()},
                       _pick(self.boxes, rows), _pick(self.visibility, rows),
                       _pick(self.keypoints, rows), _pick(self.visible, rows))

    def put(self, index: torch.Tensor, part: Targets) -> None:
        """Write ``part`` (the samples ``index``, same canvas size) back in place."""
        for key, value in part.masks.items():
            self.masks[key][index.to(value.device)] = value
        for name in ("boxes", "visibility", "keypoints", "visible"):
            mine, theirs = getattr(self, name), getattr(part, name)
            if mine is not None:
                for i, value in zip(index.tolist(), theirs, strict=True):
                    mine[i] = value

    def warped(self, forward: np.ndarray | None, size: tuple[int, int], fill: int = 0,
               border: str = "fill", masks_by: Any = None,
               point_maps: list[Any] | None = None) -> Targets:
        """Moved by per-sample forward matrices ``(N, 3, 3)`` on pixel centres onto a canvas
        of ``size``: masks by nearest sampling (or by ``masks_by(masks)``, for ops that move
        whole pixels: flips, crops, padding), boxes and keypoints exactly. Without matrices,
        ``point_maps`` (one function of ``(K, 2)`` continuous points per sample) and
        ``masks_by`` say how targets move."""
        if forward is not None:
            forward = np.asarray(forward, dtype=np.float64)
        if masks_by is not None:
            masks = {k: masks_by(v) for k, v in self.masks.items()}
        elif self.masks:
            inverse = np.linalg.inv(forward)
            masks = {k: warp_masks(v, inverse, size, fill, border) for k, v in self.masks.items()}
        else:
            masks = {}
        moved = replace(self, size=size, masks=masks)
        continuous = continuous_matrices(forward) if point_maps is None else point_maps
        if self.boxes is not None:
            moved.boxes, moved.visibility = [], []
            for boxes, seen, matrix in zip(self.boxes, self.visibility, continuous, strict=True):
                unclipped = transform_boxes(boxes, matrix)
                clipped = clip_boxes(unclipped, size)
                moved.boxes.append(clipped)
                moved.visibility.append(seen * _share_left(unclipped, clipped, size))
        if self.keypoints is not None:
            moved.keypoints, moved.visible = [], []
            for points, seen, matrix in zip(self.keypoints, self.visible, continuous,
                                            strict=True):
                xy = transform_points(points[:, :2], matrix)
                moved.keypoints.append(np.concatenate([xy, points[:, 2:]], axis=1))
                moved.visible.append(seen & points_inside(xy, size))
        return moved


def _pick(values: list[Any] | None, rows: Any) -> list[Any] | None:
    return None if values is None else [values[i] for i in rows]


def _share_left(unclipped: np.ndarray, clipped: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The share of each box still on the image after clipping (degenerate boxes: 1 or 0)."""
    before, after = box_areas(unclipped), box_areas(clipped)
    centres = (unclipped[:, :2] + unclipped[:, 2:]) / 2
    on_image = points_inside(centres, size) | ((centres[:, 0] == size[1])
                                               | (centres[:, 1] == size[0]))
    share = np.where(before > 0, after / np.where(before > 0, before, 1.0), on_image * 1.0)
    return share


# ---- reading what the user gave -----------------------------------------------------------


@dataclass
class _Layout:
    """How to give a target back in the form it came in."""

    kind: str                       # "tensor", "numpy", "pil" or "list"
    dtype: Any = None
    device: Any = None
    squeeze: bool = False           # a single mask given as (H, W)
    mode: str | None = None         # a PIL mask's mode
    palette: Any = None
    rebuild: Any = None             # a torchvision tv_tensor class to wrap the result in


def _layout_of(value: Any) -> _Layout:
    wrapper = type(value) if type(value).__module__.startswith("torchvision") else None
    if isinstance(value, torch.Tensor):
        return _Layout("tensor", value.dtype, value.device, rebuild=wrapper)
    if isinstance(value, Image.Image):
        return _Layout("pil", mode=value.mode, palette=value.getpalette())
    if isinstance(value, (list, tuple)):
        return _Layout("list")
    return _Layout("numpy", np.asarray(value).dtype)


def _as_numpy(value: Any, name: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, Image.Image):
        return np.asarray(value)
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        raise AugkitTypeError(f"{name}: expected an array, a tensor or a list of numbers, got "
                              f"{type(value).__name__}") from None


def _read_mask(value: Any, name: str, size: tuple[int, int], batch: int | None
               ) -> tuple[torch.Tensor, _Layout]:
    layout = _layout_of(value)
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, float)):
        layout = _Layout("list", rebuild=_layout_of(value[0]))
        parts = [_read_mask(v, f"{name}[{i}]", size, None)[0][0, 0]
                 for i, v in enumerate(value)]
        tensor = torch.stack(parts).unsqueeze(0) if parts else None
        if tensor is None:
            raise AugkitError(f"{name}: an empty list; expected at least one mask")
        return tensor, layout
    if isinstance(value, torch.Tensor):
        tensor = value.detach().as_subclass(torch.Tensor)
    else:
        arr = np.ascontiguousarray(_as_numpy(value, name))
        tensor = torch.from_numpy(arr if arr.flags.writeable else arr.copy())
    if tensor.dtype.is_floating_point or tensor.dtype.is_complex:
        raise AugkitTypeError(f"{name}: dtype {tensor.dtype} is not a mask's; expected integer "
                              "or bool values (class ids or instance ids)")
    expected = _mask_shapes(name, batch)
    given_shape = tuple(tensor.shape)
    if tensor.ndim == expected[0] - 1 and (name == "mask" or batch is None):
        layout.squeeze = True
        tensor = tensor.unsqueeze(0 if batch is None else 1)
    if tensor.ndim != expected[0] or tuple(tensor.shape[-2:]) != size:
        raise AugkitError(f"{name}: shape {given_shape} does not fit the image; "
                          f"expected {expected[1]} with H x W = {size[0]} x {size[1]}")
    if batch is not None and tensor.shape[0] != batch:
        raise AugkitError(f"{name}: {tensor.shape[0]} masks for a batch of {batch}")
    return (tensor if batch is not None else tensor.unsqueeze(0)), layout


def _mask_shapes(name: str, batch: int | None) -> tuple[int, str]:
    if batch is None:
        return 3, "(H, W)" if name == "mask" else "(M, H, W)"
    return 4, "(N, H, W)" if name == "mask" else "(N, M, H, W)"


def _per_sample(value: Any, name: str, batch: int | None) -> tuple[list[Any], _Layout]:
    """A batch's per-sample list (or the one sample of a single image) and its layout."""
    if batch is None:
        return [value], _layout_of(value)
    if isinstance(value, torch.Tensor | np.ndarray) and value.ndim >= 2:
        return list(value), _Layout("list", rebuild=_layout_of(value))
    if not isinstance(value, (list, tuple)) or len(value) != batch:
        raise AugkitError(f"{name}: expected a list of {batch} entries, one per image of the "
                          f"batch, got {type(value).__name__}")
    return list(value), _Layout("list", rebuild=_layout_of(value[0]) if value else None)


def _read_rows(value: Any, name: str, batch: int | None, columns: int, exact: bool,
               expected: str) -> tuple[list[tuple[str, np.ndarray]], _Layout]:
    """Per-sample float64 ``(K, D)`` arrays, each with the name to give in an error."""
    samples, layout = _per_sample(value, name, batch)
    rows = []
    for i, sample in enumerate(samples):
        where = name if batch is None else f"{name}[{i}]"
        arr = _as_numpy(sample, where).astype(np.float64)
        if arr.size == 0:
            arr = arr.reshape(0, columns)
        if arr.ndim != 2 or arr.shape[1] < columns or (exact and arr.shape[1] != columns):
            raise AugkitError(f"{where}: shape {arr.shape} is not allowed; expected {expected}")
        if not np.isfinite(arr[:, :columns]).all():
            raise AugkitError(f"{where}: holds a coordinate that is not finite")
        rows.append((where, arr))
    return rows, layout


def _read_boxes(value: Any, size: tuple[int, int], batch: int | None,
                box_format: str) -> tuple[list[np.ndarray], _Layout]:
    rows, layout = _read_rows(value, "boxes", batch, 4, True, f"(K, 4) boxes in {box_format}")
    boxes = []
    for where, arr in rows:
        xyxy = boxes_to_xyxy(arr, box_format, size)
        _check_inside(xyxy, where, size, box_format)
        boxes.append(xyxy)
    return boxes, layout


def _check_inside(xyxy: np.ndarray, where: str, size: tuple[int, int], box_format: str) -> None:
    height, width = size
    tolerance = 1e-6 * max(height, width)
    bad = ((xyxy[:, 2] < xyxy[:, 0]) | (xyxy[:, 3] < xyxy[:, 1])
           | (xyxy[:, :2] < -tolerance).any(axis=1)
           | (xyxy[:, 2] > width + tolerance) | (xyxy[:, 3] > height + tolerance))
    if bad.any():
        k = int(np.argmax(bad))
        raise AugkitError(f"{where}: box {k} ({xyxy[k].round(3).tolist()} as xyxy pixels, read "
                          f"as {box_format}) is not inside the {width} x {height} image with "
                          "x1 <= x2 and y1 <= y2; check box_format")


def _read_keypoints(value: Any, batch: int | None) -> tuple[list[np.ndarray], _Layout]:
    rows, layout = _read_rows(value, "keypoints", batch, 2, False,
                              "(K, 2) x, y points, or (K, D) with extra columns such as "
                              "visibility")
    return [arr for _, arr in rows], layout


@dataclass
class Read:
    """Targets read from a call, with what is needed to give them back."""

    targets: Targets
    layouts: dict[str, _Layout]
    given: dict[str, Any]
    options: TargetOptions


def read_targets(given: dict[str, Any], size: tuple[int, int], batch: int | None,
                 options: TargetOptions) -> Read:
    """Targets from the entries of ``given`` (mask, masks, boxes, keypoints; the rest is
    passed through) for an image (``batch=None``) or a batch of ``size``."""
    targets, layouts = Targets(size), {}
    for key in MASK_KEYS:
        if given.get(key) is not None:
            targets.masks[key], layouts[key] = _read_mask(given[key], key, size, batch)
    if given.get("boxes") is not None:
        box_format = _box_format_of(given["boxes"], options.box_format)
        targets.boxes, layouts["boxes"] = _read_boxes(given["boxes"], size, batch, box_format)
        targets.visibility = [np.ones(len(b)) for b in targets.boxes]
        options = replace(options, box_format=box_format)
    if given.get("keypoints") is not None:
        targets.keypoints, layouts["keypoints"] = _read_keypoints(given["keypoints"], batch)
        flags = given.get("keypoints_visible")
        flags = [None] * len(targets.keypoints) if flags is None else (
            [flags] if batch is None else list(flags))
        targets.visible = [_initially_visible(p, f, size)
                           for p, f in zip(targets.keypoints, flags, strict=True)]
    _check_aligned(given, targets, batch)
    return Read(targets, layouts, given, options)


def _initially_visible(points: np.ndarray, flags: Any, size: tuple[int, int]) -> np.ndarray:
    """Keypoints on the image and not flagged invisible (a third column, or the
    ``keypoints_visible`` given back by an earlier call)."""
    seen = points_inside(points[:, :2], size)
    if points.shape[1] > 2:
        seen &= points[:, 2] > 0
    if flags is not None:
        flags = _as_numpy(flags, "keypoints_visible").astype(bool).reshape(-1)
        if flags.shape[0] != len(points):
            raise AugkitError(f"keypoints_visible: {flags.shape[0]} flags for {len(points)} "
                              "keypoints")
        seen &= flags
    return seen


def _box_format_of(boxes: Any, default: str) -> str:
    """A torchvision ``BoundingBoxes``' own format, else the option's."""
    found = getattr(boxes, "format", None)
    name = getattr(found, "name", found)
    return name.lower() if isinstance(name, str) and name.lower() in ("xyxy", "xywh", "cxcywh") \
        else default


def _check_aligned(given: dict[str, Any], targets: Targets, batch: int | None) -> None:
    if targets.boxes is None:
        return
    for key in BOX_ALIGNED:
        if given.get(key) is None:
            continue
        entries, _ = _per_sample(given[key], key, batch)
        for i, (entry, boxes) in enumerate(zip(entries, targets.boxes, strict=True)):
            count = _as_numpy(entry, key).reshape(-1).shape[0]
            if count != len(boxes):
                where = key if batch is None else f"{key}[{i}]"
                raise AugkitError(f"{where}: {count} values for {len(boxes)} boxes; expected "
                                  "one per box")


# ---- giving them back ---------------------------------------------------------------------


def write_targets(read: Read, targets: Targets, batch: int | None) -> dict[str, Any]:
    """``read.given`` with its targets replaced by ``targets``, in the forms they came in."""
    out = dict(read.given)
    for key, tensor in targets.masks.items():
        out[key] = _write_mask(tensor, read.layouts[key], batch)
    keep = None
    if targets.boxes is not None:
        keep = [(v > 0) & (v >= read.options.min_visibility)
                & (box_areas(b) >= read.options.min_area)
                for b, v in zip(targets.boxes, targets.visibility, strict=True)]
        boxes = [xyxy_to_boxes(b[k], read.options.box_format, targets.size)
                 for b, k in zip(targets.boxes, keep, strict=True)]
        out["boxes"] = _write_rows(boxes, read.layouts["boxes"], batch, targets.size,
                                   read.options.box_format)
        for key in BOX_ALIGNED:
            if out.get(key) is not None:
                out[key] = _filter_rows(out[key], keep, batch)
    if targets.keypoints is not None:
        out.update(_write_keypoints(read, targets, batch))
    return out


def _write_mask(tensor: torch.Tensor, layout: _Layout, batch: int | None) -> Any:
    value = tensor if batch is not None else tensor[0]
    if layout.kind == "list":
        element = layout.rebuild or _Layout("numpy")
        return [_as_kind(m, element) for m in value]
    if layout.squeeze:
        value = value[:, 0] if batch is not None else value[0]
    return _as_kind(value, layout)


def _as_kind(value: torch.Tensor, layout: _Layout) -> Any:
    """A mask tensor as the kind it came in: tensor (on its device), numpy or PIL."""
    if layout.kind == "tensor":
        value = value.to(layout.device)
        return value.as_subclass(layout.rebuild) if layout.rebuild else value
    arr = value.cpu().numpy()
    if layout.kind != "pil":
        return arr
    image = Image.fromarray(arr.astype(np.uint8) * 255 if layout.mode == "1" else arr)
    if layout.mode == "1":
        return image.convert("1")
    if layout.palette is not None:
        image.putpalette(layout.palette)
    return image


def _write_rows(rows: list[np.ndarray], layout: _Layout, batch: int | None,
                size: tuple[int, int], box_format: str | None = None) -> Any:
    """Per-sample float64 rows (boxes, keypoints) back as the input's type."""
    if batch is None:
        return _rows_as(rows[0], layout, size, box_format)
    element = layout.rebuild if layout.rebuild else _Layout("numpy", np.dtype(np.float64))
    return [_rows_as(arr, element, size, box_format) for arr in rows]


def _rows_as(arr: np.ndarray, like: _Layout, size: tuple[int, int],
             box_format: str | None) -> Any:
    if like.kind == "list":
        return arr.tolist()
    if like.kind != "tensor":
        floating = like.dtype is not None and np.issubdtype(like.dtype, np.floating)
        return arr.astype(like.dtype if floating else np.float64)
    dtype = like.dtype if like.dtype.is_floating_point else torch.float32
    tensor = torch.from_numpy(arr).to(device=like.device, dtype=dtype)
    if like.rebuild is None:
        return tensor
    if box_format is not None:  # a torchvision BoundingBoxes, on its new canvas
        return like.rebuild(tensor, format=box_format.upper(), canvas_size=size)
    try:  # a torchvision KeyPoints
        return like.rebuild(tensor, canvas_size=size)
    except TypeError:
        return tensor.as_subclass(like.rebuild)


def _filter_rows(value: Any, keep: list[np.ndarray], batch: int | None) -> Any:
    def one(entry: Any, mask: np.ndarray) -> Any:
        if isinstance(entry, torch.Tensor):
            return entry[torch.from_numpy(mask).to(entry.device)]
        if isinstance(entry, np.ndarray):
            return entry[mask]
        return [v for v, k in zip(entry, mask, strict=True) if k]

    if batch is None:
        return one(value, keep[0])
    return [one(entry, mask) for entry, mask in zip(value, keep, strict=True)]


def _write_keypoints(read: Read, targets: Targets, batch: int | None) -> dict[str, Any]:
    rule = read.options.outside_keypoints
    points, flags = [], []
    for arr, seen in zip(targets.keypoints, targets.visible, strict=True):
        if rule == "drop":
            arr = arr[seen]
        elif rule == "flag" and arr.shape[1] > 2:
            arr = arr.copy()
            arr[~seen, 2] = 0
        points.append(arr)
        flags.append(seen if rule != "drop" else seen[seen])
    layout = read.layouts["keypoints"]
    out = {"keypoints": _write_rows(points, layout, batch, targets.size)}
    if rule == "flag" and all(p.shape[1] == 2 for p in targets.keypoints):
        as_tensor = layout.kind == "tensor" or (layout.rebuild is not None
                                                and layout.rebuild.kind == "tensor")
        wrap = (lambda f: torch.from_numpy(f)) if as_tensor else (lambda f: f)
        out["keypoints_visible"] = wrap(flags[0]) if batch is None else [wrap(f) for f in flags]
    return out
