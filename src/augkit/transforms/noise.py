"""Random noise and blur.

>>> import torch
>>> from augkit.transforms import GaussianNoise
>>> noisy = GaussianNoise(std=(0.05, 0.1), seed=0)(torch.full((2, 1, 8, 8), 128, dtype=torch.uint8))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from augkit.functional import gaussian_blur, gaussian_noise
from augkit.functional.noise import check_kernel_size, noise_seeds
from augkit.transforms.base import Params, Transform, check_range, uniform


class GaussianNoise(Transform):
    """Unlike torchvision's ``GaussianNoise(mean, sigma)``, ``std`` is a range drawn per sample
    and uint8 images are accepted (the result is rounded and clipped).

    Add normal noise whose standard deviation (a fraction of the full intensity range,
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
    """kernel_size=None: Pillow's exact blur (it has no kernel size); an int: torchvision's formula.

    ``kernel_size=None`` is ``ImageFilter.GaussianBlur(radius=sigma)``, bit for bit on uint8.
    An odd int, or an ``(kx, ky)`` pair of odd ints, is torchvision's ``GaussianBlur``: a
    Gaussian truncated to that kernel size, reflect padding, float32. ``sigma`` is a number
    (fixed) or a ``(min, max)`` range drawn uniformly per sample, as in torchvision; a drawn
    0 leaves the sample unchanged.
    """

    def __init__(self, kernel_size: int | Sequence[int] | None = None, sigma: Any = (0.1, 2.0),
                 *, p: float = 1.0, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        pair = check_kernel_size(kernel_size)
        self.kernel_size = pair if isinstance(kernel_size, (tuple, list)) else (
            None if pair is None else pair[0])
        self.sigma = check_range(sigma, "sigma", 0.0, 100.0)

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {"sigma": uniform(self.sigma, batch, generator)}

    def apply(self, img: Any, params: Params) -> Any:
        return gaussian_blur(img, params["sigma"], self.kernel_size)
