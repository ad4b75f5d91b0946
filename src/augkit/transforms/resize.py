"""torchvision's resizing transforms on ``augkit.functional.resize`` (Pillow's ``Image.resize``,
exact on uint8): ``Resize``, ``RandomResize``, ``RandomShortestSize`` and ``ScaleJitter``.

The random ones draw one size per call, as torchvision does, so a batch keeps one size;
masks take Pillow's NEAREST resize, boxes and keypoints the scale.

>>> import torch
>>> from augkit.transforms import Resize
>>> Resize(16)(torch.zeros(3, 32, 48, dtype=torch.uint8)).shape
torch.Size([3, 16, 24])
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch, resize
from augkit.functional.crop import remap
from augkit.functional.resize import check_filter, nearest_sources, output_size
from augkit.transforms.base import Params
from augkit.transforms.geometry import Geometric


def _sizes(value: Any, name: str) -> list[int]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values or any(isinstance(v, bool) or not isinstance(v, int) or v < 1
                         for v in values):
        raise AugkitError(f"{name}: {value!r} is not allowed; expected positive integers")
    return values


class _Resizing(Geometric):
    """Resize every sample to the size ``out_size`` gives for the drawn parameters."""

    keeps_size = False
    interpolation = "bilinear"

    @abstractmethod
    def out_size(self, params: Params, size: tuple[int, int]) -> tuple[int, int]:
        """The output (h, w) of an input of ``size``."""

    def apply(self, img: Any, params: Params) -> Any:
        height, width = self.out_size(params, dispatch.image_size(img))
        return resize(img, [height, width], self.interpolation)

    def forward_matrices(self, params: Params, size: tuple[int, int]
                         ) -> tuple[np.ndarray, tuple[int, int]]:
        out = self.out_size(params, size)
        forward = np.tile(np.eye(3), (len(params["applied"]), 1, 1))
        for axis, (old, new) in enumerate(zip(size[::-1], out[::-1], strict=True)):
            forward[:, axis, axis] = new / old
            forward[:, axis, 2] = 0.5 * new / old - 0.5  # pixel centres: (x + 0.5) s - 0.5
        return forward, out

    def masks_by(self, params: Params, size: tuple[int, int]) -> Any:
        out = self.out_size(params, size)
        if out == size:
            return lambda masks: masks
        rows, cols = nearest_sources(size, out)
        n = len(params["applied"])
        rows, cols = np.tile(rows, (n, 1)), np.tile(cols, (n, 1))
        return lambda masks: remap(masks, rows, cols, torch.zeros(masks.shape[1]))


class Resize(_Resizing):
    """torchvision's ``Resize``: ``size`` as (h, w), or one number for the shorter side (the
    longer one at most ``max_size``); Pillow's filters, exact on uint8."""

    def __init__(self, size: Any, interpolation: Any = "bilinear", max_size: int | None = None,
                 antialias: bool = True, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.size = size if size is None else _sizes(size, "size")
        if self.size is not None and len(self.size) > 2:
            raise AugkitError(f"size: {size!r} is not allowed; expected one number or (h, w)")
        self.interpolation, self.max_size = check_filter(interpolation), max_size
        if antialias is not True:
            raise AugkitError("antialias: only True (Pillow's resize always antialiases when "
                              "it shrinks)")
        self.antialias = antialias
        output_size((64, 64), self.size, max_size)  # the arguments' errors, now

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def out_size(self, params: Params, size: tuple[int, int]) -> tuple[int, int]:
        return output_size(size, self.size, self.max_size)


class _OneDraw(_Resizing):
    """A size parameter drawn once per call and shared by every sample."""

    size_from_input = False

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        u = torch.rand(1, generator=generator, dtype=torch.float64)
        return {"u": u.expand(batch).clone()}


class RandomResize(_OneDraw):
    """torchvision's ``RandomResize``: the shorter side to a size drawn uniformly from
    ``min_size .. max_size - 1``, once per call."""

    def __init__(self, min_size: int, max_size: int, interpolation: Any = "bilinear",
                 antialias: bool = True, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        (self.min_size,), (self.max_size,) = _sizes(min_size, "min_size"), \
            _sizes(max_size, "max_size")
        if self.max_size <= self.min_size:
            raise AugkitError(f"max_size: {max_size} must be larger than min_size ({min_size})")
        self.interpolation, self.antialias = check_filter(interpolation), antialias

    def out_size(self, params: Params, size: tuple[int, int]) -> tuple[int, int]:
        span = self.max_size - self.min_size
        side = self.min_size + min(int(float(params["u"][0]) * span), span - 1)
        return output_size(size, side)


class RandomShortestSize(_OneDraw):
    """torchvision's ``RandomShortestSize``: the shorter side to one of ``min_size`` (drawn
    once per call), the longer one at most ``max_size``."""

    def __init__(self, min_size: Any, max_size: int | None = None,
                 interpolation: Any = "bilinear", antialias: bool = True, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.min_size, self.max_size = _sizes(min_size, "min_size"), max_size
        self.interpolation, self.antialias = check_filter(interpolation), antialias

    def out_size(self, params: Params, size: tuple[int, int]) -> tuple[int, int]:
        index = min(int(float(params["u"][0]) * len(self.min_size)), len(self.min_size) - 1)
        short = self.min_size[index]
        height, width = size
        scale = short / min(height, width)
        if self.max_size is not None:
            scale = min(scale, self.max_size / max(height, width))
        return max(int(height * scale), 1), max(int(width * scale), 1)


class ScaleJitter(_OneDraw):
    """torchvision's ``ScaleJitter`` (large scale jitter): fit in ``target_size`` (h, w) times
    a factor drawn from ``scale_range``, once per call, keeping the aspect ratio."""

    def __init__(self, target_size: Any, scale_range: Any = (0.1, 2.0),
                 interpolation: Any = "bilinear", antialias: bool = True, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.target_size = _sizes(target_size, "target_size")
        if len(self.target_size) != 2:
            raise AugkitError(f"target_size: {target_size!r} is not allowed; expected (h, w)")
        low, high = (float(v) for v in scale_range)
        if not 0 < low <= high:
            raise AugkitError(f"scale_range: {scale_range!r} is not allowed; expected "
                              "0 < low <= high")
        self.scale_range = [low, high]
        self.interpolation, self.antialias = check_filter(interpolation), antialias

    def out_size(self, params: Params, size: tuple[int, int]) -> tuple[int, int]:
        low, high = self.scale_range
        factor = low + float(params["u"][0]) * (high - low)
        height, width = size
        scale = min(self.target_size[0] / height, self.target_size[1] / width) * factor
        return max(int(height * scale), 1), max(int(width * scale), 1)


__all__ = ["RandomResize", "RandomShortestSize", "Resize", "ScaleJitter"]
