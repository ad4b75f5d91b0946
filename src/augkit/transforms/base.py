"""The base class of random transforms, and the argument checks they share.

A transform does two things: ``make_params`` draws per-sample parameters (a dict of tensors
whose first dimension is the batch size) from a ``torch.Generator``, and ``apply`` calls a
kernel from ``augkit.functional`` with them. ``t(x)`` does both and keeps the draw in
``t.last_params``; ``t(y, params=t.last_params)`` replays it exactly on another input.
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.transforms._random import RandomSource
from augkit.transforms.calls import (
    OPTION_KEYS,
    call_with_keywords,
    call_with_target,
    merge_samples,
    run_call,
    select,
    take_samples,
)
from augkit.transforms.targets import TargetOptions, Targets

Params = dict[str, Any]

# Every public transform class, by name, for building pipelines from dicts, YAML and JSON.
REGISTRY: dict[str, type[Transform]] = {}


def check_probability(p: Any, name: str = "p") -> float:
    """``p`` as a float in [0, 1], or a ValueError naming it."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise AugkitError(f"{name}: {p!r} is not allowed; expected a probability in [0, 1]")
    return float(p)


def check_range(value: Any, name: str, low: float = 0.0, high: float = math.inf
                ) -> tuple[float, float]:
    """A ``(min, max)`` pair within ``[low, high]``; a single number means a fixed value."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = (value, value)
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise AugkitError(f"{name}: {value!r} is not allowed; expected a number or a "
                          "(min, max) pair of numbers")
    lo, hi = float(value[0]), float(value[1])
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise AugkitError(f"{name}: {value!r} is not allowed; the bounds must be finite")
    if lo > hi:
        raise AugkitError(f"{name}: {value!r} is not allowed; min {lo} is greater than max {hi}")
    if lo < low or hi > high:
        raise AugkitError(f"{name}: {value!r} is not allowed; expected values in [{low}, {high}]")
    return lo, hi


def uniform(bounds: tuple[float, float], n: int, generator: torch.Generator | None,
            step: float | None = None) -> torch.Tensor:
    """``n`` float64 draws from ``bounds``; with ``step``, only multiples of it (inclusive)."""
    return scale_uniform(torch.rand(n, generator=generator, dtype=torch.float64), bounds, step)


def scale_uniform(u: torch.Tensor, bounds: Any, step: float | None = None) -> torch.Tensor:
    """Map uniform [0, 1) draws onto ``bounds`` (``(low, high)``, or two arrays that
    broadcast against ``u``), or onto the multiples of ``step`` within them."""
    lo, hi = (np.asarray(b, dtype=np.float64) for b in bounds)
    draws = u.numpy()  # numpy is several times cheaper than torch on a handful of values
    if step is None:
        return torch.from_numpy(lo + (hi - lo) * draws)
    first = np.round(lo / step)
    count = np.floor((hi - lo) / step + 1e-9) + 1
    index = first + np.minimum(np.floor(draws * count), count - 1)
    per_unit = 1.0 / step
    if abs(per_unit - round(per_unit)) < 1e-9:  # e.g. step 0.1: k / 10 is the nearest double
        return torch.from_numpy(index / round(per_unit))
    return torch.from_numpy(index * step)


def bernoulli(p: float, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` booleans, each true with probability ``p``."""
    return torch.rand(n, generator=generator, dtype=torch.float64) < p


class Transform(ABC):
    """Base of augkit's random transforms.

    Subclasses set ``make_params`` and ``apply``; constructor arguments are stored under
    their own names so that ``to_dict`` can serialize them.
    """

    #: whether ``apply`` keeps the image size (then unapplied samples are simply skipped)
    keeps_size: ClassVar[bool] = True
    #: whether the output size follows from the input size alone, whatever is drawn (true
    #: of every transform that keeps the size, and of resizing or cropping to a set size)
    size_from_input: ClassVar[bool] = True
    #: whether ``p`` is drawn once per call for the whole batch, as torchvision does
    applies_per_call: ClassVar[bool] = False
    #: whether sample i's output depends on sample i and its parameters alone (MixUp and
    #: CutMix mix samples): then several draws can run as one batch (``concat_params``)
    samples_independent: ClassVar[bool] = True

    def __init__(self, *, p: float = 1.0, seed: int | None = None,
                 generator: torch.Generator | None = None):
        self.p = check_probability(p)
        self.random = RandomSource(seed, generator)
        self.last_params: Params | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            REGISTRY[cls.__name__] = cls

    @property
    def seed(self) -> int | None:
        return self.random.seed

    def reseed(self, seed: int | None) -> Transform:
        """Draw from a fresh generator seeded with ``seed`` (``None``: torch's global one)."""
        self.random = RandomSource(seed)
        return self

    # ---- what subclasses provide ----
    @abstractmethod
    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        """Draw this transform's parameters for ``batch`` samples."""

    @abstractmethod
    def apply(self, img: Any, params: Params) -> Any:
        """Apply already drawn parameters; deterministic."""

    # ---- drawing and replay ----
    def generator(self, parent: torch.Generator | None = None) -> torch.Generator | None:
        """This transform's own generator if it was seeded, else ``parent``'s."""
        own = self.random.get()
        return own if own is not None else parent

    def draw(self, batch: int | None, parent: torch.Generator | None = None) -> Params:
        """Draw parameters for an image (``batch=None``) or a batch, with ``applied`` flags."""
        n = 1 if batch is None else batch
        generator = self.generator(parent)
        if self.p < 1.0 and self.applies_per_call:
            params = {"applied": bernoulli(self.p, 1, generator).expand(n).clone()}
        elif self.p < 1.0:
            params = {"applied": bernoulli(self.p, n, generator)}
        else:
            params = {"applied": torch.ones(n, dtype=torch.bool)}
        params.update(self.make_params(n, generator))
        return params

    def __call__(self, *inputs: Any, params: Params | None = None, **named: Any) -> Any:
        """``t(img)`` returns the image; ``t(img, target)`` (torchvision's form, ``target``
        a dict with ``boxes``, ``labels``, ``masks``, ``keypoints``) returns ``(img,
        target)``; ``t(image=img, mask=m, boxes=b, labels=l, keypoints=k)``
        (albumentations' form) returns a dict with the same keys. ``params=`` replays a
        draw; ``box_format=``, ``min_area=``, ``min_visibility=`` and
        ``outside_keypoints=`` override the pipeline's ``TargetOptions`` for this call."""
        options = self.target_options(named)
        if named:
            if inputs:
                raise AugkitError(f"{type(self).__name__}: give the image and its targets all "
                                  "by keyword (image=..., mask=...) or as (img, target)")
            return call_with_keywords(self, named, params, options)
        if len(inputs) == 1:
            return self.forward(inputs[0], params)
        if len(inputs) == 2:
            return call_with_target(self, inputs[0], inputs[1], params, options)
        raise AugkitError(f"{type(self).__name__}: expected t(img), t(img, target) or "
                          f"t(image=..., mask=..., boxes=...); got {len(inputs)} positional "
                          "arguments")

    def target_options(self, named: dict[str, Any] | None = None) -> TargetOptions:
        """This transform's ``TargetOptions`` (a ``Compose`` sets its own), with the call's
        overrides popped from ``named``."""
        base = getattr(self, "_target_options", TargetOptions())
        overrides = {key: named.pop(key) for key in OPTION_KEYS if named and key in named}
        return replace(base, **overrides) if overrides else base

    def forward(self, img: Any, params: Params | None = None,
                parent: torch.Generator | None = None) -> Any:
        return run_call(self, img, None, params, parent)[0]

    def prepare(self, batch: int | None, params: Params | None,
                parent: torch.Generator | None = None, mixed_sizes: bool = False) -> Params:
        """Drawn parameters for ``batch`` samples (``None``: one image), or ``params``
        checked against them; kept in ``last_params``. ``mixed_sizes``: the samples are a
        list, which may hold images of several sizes."""
        if (batch is not None and batch > 1 and self.p < 1 and not self.keeps_size
                and not self.applies_per_call and not mixed_sizes):
            raise AugkitError(f"{type(self).__name__}: p={self.p} on a batch applies it to some "
                              "samples only, and it changes the image size, so the batch "
                              "would hold two sizes; use p=1, or call it on single images")
        if params is None:
            params = self.draw(batch, parent)
        else:
            self.check_params(params, batch)
        self.last_params = params
        return params

    def check_params(self, params: Params, batch: int | None) -> None:
        """Raise a ValueError unless ``params`` fits this transform and ``batch``."""
        if not isinstance(params, dict) or "applied" not in params:
            raise AugkitError(f"params: expected a dict from {type(self).__name__}.last_params "
                              f"with an 'applied' entry, got {params!r:.80}")
        n = 1 if batch is None else batch
        for key, value in params.items():
            if isinstance(value, torch.Tensor) and value.ndim and value.shape[0] != n:
                raise AugkitError(f"params: {key!r} holds {value.shape[0]} samples; the input "
                                  f"has {n}")

    def apply_targets(self, targets: Targets, params: Params, size: tuple[int, int]
                      ) -> Targets:
        """Move the targets of an image of ``size``; photometric and noise ops leave them."""
        return targets

    def apply_pair(self, img: Any, targets: Targets | None, params: Params
                   ) -> tuple[Any, Targets | None]:
        """Apply drawn parameters to the image and, when there are any, its targets."""
        moved = (None if targets is None
                 else self.apply_targets(targets, params, dispatch.image_size(img)))
        return self.apply(img, params), moved

    def apply_where_applied(self, img: Any, params: Params) -> Any:
        return self.apply_with_targets(img, None, params)[0]

    def apply_with_targets(self, img: Any, targets: Targets | None, params: Params
                           ) -> tuple[Any, Targets | None]:
        """``apply_pair`` on the samples whose ``applied`` flag is set; the others pass."""
        applied = params["applied"]
        if bool(applied.all()):
            return self.apply_pair(img, targets, params)
        if not bool(applied.any()):
            return img, targets
        if not self.keeps_size:
            raise AugkitError(f"{type(self).__name__}: p={self.p} on a batch applies it to some "
                              "samples only, and it changes the image size, so the batch "
                              "would hold two sizes; use p=1, or call it on single images")
        index = applied.nonzero().squeeze(1)
        subset = {k: select(v, index) for k, v in params.items()}
        part, part_targets = self.apply_pair(take_samples(img, index),
                                             None if targets is None else targets.select(index),
                                             subset)
        out = merge_samples(img, index, part)
        if targets is not None:
            targets = targets.copy()
            targets.put(index, part_targets)
        return out, targets

    # ---- serialization ----
    def config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this transform (no generator object)."""
        names = [name for name in inspect.signature(type(self).__init__).parameters
                 if name not in ("self", "generator")]
        return {name: _spec_value(getattr(self, name)) for name in names}

    def to_dict(self) -> dict[str, Any]:
        """``{"type": ClassName, **arguments}``; see ``augkit.transforms.from_dict``."""
        return {"type": type(self).__name__, **self.config()}

    def __repr__(self) -> str:
        """A constructor call: the arguments that differ from their defaults, as stored
        (ranges resolved), nested transforms as their own calls."""
        args = []
        for name, parameter in inspect.signature(type(self).__init__).parameters.items():
            if name in ("self", "generator") or parameter.kind is parameter.VAR_KEYWORD:
                continue
            value = getattr(self, name)
            if not _is_default(value, parameter.default):
                args.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(args)})"


def _is_default(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return False
    if isinstance(value, (tuple, list)) and isinstance(default, (tuple, list)):
        return len(value) == len(default) and all(map(_is_default, value, default))
    try:
        return bool(value == default)
    except (TypeError, ValueError, RuntimeError):  # arrays and tensors compare elementwise
        return False


def _spec_value(value: Any) -> Any:
    """A constructor argument as YAML/JSON-ready data (transforms as their dicts)."""
    if isinstance(value, (tuple, list)):
        return [_spec_value(v) for v in value]
    if isinstance(value, Transform):
        return value.to_dict()
    return value


def params_to_json(params: Any) -> Any:
    """Drawn parameters (nested dicts and lists of tensors) as JSON-ready lists."""
    if isinstance(params, torch.Tensor):
        return params.tolist()
    if isinstance(params, dict):
        return {k: params_to_json(v) for k, v in params.items()}
    if isinstance(params, list):
        return [params_to_json(v) for v in params]
    return params


def params_from_json(value: Any) -> Any:
    """The inverse of ``params_to_json``: float lists become float64 tensors."""
    if isinstance(value, dict):
        return {k: params_from_json(v) for k, v in value.items()}
    if isinstance(value, list) and (not value or not isinstance(value[0], dict)):
        tensor = torch.tensor(value)
        return tensor.to(torch.float64) if tensor.is_floating_point() else tensor
    if isinstance(value, list):
        return [params_from_json(v) for v in value]
    return value
