"""Random photometric transforms: Pillow's four ImageEnhance ops with per-sample factors.

The default ranges are the study log's, each a multiple of 0.1:
color 0.0-9.9, brightness 0.4-1.9, contrast 1.0-2.0, sharpness 0.0-9.9.

>>> import torch
>>> from augkit.transforms import RandomBrightness
>>> t = RandomBrightness(seed=0)
>>> batch = torch.full((4, 3, 8, 8), 100, dtype=torch.uint8)
>>> out = t(batch)                      # each sample gets its own factor
>>> again = t(batch, params=t.last_params)
>>> bool((out == again).all())
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import ENHANCE_OPS, enhance
from augkit.transforms.base import (
    Params,
    Transform,
    check_range,
    scale_uniform,
    uniform,
)

LOG_RANGES = {
    "color": (0.0, 9.9),
    "brightness": (0.4, 1.9),
    "contrast": (1.0, 2.0),
    "sharpness": (0.0, 9.9),
}
DEFAULT_ORDER = ("color", "brightness", "contrast", "sharpness")
_MAX_FACTOR = 1e6


def _check_step(step: Any) -> float | None:
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step < _MAX_FACTOR:
        raise AugkitError(f"step: {step!r} is not allowed; expected a number > 0, or None for "
                          "continuous factors")
    return float(step)


class _RandomEnhanceOp(Transform):
    op: str

    def __init__(self, factor: Any = None, step: float | None = 0.1, *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.factor = check_range(LOG_RANGES[self.op] if factor is None else factor,
                                  "factor", 0.0, _MAX_FACTOR)
        self.step = _check_step(step)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"factor": uniform(self.factor, batch, generator, self.step)}

    def apply(self, img: Any, params: Params) -> Any:
        return ENHANCE_OPS[self.op](img, np.asarray(params["factor"]))


class RandomColor(_RandomEnhanceOp):
    """Colour saturation with a random factor (0 grayscale, 1 unchanged); default 0.0-9.9."""

    op = "color"


class RandomBrightness(_RandomEnhanceOp):
    """Brightness with a random factor (0 black, 1 unchanged); default 0.4-1.9."""

    op = "brightness"


class RandomContrast(_RandomEnhanceOp):
    """Contrast with a random factor (0 uniform gray, 1 unchanged); default 1.0-2.0."""

    op = "contrast"


class RandomSharpness(_RandomEnhanceOp):
    """Sharpness with a random factor (0 smoothed, 1 unchanged); default 0.0-9.9."""

    op = "sharpness"


class RandomEnhance(Transform):
    """The study log's chain: color, brightness, contrast and sharpness, each with its own
    random factor per sample, in that order or (``random_order=True``) in a random order per
    sample. Pass ``None`` for an op to leave it out.

    >>> from augkit.transforms import RandomEnhance
    >>> t = RandomEnhance(random_order=True, seed=1)
    >>> sorted(t.to_dict())[:3]
    ['brightness', 'color', 'contrast']
    """

    def __init__(self, color: Any = LOG_RANGES["color"],
                 brightness: Any = LOG_RANGES["brightness"],
                 contrast: Any = LOG_RANGES["contrast"],
                 sharpness: Any = LOG_RANGES["sharpness"],
                 step: float | None = 0.1, random_order: bool = False, *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.color = None if color is None else check_range(color, "color", 0.0, _MAX_FACTOR)
        self.brightness = (None if brightness is None
                           else check_range(brightness, "brightness", 0.0, _MAX_FACTOR))
        self.contrast = (None if contrast is None
                         else check_range(contrast, "contrast", 0.0, _MAX_FACTOR))
        self.sharpness = (None if sharpness is None
                          else check_range(sharpness, "sharpness", 0.0, _MAX_FACTOR))
        self.ops = tuple(op for op in DEFAULT_ORDER if getattr(self, op) is not None)
        if not self.ops:
            raise AugkitError("RandomEnhance: every op is None; give at least one factor range")
        self.step = _check_step(step)
        if not isinstance(random_order, bool):
            raise AugkitError(f"random_order: {random_order!r} is not allowed; expected a bool")
        self.random_order = random_order

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        k = len(self.ops)
        u = torch.rand(batch, k * (2 if self.random_order else 1), generator=generator,
                       dtype=torch.float64)
        bounds = np.array([getattr(self, op) for op in self.ops]).T
        factors = scale_uniform(u[:, :k], bounds, self.step)
        params: Params = {op: factors[:, i] for i, op in enumerate(self.ops)}
        if self.random_order:
            params["order"] = u[:, k:].argsort(dim=1)
        return params

    def apply(self, img: Any, params: Params) -> Any:
        factors = np.stack([np.asarray(params[op]) for op in self.ops], axis=1)
        return enhance(img, self.ops, factors, order=params.get("order"))
