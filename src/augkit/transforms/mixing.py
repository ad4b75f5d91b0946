"""Batch-level MixUp and CutMix, which mix the labels as they mix the images (torchvision's
``v2.MixUp`` and ``v2.CutMix``; no Pillow counterpart).

Each batch draws one ``lam`` from Beta(alpha, alpha) and pairs every sample with the one
before it (``roll(1, 0)``), as torchvision does. The call is ``mix(images, labels)`` with
integer labels (N,) and returns the mixed images and soft labels (N, num_classes); uint8
images come back rounded to uint8, float images as floats. ``last_params`` replays a draw.

>>> import torch
>>> from augkit.transforms import MixUp
>>> images, soft = MixUp(num_classes=10, seed=0)(torch.rand(4, 3, 8, 8), torch.arange(4))
>>> soft.shape, bool(torch.allclose(soft.sum(1), torch.ones(4)))
(torch.Size([4, 10]), True)
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import numpy as np
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.transforms.base import Params, Transform


class _Mix(Transform):
    samples_independent = False
    def __init__(self, alpha: float = 1.0, num_classes: int | None = None, *,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise AugkitError(f"alpha: {alpha!r} is not allowed; expected a number > 0")
        if num_classes is not None and (isinstance(num_classes, bool)
                                        or not isinstance(num_classes, int) or num_classes < 1):
            raise AugkitError(f"num_classes: {num_classes!r} is not allowed; expected an "
                              "integer >= 1")
        self.alpha, self.num_classes = float(alpha), num_classes

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        rng = np.random.default_rng(seed)
        return {"lam": torch.tensor([rng.beta(self.alpha, self.alpha)], dtype=torch.float64),
                "box": torch.from_numpy(rng.random(2))}

    def __call__(self, images: Any, labels: Any = None, *, params: Params | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = self._check(images, labels)
        if params is None:
            params = self.make_params(len(images), self.generator())
        self.last_params = params
        mixed, lam = self.mix(images, params)
        one_hot = torch.nn.functional.one_hot(labels, self.num_classes or
                                              int(labels.max()) + 1).to(torch.float32)
        soft = one_hot * lam + one_hot.roll(1, 0) * (1.0 - lam)
        return mixed, soft

    def _check(self, images: Any, labels: Any) -> tuple[torch.Tensor, torch.Tensor]:
        name = type(self).__name__
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise AugkitTypeError(f"{name}: images: expected a batch tensor (N, C, H, W), got "
                                  f"{getattr(images, 'shape', type(images).__name__)}")
        if labels is None:
            raise AugkitError(f"{name}: labels: missing; call {name.lower()}(images, labels), "
                              "it mixes both")
        labels = torch.as_tensor(labels)
        if labels.dtype.is_floating_point or labels.shape != (len(images),):
            raise AugkitError(f"{name}: labels: expected {len(images)} integer class indices, "
                              f"got {labels.dtype} of shape {tuple(labels.shape)}")
        if self.num_classes is not None and len(labels) and int(labels.max()) >= self.num_classes:
            raise AugkitError(f"{name}: labels: class {int(labels.max())} is outside "
                              f"num_classes={self.num_classes}")
        return images, labels.long()

    @abstractmethod
    def mix(self, images: torch.Tensor, params: Params) -> tuple[torch.Tensor, float]:
        """The mixed batch and the weight of each sample's own label."""

    def apply(self, img: Any, params: Params) -> Any:
        return self.mix(img, params)[0]


def _as_input_dtype(mixed: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    if like.dtype == torch.uint8:
        return mixed.round().clamp(0, 255).to(torch.uint8)
    return mixed.to(like.dtype)


class MixUp(_Mix):
    """torchvision's ``MixUp``: ``lam * x + (1 - lam) * x.roll(1, 0)``, labels alike."""

    def mix(self, images: torch.Tensor, params: Params) -> tuple[torch.Tensor, float]:
        lam = float(params["lam"][0])
        work = images.to(torch.float32) if images.dtype == torch.uint8 else images
        mixed = work * lam + work.roll(1, 0) * (1.0 - lam)
        return _as_input_dtype(mixed, images), lam


class CutMix(_Mix):
    """torchvision's ``CutMix``: a box of area ``1 - lam`` around a uniformly drawn pixel,
    clipped to the image, is pasted from the previous sample; the labels are mixed by the
    share of the image the box really covers."""

    def mix(self, images: torch.Tensor, params: Params) -> tuple[torch.Tensor, float]:
        height, width = images.shape[-2:]
        lam = float(params["lam"][0])
        centre_x = min(int(float(params["box"][0]) * width), width - 1)
        centre_y = min(int(float(params["box"][1]) * height), height - 1)
        r = 0.5 * math.sqrt(1.0 - lam)
        half_w, half_h = int(r * width), int(r * height)
        x1, y1 = max(centre_x - half_w, 0), max(centre_y - half_h, 0)
        x2, y2 = min(centre_x + half_w, width), min(centre_y + half_h, height)
        out = images.clone()
        out[..., y1:y2, x1:x2] = images.roll(1, 0)[..., y1:y2, x1:x2]
        return out, 1.0 - (x2 - x1) * (y2 - y1) / (width * height)


__all__ = ["CutMix", "MixUp"]
