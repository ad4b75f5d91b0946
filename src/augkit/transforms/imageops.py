"""torchvision's ImageOps transforms, each Pillow-exact on uint8 (``augkit.functional``'s
``invert``, ``posterize``, ``solarize``, ``autocontrast``, ``equalize``, ``grayscale``).

>>> import torch
>>> from augkit.transforms import RandomSolarize
>>> t = RandomSolarize(threshold=128, p=0.5, seed=0)
>>> t(torch.full((4, 3, 8, 8), 200, dtype=torch.uint8)).shape
torch.Size([4, 3, 8, 8])
"""

from __future__ import annotations

from typing import Any

import torch

from augkit.errors import AugkitError
from augkit.functional import (
    autocontrast,
    dispatch,
    equalize,
    grayscale,
    invert,
    posterize,
    solarize,
)
from augkit.transforms.base import Params, Transform


class _Fixed(Transform):
    """An op with fixed arguments, applied with probability ``p``."""

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}


class RandomInvert(_Fixed):
    """torchvision's ``RandomInvert``: Pillow's ``ImageOps.invert`` with probability ``p``."""

    def __init__(self, p: float = 0.5, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)

    def apply(self, img: Any, params: Params) -> Any:
        return invert(img)


class RandomPosterize(_Fixed):
    """torchvision's ``RandomPosterize``: keep the top ``bits`` bits with probability ``p``."""

    def __init__(self, bits: int, p: float = 0.5, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        if isinstance(bits, bool) or not isinstance(bits, int) or not 0 <= bits <= 8:
            raise AugkitError(f"bits: {bits!r} is not allowed; expected an integer 0 to 8")
        self.bits = bits

    def apply(self, img: Any, params: Params) -> Any:
        return posterize(img, self.bits)


class RandomSolarize(_Fixed):
    """torchvision's ``RandomSolarize``: invert the values at or above ``threshold`` (in the
    image's range: 0-255 for uint8, 0-1 for floats) with probability ``p``."""

    def __init__(self, threshold: float, p: float = 0.5, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not 0 <= threshold <= 256:
            raise AugkitError(f"threshold: {threshold!r} is not allowed; expected a number "
                              "in the image's range (0-255 for uint8, 0-1 for floats)")
        self.threshold = threshold

    def apply(self, img: Any, params: Params) -> Any:
        return solarize(img, self.threshold)


class RandomAutocontrast(_Fixed):
    """torchvision's ``RandomAutocontrast``: Pillow's ``ImageOps.autocontrast`` with
    probability ``p``; ``cutoff``, ``ignore`` and ``preserve_tone`` as in Pillow."""

    def __init__(self, p: float = 0.5, cutoff: Any = 0, ignore: Any = None,
                 preserve_tone: bool = False, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)
        self.cutoff = list(cutoff) if isinstance(cutoff, (tuple, list)) else cutoff
        self.ignore, self.preserve_tone = ignore, bool(preserve_tone)
        autocontrast(torch.zeros(1, 1, 1, dtype=torch.uint8), self._cutoff(), ignore)

    def _cutoff(self) -> Any:
        return tuple(self.cutoff) if isinstance(self.cutoff, list) else self.cutoff

    def apply(self, img: Any, params: Params) -> Any:
        return autocontrast(img, self._cutoff(), self.ignore, self.preserve_tone)


class RandomEqualize(_Fixed):
    """torchvision's ``RandomEqualize``: Pillow's ``ImageOps.equalize`` with probability
    ``p`` (uint8 only)."""

    def __init__(self, p: float = 0.5, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)

    def apply(self, img: Any, params: Params) -> Any:
        return equalize(img)


class Grayscale(_Fixed):
    """torchvision's ``Grayscale``: Pillow's ``convert("L")`` with 1 or 3 output channels."""

    def __init__(self, num_output_channels: int = 1, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)
        if num_output_channels not in (1, 3):
            raise AugkitError(f"num_output_channels: {num_output_channels!r} is not allowed; "
                              "expected 1 or 3")
        self.num_output_channels = num_output_channels

    def apply(self, img: Any, params: Params) -> Any:
        return grayscale(img, self.num_output_channels)


class RandomGrayscale(_Fixed):
    """torchvision's ``RandomGrayscale``: grayscale with as many channels as the input, with
    probability ``p``."""

    def __init__(self, p: float = 0.1, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(p=p, seed=seed, generator=generator)

    def apply(self, img: Any, params: Params) -> Any:
        channels = dispatch.num_channels(img)
        out = grayscale(img, 1 if channels == 1 else 3)
        if channels == 4:  # keep alpha
            if isinstance(img, torch.Tensor):
                return torch.cat([out, img[..., 3:, :, :]], dim=-3)
            return _with_alpha(out, img)
        return out


def _with_alpha(gray: Any, img: Any) -> Any:
    import numpy as np
    from PIL import Image

    rgba = np.array(img)
    rgba[..., :3] = np.asarray(gray)
    return Image.fromarray(rgba, "RGBA") if isinstance(img, Image.Image) else rgba
