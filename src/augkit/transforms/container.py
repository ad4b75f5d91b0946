"""Transforms made of transforms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.transforms.base import Params, Transform, select


def _check_transforms(transforms: Any, name: str = "transforms") -> list[Transform]:
    if not isinstance(transforms, Sequence) or isinstance(transforms, str):
        raise AugkitTypeError(f"{name}: expected a list of transforms, got "
                              f"{type(transforms).__name__}")
    for i, t in enumerate(transforms):
        if not isinstance(t, Transform):
            raise AugkitTypeError(f"{name}[{i}]: expected an augkit transform, got "
                                  f"{type(t).__name__}")
    return list(transforms)


class Compose(Transform):
    """Apply transforms one after another; a seed here drives every child without its own.

    >>> from augkit.transforms import Compose, RandomBrightness, RandomContrast
    >>> pipeline = Compose([RandomBrightness(), RandomContrast()], seed=0)
    >>> [t["type"] for t in pipeline.to_dict()["transforms"]]
    ['RandomBrightness', 'RandomContrast']
    """

    def __init__(self, transforms: Sequence[Transform], *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.transforms = _check_transforms(transforms)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"transforms": [t.draw(batch, generator) for t in self.transforms]}

    def check_params(self, params: Params, batch: int | None) -> None:
        super().check_params(params, batch)
        children = params.get("transforms")
        if not isinstance(children, list) or len(children) != len(self.transforms):
            raise AugkitError(f"params: expected 'transforms' with {len(self.transforms)} "
                              "entries, one per transform")
        for t, child in zip(self.transforms, children, strict=True):
            t.check_params(child, batch)

    def apply(self, img: Any, params: Params) -> Any:
        for t, child in zip(self.transforms, params["transforms"], strict=True):
            t.last_params = child
            img = t.apply_where_applied(img, child)
        return img

    @property
    def keeps_size(self) -> bool:  # type: ignore[override]
        return all(t.keeps_size for t in self.transforms)

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self.transforms[index]


class RandomApply(Compose):
    """Apply the whole list, in order, with probability ``p`` (per sample on a batch)."""

    def __init__(self, transforms: Sequence[Transform], p: float = 0.5, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(transforms, p=p, seed=seed, generator=generator)


def _apply_grouped(img: Any, keys: torch.Tensor, run: Any) -> Any:
    """Apply ``run(subset, index, key)`` to the samples sharing each distinct row of ``keys``."""
    if keys.shape[0] == 1 or bool((keys == keys[0]).all()):
        return run(img, torch.arange(keys.shape[0]), keys[0])
    out = None
    for key in keys.unique(dim=0):
        match = (keys == key).view(keys.shape[0], -1).all(dim=1)
        index = match.nonzero().squeeze(1)
        device_index = index.to(img.device)
        result = run(img[device_index], index, key)
        if result.shape[1:] != img.shape[1:]:
            raise AugkitError("transforms: per-sample choices on a batch must keep the image "
                              "size")
        if out is None:
            out = img.clone()
        out[device_index] = result
    return out


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
        def run(subset: Any, index: torch.Tensor, key: torch.Tensor) -> Any:
            chosen = self.transforms[int(key)]
            child = select(params["transforms"][int(key)], index)
            chosen.last_params = child
            return chosen.apply_where_applied(subset, child)

        return _apply_grouped(img, params["choice"], run)


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
        def run(subset: Any, index: torch.Tensor, key: torch.Tensor) -> Any:
            for position in key.tolist():
                t = self.transforms[position]
                child = select(params["transforms"][position], index)
                t.last_params = child
                subset = t.apply_where_applied(subset, child)
            return subset

        return _apply_grouped(img, params["order"], run)
