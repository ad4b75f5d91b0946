"""Random photometric transforms: Pillow's four ImageEnhance ops with per-sample factors.

Factors follow torchvision's ``ColorJitter``: a number ``s`` draws from ``[max(0, 1 - s),
1 + s]`` around the identity factor 1, a pair ``(lo, hi)`` from that range. The defaults are
mild enough for photos (colour 0.6-1.4, brightness and contrast 0.7-1.3, sharpness 0.5-1.5);
the study log's strong ranges (colour and sharpness 0-9.9, brightness 0.4-1.9, contrast 1-2,
in steps of 0.1) are the ``study-log`` preset, ``augkit.transforms.presets.study_log()``.

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
from augkit.functional import (
    ENHANCE_OPS,
    adjust_hue,
    brightness,
    color,
    contrast,
    dispatch,
    enhance,
    permute_channels,
)
from augkit.transforms.base import (
    Params,
    Transform,
    check_probability,
    check_range,
    scale_uniform,
    uniform,
)
from augkit.transforms.calls import merge_samples, put_samples, take_samples

LOG_RANGES = {
    "color": (0.0, 9.9),
    "brightness": (0.4, 1.9),
    "contrast": (1.0, 2.0),
    "sharpness": (0.0, 9.9),
}
DEFAULT_JITTER = {"color": 0.4, "brightness": 0.3, "contrast": 0.3, "sharpness": 0.5}
DEFAULT_ORDER = ("color", "brightness", "contrast", "sharpness")
_MAX_FACTOR = 1e6


def jitter_range(value: Any, name: str) -> tuple[float, float]:
    """torchvision's jitter: ``s`` means ``[max(0, 1 - s), 1 + s]``; a pair is the range."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value < 0:
            raise AugkitError(f"{name}: {value!r} is not allowed; a single number is the "
                              "jitter around 1 and must be >= 0")
        value = (max(0.0, 1.0 - value), 1.0 + value)
    return check_range(value, name, 0.0, _MAX_FACTOR)


def _check_step(step: Any) -> float | None:
    if step is None:
        return None
    if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step < _MAX_FACTOR:
        raise AugkitError(f"step: {step!r} is not allowed; expected a number > 0, or None for "
                          "continuous factors")
    return float(step)


class _RandomEnhanceOp(Transform):
    op: str

    def __init__(self, factor: Any = None, step: float | None = None, *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.factor = jitter_range(DEFAULT_JITTER[self.op] if factor is None else factor,
                                   "factor")
        self.step = _check_step(step)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"factor": uniform(self.factor, batch, generator, self.step)}

    def apply(self, img: Any, params: Params) -> Any:
        return ENHANCE_OPS[self.op](img, np.asarray(params["factor"]))


class RandomColor(_RandomEnhanceOp):
    """Pillow's colour (saturation) with a random factor: 0 grayscale, 1 unchanged; ``factor``
    as in ``ColorJitter(saturation=...)``, default 0.4 (0.6-1.4)."""

    op = "color"


class RandomBrightness(_RandomEnhanceOp):
    """Pillow's brightness with a random factor: 0 black, 1 unchanged; ``factor`` as in
    ``ColorJitter(brightness=...)``, default 0.3 (0.7-1.3)."""

    op = "brightness"


class RandomContrast(_RandomEnhanceOp):
    """Pillow's contrast with a random factor: 0 uniform gray, 1 unchanged; ``factor`` as in
    ``ColorJitter(contrast=...)``, default 0.3 (0.7-1.3)."""

    op = "contrast"


class RandomSharpness(_RandomEnhanceOp):
    """Pillow's sharpness with a random factor: 0 smoothed, 1 unchanged; ``factor`` a jitter
    around 1 as in ``ColorJitter``, default 0.5 (0.5-1.5)."""

    op = "sharpness"


class RandomEnhance(Transform):
    """Pillow's colour, brightness, contrast and sharpness (the study log's chain), each with
    its own random factor per sample, in that order or (``random_order=True``) in a random
    order per sample. Factors as in ``ColorJitter`` (a number ``s`` means 1 +- s); pass
    ``None`` for an op to leave it out. ``presets.study_log()`` is this with the log's ranges.

    >>> from augkit.transforms import RandomEnhance
    >>> t = RandomEnhance(random_order=True, seed=1)
    >>> sorted(t.to_dict())[:3]
    ['brightness', 'color', 'contrast']
    """

    def __init__(self, color: Any = DEFAULT_JITTER["color"],
                 brightness: Any = DEFAULT_JITTER["brightness"],
                 contrast: Any = DEFAULT_JITTER["contrast"],
                 sharpness: Any = DEFAULT_JITTER["sharpness"],
                 step: float | None = None, random_order: bool = False, *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        for op, value in zip(DEFAULT_ORDER, (color, brightness, contrast, sharpness),
                             strict=True):
            setattr(self, op, None if value is None else jitter_range(value, op))
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


class ColorJitter(Transform):
    """torchvision's ``ColorJitter``: brightness, contrast, saturation (Pillow's colour) and
    hue, each factor drawn per sample (a number ``s`` means 1 +- s, hue ``h`` means +-h), in a
    random order per sample; bit-identical to torchvision's PIL path on uint8."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.brightness = jitter_range(brightness, "brightness")
        self.contrast = jitter_range(contrast, "contrast")
        self.saturation = jitter_range(saturation, "saturation")
        self.hue = _hue_range(hue)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        u = torch.rand(batch, 8, generator=generator, dtype=torch.float64)
        bounds = np.array([self.brightness, self.contrast, self.saturation, self.hue]).T
        return {"factors": scale_uniform(u[:, :4], bounds), "order": u[:, 4:].argsort(dim=1)}

    def _ops(self) -> list[Any]:
        identity = {0: (1.0, 1.0), 1: (1.0, 1.0), 2: (1.0, 1.0), 3: (0.0, 0.0)}
        ranges = (self.brightness, self.contrast, self.saturation, self.hue)
        kernels = (brightness, contrast, color, adjust_hue)
        return [None if tuple(ranges[i]) == identity[i] else kernels[i] for i in range(4)]

    def apply(self, img: Any, params: Params) -> Any:
        ops, factors = self._ops(), np.asarray(params["factors"])
        order = params["order"]
        own = False  # whether img is this call's own copy, free to write into
        for position in range(4):
            for op in range(4):
                if ops[op] is not None:
                    out = run_where(img, order[:, position] == op,
                                    lambda x, index, op=op: ops[op](x, factors[index, op]), own)
                    img, own = out, own or out is not img
        return img


def run_where(img: Any, mask: torch.Tensor, fn: Any, in_place: bool = False) -> Any:
    """``fn(samples, index)`` on the samples of ``img`` where ``mask`` (one flag per sample)
    is set, ``index`` their positions as a numpy array; the others pass unchanged. A batch
    is copied first unless ``in_place`` (the caller's own copy, written into)."""
    if not bool(mask.any()):
        return img
    if dispatch.batch_size(img) is None or bool(mask.all()):
        return fn(img, np.arange(len(mask)))
    index = mask.nonzero().squeeze(1)
    part = fn(take_samples(img, index), index.numpy())
    if not in_place:
        return merge_samples(img, index, part)
    put_samples(img, index, part)
    return img


def _hue_range(hue: Any) -> tuple[float, float]:
    if isinstance(hue, (int, float)) and not isinstance(hue, bool):
        if hue < 0:
            raise AugkitError(f"hue: {hue!r} is not allowed; a single number must be >= 0")
        hue = (-hue, hue)
    return check_range(hue, "hue", -0.5, 0.5)


class RandomPhotometricDistort(Transform):
    """torchvision's ``RandomPhotometricDistort`` (SSD's distortion): per sample, each of
    brightness, contrast, saturation (Pillow's colour) and hue with chance ``p`` and a factor
    from its range, contrast before or after saturation and hue (even odds), then with chance
    ``p`` a random channel order; bit-identical to torchvision's PIL path on uint8."""

    def __init__(self, brightness: Any = (0.875, 1.125), contrast: Any = (0.5, 1.5),
                 saturation: Any = (0.5, 1.5), hue: Any = (-0.05, 0.05), p: float = 0.5, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        self.brightness = jitter_range(brightness, "brightness")
        self.contrast = jitter_range(contrast, "contrast")
        self.saturation = jitter_range(saturation, "saturation")
        self.hue = _hue_range(hue)
        self.p = check_probability(p)

    def draw(self, batch: int | None, parent: torch.Generator | None = None) -> Params:
        # ``p`` is each step's chance here, as in torchvision, not the whole transform's
        n = 1 if batch is None else batch
        return {"applied": torch.ones(n, dtype=torch.bool),
                **self.make_params(n, self.generator(parent))}

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        u = torch.rand(batch, 14, generator=generator, dtype=torch.float64)
        bounds = np.array([self.brightness, self.contrast, self.saturation, self.hue]).T
        return {"steps": u[:, :5] < self.p, "factors": scale_uniform(u[:, 5:9], bounds),
                "contrast_before": u[:, 9] < 0.5, "keys": u[:, 10:]}

    def apply(self, img: Any, params: Params) -> Any:
        steps, factors = params["steps"], np.asarray(params["factors"])
        before = params["contrast_before"]
        own = False  # as in ColorJitter.apply
        for op, kernel, mask in ((0, brightness, steps[:, 0]), (1, contrast, steps[:, 1] & before),
                                 (2, color, steps[:, 2]), (3, adjust_hue, steps[:, 3]),
                                 (1, contrast, steps[:, 1] & ~before)):
            out = run_where(img, mask, lambda x, index, op=op, kernel=kernel:
                            kernel(x, factors[index, op]), own)
            img, own = out, own or out is not img
        channels = dispatch.num_channels(img)
        order = params["keys"][:, :channels].argsort(dim=1)
        return run_where(img, steps[:, 4], lambda x, index: permute_channels(x, order[index]),
                         own)
