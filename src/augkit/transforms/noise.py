"""Random noise and blur.

>>> import torch
>>> from augkit.transforms import GaussianNoise
>>> noisy = GaussianNoise(std=(0.05, 0.1), seed=0)(torch.full((2, 1, 8, 8), 128, dtype=torch.uint8))
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.functional import gaussian_blur, gaussian_noise
from augkit.functional.noise import noise_seeds
from augkit.transforms.base import Params, Transform, check_range, uniform


class GaussianNoise(Transform):
    """Add normal noise whose standard deviation (a fraction of the full intensity range,
    1.0 = 255 levels) is drawn per sample from ``std``; the noise itself is fixed by a drawn
    per-sample seed, so replaying reproduces it exactly."""

    def __init__(self, std: Any = (0.0, 0.1), mean: float = 0.0, *, p: float = 1.0,
                 seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.std = check_range(std, "std", 0.0, 1.0)
        self.mean = check_range(mean, "mean", -1.0, 1.0)[0]

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"std": uniform(self.std, batch, generator),
                "noise_seed": noise_seeds(batch, generator)}

    def apply(self, img: Any, params: Params) -> Any:
        return gaussian_noise(img, params["std"], params["noise_seed"], self.mean)


class GaussianBlur(Transform):
    """Pillow's ``GaussianBlur`` with a standard deviation drawn per sample from ``sigma``."""

    def __init__(self, sigma: Any = (0.1, 2.0), *, p: float = 1.0, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.sigma = check_range(sigma, "sigma", 0.0, 100.0)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"sigma": uniform(self.sigma, batch, generator)}

    def apply(self, img: Any, params: Params) -> Any:
        return gaussian_blur(img, params["sigma"])
