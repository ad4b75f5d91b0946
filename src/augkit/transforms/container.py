"""Transforms made of transforms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.transforms.base import Params, Transform, select
from augkit.transforms.calls import put_samples, take_samples
from augkit.transforms.targets import TargetOptions, Targets


def _check_transforms(transforms: Any, name: str = "transforms",
                      callables: bool = False) -> list[Any]:
    if not isinstance(transforms, Sequence) or isinstance(transforms, str):
        raise AugkitTypeError(f"{name}: expected a list of transforms, got "
                              f"{type(transforms).__name__}")
    for i, t in enumerate(transforms):
        if not isinstance(t, Transform) and not (callables and callable(t)):
            kind = "an augkit transform or a callable" if callables else "an augkit transform"
            raise AugkitTypeError(f"{name}[{i}]: expected {kind}, got {type(t).__name__}")
    return list(transforms)


class Compose(Transform):
    """Apply transforms one after another; a seed here drives every child without its own.

    A step may be any callable (a function, a torchvision transform): it gets the image alone,
    its targets pass unchanged, its randomness is its own (not replayed), and a pipeline with
    such a step cannot be saved. ``box_format``, ``min_area``, ``min_visibility`` and
    ``outside_keypoints`` say how boxes and keypoints are read and kept (``TargetOptions``).

    >>> from augkit.transforms import Compose, RandomBrightness, RandomContrast
    >>> pipeline = Compose([RandomBrightness(), RandomContrast()], seed=0)
    >>> [t["type"] for t in pipeline.to_dict()["transforms"]]
    ['RandomBrightness', 'RandomContrast']
    """

    def __init__(self, transforms: Sequence[Any], *, box_format: str = "xyxy",
                 min_area: float = 0.0, min_visibility: float = 0.0,
                 outside_keypoints: str = "flag", p: float = 1.0, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.transforms = _check_transforms(transforms, callables=True)
        self._target_options = TargetOptions(box_format, min_area, min_visibility,
                                             outside_keypoints)
        self.box_format, self.min_area = box_format, min_area
        self.min_visibility, self.outside_keypoints = min_visibility, outside_keypoints

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"transforms": [t.draw(batch, generator) if isinstance(t, Transform) else {}
                               for t in self.transforms]}

    def config(self) -> dict[str, Any]:
        for i, t in enumerate(self.transforms):
            if not isinstance(t, Transform):
                name = getattr(t, "__name__", type(t).__name__)
                raise AugkitError(f"transforms[{i}]: {name} is a plain callable and cannot be "
                                  "saved; only augkit transforms serialise")
        config = super().config()
        defaults = {"box_format": "xyxy", "min_area": 0.0, "min_visibility": 0.0,
                    "outside_keypoints": "flag"}
        return {k: v for k, v in config.items() if k not in defaults or v != defaults[k]}

    def check_params(self, params: Params, batch: int | None) -> None:
        super().check_params(params, batch)
        children = params.get("transforms")
        if not isinstance(children, list) or len(children) != len(self.transforms):
            raise AugkitError(f"params: expected 'transforms' with {len(self.transforms)} "
                              "entries, one per transform")
        for t, child in zip(self.transforms, children, strict=True):
            if isinstance(t, Transform):
                t.check_params(child, batch)

    def apply(self, img: Any, params: Params) -> Any:
        return self.apply_pair(img, None, params)[0]

    def apply_pair(self, img: Any, targets: Targets | None, params: Params
                   ) -> tuple[Any, Targets | None]:
        for t, child in zip(self.transforms, params["transforms"], strict=True):
            if not isinstance(t, Transform):
                img = t(img)
                continue
            if isinstance(img, tuple) and getattr(t, "takes_any_input", False):
                img = t.apply(img, child)
                continue
            if isinstance(img, tuple):
                raise AugkitError(f"{type(t).__name__}: got a tuple of crops (FiveCrop or "
                                  "TenCrop); put those last in a pipeline, or stack the crops "
                                  "first, e.g. Lambda(torch.stack)")
            t.last_params = child
            img, targets = t.apply_with_targets(img, targets, child)
        return img, targets

    @property
    def keeps_size(self) -> bool:  # type: ignore[override]
        return all(getattr(t, "keeps_size", True) for t in self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self.transforms[index]


class RandomApply(Compose):
    """Apply the whole list, in order, with probability ``p`` (per sample on a batch)."""

    def __init__(self, transforms: Sequence[Any], p: float = 0.5, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(transforms, p=p, seed=seed, generator=generator)


def _apply_grouped(img: Any, targets: Targets | None, keys: torch.Tensor, run: Any
                   ) -> tuple[Any, Targets | None]:
    """Apply ``run(images, targets, index, key)`` to the samples sharing each distinct row of
    ``keys``."""
    if keys.shape[0] == 1 or bool((keys == keys[0]).all()):
        return run(img, targets, torch.arange(keys.shape[0]), keys[0])
    out, merged = img.clone(), None if targets is None else targets.copy()
    for key in keys.unique(dim=0):
        match = (keys == key).view(keys.shape[0], -1).all(dim=1)
        index = match.nonzero().squeeze(1)
        result, moved = run(take_samples(img, index), None if targets is None
                            else targets.select(index), index, key)
        if result.shape[1:] != img.shape[1:]:
            raise AugkitError("transforms: per-sample choices on a batch must keep the image "
                              "size")
        put_samples(out, index, result)
        if merged is not None:
            merged.put(index, moved)
    return out, merged


class RandomChoice(Transform):
    """Apply one transform per sample, picked with probabilities ``weights`` (default equal)."""

    def __init__(self, transforms: Sequence[Transform], weights: Sequence[float] | None = None,
                 *, p: float = 1.0, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.transforms = _check_transforms(transforms)
        if not self.transforms:
            raise AugkitError("transforms: expected at least one transform")
        if weights is not None:
            if (len(weights) != len(self.transforms)
                    or not all(isinstance(w, (int, float)) and w >= 0 for w in weights)
                    or sum(weights) <= 0):
                raise AugkitError(f"weights: {weights!r} is not allowed; expected "
                                  f"{len(self.transforms)} numbers >= 0, not all 0")
            weights = [float(w) for w in weights]
        self.weights = weights

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        weights = torch.tensor(self.weights or [1.0] * len(self.transforms),
                               dtype=torch.float64)
        choice = torch.multinomial(weights.expand(batch, -1), 1, generator=generator)
        return {"choice": choice.squeeze(1),
                "transforms": [t.draw(batch, generator) for t in self.transforms]}

    def apply(self, img: Any, params: Params) -> Any:
        return self.apply_pair(img, None, params)[0]

    def apply_pair(self, img: Any, targets: Targets | None, params: Params
                   ) -> tuple[Any, Targets | None]:
        def run(subset: Any, part: Targets | None, index: torch.Tensor, key: torch.Tensor
                ) -> tuple[Any, Targets | None]:
            chosen = self.transforms[int(key)]
            child = select(params["transforms"][int(key)], index)
            chosen.last_params = child
            return chosen.apply_with_targets(subset, part, child)

        return _apply_grouped(img, targets, params["choice"], run)


class RandomOrder(Transform):
    """Apply every transform, in a random order drawn per sample."""

    def __init__(self, transforms: Sequence[Transform], *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.transforms = _check_transforms(transforms)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        keys = torch.rand(batch, len(self.transforms), generator=generator)
        return {"order": keys.argsort(dim=1),
                "transforms": [t.draw(batch, generator) for t in self.transforms]}

    def apply(self, img: Any, params: Params) -> Any:
        return self.apply_pair(img, None, params)[0]

    def apply_pair(self, img: Any, targets: Targets | None, params: Params
                   ) -> tuple[Any, Targets | None]:
        def run(subset: Any, part: Targets | None, index: torch.Tensor, key: torch.Tensor
                ) -> tuple[Any, Targets | None]:
            for position in key.tolist():
                t = self.transforms[position]
                child = select(params["transforms"][position], index)
                t.last_params = child
                subset, part = t.apply_with_targets(subset, part, child)
            return subset, part

        return _apply_grouped(img, targets, params["order"], run)
