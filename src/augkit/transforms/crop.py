"""torchvision's crops and padding (``CenterCrop``, ``RandomCrop``, ``Pad``), which move whole
pixels and so their masks exactly, and ``Normalize`` and ``ToDtype``.

>>> import torch
>>> from augkit.transforms import RandomCrop
>>> RandomCrop(24, padding=4, seed=0)(torch.zeros(8, 3, 24, 24)).shape
torch.Size([8, 3, 24, 24])
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.functional.crop import (
    center_crop_box,
    check_padding,
    check_padding_mode,
    five_crop,
    linear_transformation,
    normalize,
    remap,
    remap_image,
    ten_crop,
    to_dtype,
    windows,
)
from augkit.functional.geometry import _check_size
from augkit.transforms.base import Params, Transform, check_range, scale_uniform
from augkit.transforms.geometry import Geometric, _check_fill, _check_mask_fill
from augkit.transforms.targets import Targets


class _Window(Geometric):
    """Output pixels taken from a per-sample window of the (padded) input."""

    keeps_size = False

    @abstractmethod
    def window(self, params: Params, size: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        """Per-sample (top, left) in input pixels, the output size and the padding mode."""

    def _indices(self, params: Params, size: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        tops, lefts, out_size, mode = self.window(params, size)
        rows, cols = windows(tops, lefts, out_size, len(tops), size, mode)
        return rows, cols, out_size

    def apply(self, img: Any, params: Params) -> Any:
        rows, cols, _ = self._indices(params, dispatch.image_size(img))
        return remap_image(img, rows, cols, self.fill)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        tops, lefts, out_size, _ = self.window(params, size)
        forward = np.tile(np.eye(3), (len(tops), 1, 1))
        forward[:, 0, 2], forward[:, 1, 2] = -lefts, -tops
        return forward, out_size

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        rows, cols, _ = self._indices(params, size)
        fill = torch.tensor([self.mask_fill])

        def move(masks: torch.Tensor) -> torch.Tensor:
            values = fill.expand(masks.shape[1])
            return remap(masks, rows, cols, values)
        return move


class _FixedWindows(Transform):
    """Crops of one ``size`` at places the image's size fixes: nothing to draw."""

    def __init__(self, size: Any, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.size = list(_check_size(size))

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}


class CenterCrop(_FixedWindows, _Window):
    """torchvision's ``CenterCrop``: the middle ``size`` window (zeros beyond the image)."""

    fill = 0

    def window(self, params: Params, size: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        top, left, height, width = center_crop_box(size, tuple(self.size))
        n = len(params["applied"])
        return np.full(n, top), np.full(n, left), (height, width), "constant"


class Pad(_Window):
    """torchvision's ``Pad``: ``padding`` (one int, (left/right, top/bottom) or (left, top,
    right, bottom)) in ``padding_mode`` constant (``fill``), edge, reflect or symmetric."""

    def __init__(self, padding: Any, fill: Any = 0, padding_mode: str = "constant",
                 mask_fill: int = 0, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.padding = list(check_padding(padding))
        self.fill, self.padding_mode = _check_fill(fill), check_padding_mode(padding_mode)
        self.mask_fill = _check_mask_fill(mask_fill)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def window(self, params: Params, size: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        left, top, right, bottom = self.padding
        n = len(params["applied"])
        out = (size[0] + top + bottom, size[1] + left + right)
        return np.full(n, -top), np.full(n, -left), out, self.padding_mode


class RandomCrop(_Window):
    """torchvision's ``RandomCrop``: optional ``padding`` first (and ``pad_if_needed`` up to
    ``size``), then a window of ``size`` at a position drawn uniformly per sample."""

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False,
                 fill: Any = 0, padding_mode: str = "constant", mask_fill: int = 0, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.size = list(_check_size(size))
        self.padding = None if padding is None else list(check_padding(padding))
        if not isinstance(pad_if_needed, bool):
            raise AugkitError(f"pad_if_needed: {pad_if_needed!r} is not allowed; expected a "
                              "bool")
        self.pad_if_needed = pad_if_needed
        self.fill, self.padding_mode = _check_fill(fill), check_padding_mode(padding_mode)
        self.mask_fill = _check_mask_fill(mask_fill)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"y": torch.rand(batch, generator=generator, dtype=torch.float64),
                "x": torch.rand(batch, generator=generator, dtype=torch.float64)}

    def _padding(self, size: tuple[int, int]) -> tuple[int, int, int, int]:
        left, top, right, bottom = self.padding or (0, 0, 0, 0)
        height, width = size[0] + top + bottom, size[1] + left + right
        if self.pad_if_needed:
            extra_w, extra_h = max(self.size[1] - width, 0), max(self.size[0] - height, 0)
            left, right, top, bottom = left + extra_w, right + extra_w, top + extra_h, \
                bottom + extra_h
        return left, top, right, bottom

    def window(self, params: Params, size: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        left, top, right, bottom = self._padding(size)
        height, width = size[0] + top + bottom, size[1] + left + right
        out_h, out_w = self.size
        if out_h > height or out_w > width:
            raise AugkitError(f"size: {tuple(self.size)} is larger than the (padded) "
                              f"{height}x{width} image; pad it (padding=, pad_if_needed=True)")
        rows = np.floor(np.asarray(params["y"]) * (height - out_h + 1)).astype(np.int64)
        cols = np.floor(np.asarray(params["x"]) * (width - out_w + 1)).astype(np.int64)
        return rows - top, cols - left, (out_h, out_w), self.padding_mode


class RandomZoomOut(_Window):
    """torchvision's ``RandomZoomOut``: with chance ``p`` (once per call), the image on a
    ``fill`` canvas ``side_range`` times its size (one ratio per call, so a batch keeps one
    size), at a position drawn per sample; targets move along."""

    size_from_input = False

    applies_per_call = True

    def __init__(self, fill: Any = 0, side_range: Any = (1.0, 4.0), p: float = 0.5,
                 mask_fill: int = 0, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.fill, self.mask_fill = _check_fill(fill), _check_mask_fill(mask_fill)
        self.side_range = list(check_range(side_range, "side_range", 1.0, 100.0))

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        u = torch.rand(1 + 2 * batch, generator=generator, dtype=torch.float64)
        return {"ratio": scale_uniform(u[:1], self.side_range).expand(batch).clone(),
                "place": u[1:].view(batch, 2)}

    def window(self, params: Params, size: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        ratio = float(params["ratio"][0])
        height, width = int(size[0] * ratio), int(size[1] * ratio)
        place = np.asarray(params["place"])
        lefts = ((width - size[1]) * place[:, 0]).astype(np.int64)
        tops = ((height - size[0]) * place[:, 1]).astype(np.int64)
        return -tops, -lefts, (height, width), "constant"


IOU_OPTIONS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)
_IOU_ROUNDS = 16  # torchvision draws options until one succeeds; augkit stops here


class RandomIoUCrop(_Window):
    """torchvision's ``RandomIoUCrop`` (SSD's crop): draw a minimum overlap from
    ``sampler_options`` (1.0 or more: leave the image), then up to ``trials`` windows of
    ``min_scale``-``max_scale`` of each side within the aspect limits, and keep the first
    whose IoU with some box centred in it reaches the minimum; boxes centred outside are
    dropped with their labels (torchvision zeroes them for ``SanitizeBoundingBoxes``). After
    16 rounds without a window the image is left, where torchvision would keep drawing.
    Needs boxes; crops have their own sizes, so it takes single images or lists."""

    size_from_input = False

    def __init__(self, min_scale: float = 0.3, max_scale: float = 1.0,
                 min_aspect_ratio: float = 0.5, max_aspect_ratio: float = 2.0,
                 sampler_options: Any = None, trials: int = 40, mask_fill: int = 0, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.min_scale, self.max_scale = check_range((min_scale, max_scale), "min_scale", 0.0,
                                                     1.0)
        self.min_aspect_ratio, self.max_aspect_ratio = check_range(
            (min_aspect_ratio, max_aspect_ratio), "min_aspect_ratio", 0.0, 1e6)
        options = IOU_OPTIONS if sampler_options is None else sampler_options
        if (not isinstance(options, (list, tuple)) or not options
                or not all(isinstance(v, (int, float)) and v >= 0 for v in options)):
            raise AugkitError(f"sampler_options: {sampler_options!r} is not allowed; expected "
                              "a list of minimum overlaps >= 0 (1.0 or more: no crop)")
        self.sampler_options = None if sampler_options is None else [float(v) for v in options]
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise AugkitError(f"trials: {trials!r} is not allowed; expected a whole number >= 1")
        self.trials = trials
        self.fill, self.mask_fill = 0, _check_mask_fill(mask_fill)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"u": torch.rand(batch, _IOU_ROUNDS, 1 + 4 * self.trials, generator=generator,
                                dtype=torch.float64)}

    def choose(self, u: np.ndarray, boxes: np.ndarray, size: tuple[int, int]
               ) -> tuple[int, int, int, int, np.ndarray] | None:
        """The crop ``(top, left, height, width, boxes centred in it)`` or ``None``."""
        height, width = size
        centres = (boxes[:, :2] + boxes[:, 2:]) / 2
        options = IOU_OPTIONS if self.sampler_options is None else self.sampler_options
        for draws in u:
            overlap = options[min(int(draws[0] * len(options)), len(options) - 1)]
            if overlap >= 1.0:
                return None
            for r0, r1, r2, r3 in draws[1:].reshape(-1, 4):
                new_w = int(width * (self.min_scale + (self.max_scale - self.min_scale) * r0))
                new_h = int(height * (self.min_scale + (self.max_scale - self.min_scale) * r1))
                if new_h == 0 or new_w == 0 or not (self.min_aspect_ratio <= new_w / new_h
                                                    <= self.max_aspect_ratio):
                    continue
                left, top = int((width - new_w) * r2), int((height - new_h) * r3)
                inside = ((left < centres[:, 0]) & (centres[:, 0] < left + new_w)
                          & (top < centres[:, 1]) & (centres[:, 1] < top + new_h))
                if inside.any() and _ious(boxes[inside], (left, top, left + new_w,
                                                          top + new_h)).max() >= overlap:
                    return top, left, new_h, new_w, inside
        return None

    def window(self, params: Params, size: tuple[int, int]
               ) -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
        top, left, height, width = params["crop"]
        return np.array([top]), np.array([left]), (height, width), "constant"

    def apply_pair(self, img: Any, targets: Targets | None, params: Params
                   ) -> tuple[Any, Targets | None]:
        if targets is None or targets.boxes is None:
            raise AugkitError("RandomIoUCrop: needs boxes, e.g. t(img, {'boxes': ..., "
                              "'labels': ...}) or t(image=img, boxes=..., labels=...)")
        if len(targets.boxes) != 1:
            raise AugkitError("RandomIoUCrop: each sample's crop has its own size; call it on "
                              "single images or on a list of them")
        choice = self.choose(np.asarray(params["u"][0]), targets.boxes[0], targets.size)
        if choice is None:
            return img, targets
        *crop, inside = choice
        img, moved = super().apply_pair(img, targets, {**params, "crop": crop})
        moved.visibility = [moved.visibility[0] * inside]
        return img, moved


def _ious(boxes: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    x1, y1, x2, y2 = window
    overlap_w = np.clip(np.minimum(boxes[:, 2], x2) - np.maximum(boxes[:, 0], x1), 0, None)
    overlap_h = np.clip(np.minimum(boxes[:, 3], y2) - np.maximum(boxes[:, 1], y1), 0, None)
    both = overlap_w * overlap_h
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return both / (areas + (x2 - x1) * (y2 - y1) - both)


class FiveCrop(_FixedWindows):
    """torchvision's ``FiveCrop``: the four corner windows of ``size`` and the centre one, as
    a tuple of five images (or batches); images only, as in torchvision."""

    keeps_size = False
    size_from_input = False  # five outputs, not a batch

    def apply(self, img: Any, params: Params) -> Any:
        return five_crop(img, self.size)

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        raise AugkitError(f"{type(self).__name__}: takes images only (boxes, masks and "
                          "keypoints would need five copies); crop them with RandomCrop")


class TenCrop(FiveCrop):
    """torchvision's ``TenCrop``: ``FiveCrop`` of the image, then of its horizontal (or, with
    ``vertical_flip``, vertical) mirror, as a tuple of ten."""

    def __init__(self, size: Any, vertical_flip: bool = False, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(size, seed=seed, generator=generator)
        if not isinstance(vertical_flip, bool):
            raise AugkitError(f"vertical_flip: {vertical_flip!r} is not allowed; expected a "
                              "bool")
        self.vertical_flip = vertical_flip

    def apply(self, img: Any, params: Params) -> Any:
        return ten_crop(img, self.size, self.vertical_flip)


class Normalize(Transform):
    """torchvision's ``Normalize``: ``(x - mean) / std`` per channel on float images; masks,
    boxes and keypoints stay."""

    def __init__(self, mean: Any, std: Any, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.mean, self.std = list(np.atleast_1d(mean).tolist()), list(
            np.atleast_1d(std).tolist())

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return normalize(img, self.mean, self.std)


class LinearTransformation(Transform):
    """torchvision's ``LinearTransformation`` (e.g. ZCA whitening): float images flattened,
    ``mean_vector`` subtracted, times ``transformation_matrix`` (``D x D``, ``D = C * H *
    W``); masks, boxes and keypoints stay."""

    def __init__(self, transformation_matrix: Any, mean_vector: Any, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        matrix = torch.as_tensor(np.asarray(transformation_matrix, dtype=np.float64))
        mean = torch.as_tensor(np.asarray(mean_vector, dtype=np.float64))
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise AugkitError(f"transformation_matrix: shape {tuple(matrix.shape)} is not "
                              "allowed; expected a square D x D matrix")
        if mean.shape != (matrix.shape[0],):
            raise AugkitError(f"mean_vector: shape {tuple(mean.shape)} is not allowed; "
                              f"expected ({matrix.shape[0]},), one value per row of the matrix")
        self._matrix, self._mean = matrix, mean

    @property
    def transformation_matrix(self) -> list[list[float]]:
        return self._matrix.tolist()

    @property
    def mean_vector(self) -> list[float]:
        return self._mean.tolist()

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return linear_transformation(img, self._matrix, self._mean)


class ToDtype(Transform):
    """torchvision's ``ToDtype`` on tensors: cast to ``dtype`` ("float32", "uint8", ...);
    ``scale`` maps uint8 0-255 to float 0-1 and back."""

    def __init__(self, dtype: Any = "float32", scale: bool = False, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        name = str(dtype).removeprefix("torch.")
        if not isinstance(getattr(torch, name, None), torch.dtype):
            raise AugkitError(f"dtype: {dtype!r} is not allowed; expected a torch dtype such as "
                              "torch.float32 or 'uint8'")
        self.dtype, self.scale = name, bool(scale)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return to_dtype(img, getattr(torch, self.dtype), self.scale)


__all__ = ["CenterCrop", "FiveCrop", "LinearTransformation", "Normalize", "Pad", "RandomCrop",
           "RandomIoUCrop", "RandomZoomOut", "TenCrop", "ToDtype"]
