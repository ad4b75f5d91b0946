"""Transforms made of transforms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from augkit.transforms.base import Params, Transform


def _check_transforms(transforms: Any, name: str = "transforms") -> list[Transform]:
    if not isinstance(transforms, Sequence) or isinstance(transforms, str):
        raise TypeError(f"{name}: expected a list of transforms, got {type(transforms).__name__}")
    for i, t in enumerate(transforms):
        if not isinstance(t, Transform):
            raise TypeError(f"{name}[{i}]: expected an augkit transform, got {type(t).__name__}")
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
            raise ValueError(f"params: expected 'transforms' with {len(self.transforms)} "
                             "entries, one per transform")
        for t, child in zip(self.transforms, children, strict=True):
            t.check_params(child, batch)

    def apply(self, img: Any, params: Params) -> Any:
        for t, child in zip(self.transforms, params["transforms"], strict=True):
            t.last_params = child
            img = t.apply_where_applied(img, child)
        return img

    def __len__(self) -> int:
        return len(self.transforms)

    def __getitem__(self, index: int) -> Transform:
        return self.transforms[index]
