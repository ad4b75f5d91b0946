"""torchvision's conversion transforms: ``ToImage``, ``PILToTensor``, ``ToTensor``,
``ToPILImage``, ``ToPureTensor``, ``RGB`` and ``ConvertImageDtype``, and the video one,
``UniformTemporalSubsample``.

They convert the image and pass its targets unchanged, in every call form; there is nothing
to draw. Called on their own they take any PIL mode (``RGB()`` turns a palette image into
RGB); inside a ``Compose`` the image must be one the other transforms take.

>>> import numpy as np
>>> from augkit.transforms import ToImage
>>> ToImage()(np.zeros((4, 5), np.uint8)).shape
torch.Size([1, 4, 5])
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch
from PIL import Image

from augkit.errors import AugkitError
from augkit.functional.convert import (
    grayscale_to_rgb,
    pil_to_tensor,
    to_image,
    to_pil_image,
    to_tensor,
)
from augkit.transforms.base import Params, Transform
from augkit.transforms.crop import ToDtype


class _Conversion(Transform):
    def __init__(self, *, seed: int | None = None, generator: torch.Generator | None = None):
        super().__init__(p=1.0, seed=seed, generator=generator)

    @abstractmethod
    def convert(self, img: Any) -> Any:
        """The converted image."""

    def make_params(self, batch: int, generator: torch.Generator | None) -> Params:
        return {}

    def apply(self, img: Any, params: Params) -> Any:
        return self.convert(img)

    def __call__(self, *inputs: Any, params: Params | None = None, **named: Any) -> Any:
        if named:
            if inputs or "image" not in named:
                raise AugkitError(f"{type(self).__name__}: give the image and its targets all "
                                  "by keyword (image=..., mask=...) or as (img, target)")
            return {**named, "image": self.convert(named["image"])}
        if len(inputs) == 1:
            return self.convert(inputs[0])
        if len(inputs) == 2:
            return self.convert(inputs[0]), inputs[1]
        raise AugkitError(f"{type(self).__name__}: expected t(img), t(img, target) or "
                          f"t(image=..., ...); got {len(inputs)} positional arguments")


class ToImage(_Conversion):
    """torchvision's ``ToImage``: a PIL image or an ``HxW[xC]`` array as a ``(C, H, W)``
    tensor of the same values and dtype; tensors pass."""

    def convert(self, img: Any) -> Any:
        return to_image(img)


class PILToTensor(_Conversion):
    """torchvision's ``PILToTensor``: a PIL image as a ``(C, H, W)`` tensor of its values;
    anything else passes."""

    def convert(self, img: Any) -> Any:
        return pil_to_tensor(img) if isinstance(img, Image.Image) else img


class ToTensor(_Conversion):
    """torchvision's ``ToTensor``: a PIL image or an array as a ``(C, H, W)`` tensor, uint8
    scaled to float32 in [0, 1]; tensors pass."""

    def convert(self, img: Any) -> Any:
        return to_tensor(img)


class ToPILImage(_Conversion):
    """torchvision's ``ToPILImage``: a ``(C, H, W)`` tensor or an array as a PIL image (L, LA,
    RGB or RGBA by channel count, or ``mode``; floats times 255, truncated); a batch becomes
    a list of PIL images."""

    def __init__(self, mode: str | None = None, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(seed=seed, generator=generator)
        if mode not in (None, "L", "LA", "RGB", "RGBA"):
            raise AugkitError(f"mode: {mode!r} is not allowed; expected None, 'L', 'LA', 'RGB' "
                              "or 'RGBA'")
        self.mode = mode

    def convert(self, img: Any) -> Any:
        if isinstance(img, torch.Tensor) and img.ndim == 4:
            return [to_pil_image(sample, self.mode) for sample in img]
        return to_pil_image(img, self.mode)


class ToPureTensor(_Conversion):
    """torchvision's ``ToPureTensor``: a tensor subclass (a ``tv_tensors.Image``) as a plain
    ``torch.Tensor``; anything else passes."""

    def convert(self, img: Any) -> Any:
        return img.as_subclass(torch.Tensor) if isinstance(img, torch.Tensor) else img


class RGB(_Conversion):
    """torchvision's ``RGB``: a PIL image through ``convert("RGB")`` (L, P, CMYK, RGBA, ...);
    a one-channel array or tensor repeated to three channels, three or more kept."""

    def convert(self, img: Any) -> Any:
        return grayscale_to_rgb(img)


class UniformTemporalSubsample(_Conversion):
    """torchvision's ``UniformTemporalSubsample``: ``num_samples`` frames evenly spaced from
    the first to the last of a video tensor ``(..., T, C, H, W)``."""

    def __init__(self, num_samples: int, *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(seed=seed, generator=generator)
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise AugkitError(f"num_samples: {num_samples!r} is not allowed; expected a whole "
                              "number >= 1")
        self.num_samples = num_samples

    def convert(self, img: Any) -> Any:
        if not isinstance(img, torch.Tensor) or img.ndim < 4:
            shape = tuple(img.shape) if isinstance(img, torch.Tensor) else type(img).__name__
            raise AugkitError(f"img: {shape} is not a video; expected a tensor (..., T, C, H, "
                              "W)")
        frames = img.shape[-4]
        index = torch.linspace(0, frames - 1, self.num_samples, device=img.device).long()
        return img.index_select(-4, index)


class ConvertImageDtype(ToDtype):
    """torchvision's ``ConvertImageDtype``: ``ToDtype(dtype, scale=True)`` (uint8 0-255 <->
    float 0-1)."""

    def __init__(self, dtype: Any = "float32", *, seed: int | None = None,
                 generator: torch.Generator | None = None):
        super().__init__(dtype, True, seed=seed, generator=generator)


__all__ = ["RGB", "ConvertImageDtype", "PILToTensor", "ToImage", "ToPILImage", "ToPureTensor",
           "ToTensor", "UniformTemporalSubsample"]
