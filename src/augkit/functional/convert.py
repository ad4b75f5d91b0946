"""Conversions between PIL images, numpy arrays and tensors, as torchvision's
``to_image``, ``pil_to_tensor``, ``to_tensor``, ``to_pil_image`` and ``grayscale_to_rgb``.

Unlike the other kernels these take any PIL mode (a palette or CMYK image becomes RGB through
``grayscale_to_rgb``'s ``convert("RGB")``).

>>> import numpy as np
>>> from augkit.functional import to_image
>>> to_image(np.zeros((4, 5, 3), np.uint8)).shape
torch.Size([3, 4, 5])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from augkit.errors import AugkitError, AugkitTypeError

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _check_array(img: np.ndarray, name: str = "img") -> np.ndarray:
    if img.ndim not in (2, 3) or 0 in img.shape:
        raise AugkitError(f"{name}: numpy array of shape {img.shape} is not an image; expected "
                          "HxW or HxWxC")
    return img if img.ndim == 3 else img[:, :, None]


def pil_to_tensor(img: Image.Image) -> torch.Tensor:
    """torchvision's ``pil_to_tensor``: a PIL image as a ``(C, H, W)`` tensor of its own
    values (uint8 for L, RGB, RGBA, ...), without scaling."""
    if not isinstance(img, Image.Image):
        raise AugkitTypeError(f"img: expected a PIL image, got {type(img).__name__}")
    array = _check_array(np.array(img, copy=True))
    return torch.from_numpy(np.ascontiguousarray(array)).permute(2, 0, 1).contiguous()


def to_image(img: Any) -> torch.Tensor:
    """torchvision's ``to_image``: a PIL image or an ``HxW[xC]`` array as a ``(C, H, W)``
    tensor of the same values and dtype; a tensor comes back as it is."""
    if isinstance(img, torch.Tensor):
        return img
    if isinstance(img, Image.Image):
        return pil_to_tensor(img)
    if isinstance(img, np.ndarray):
        array = np.ascontiguousarray(_check_array(img))
        array = array if array.flags.writeable else array.copy()
        return torch.from_numpy(array).permute(2, 0, 1).contiguous()
    raise AugkitTypeError(f"img: expected a PIL image, a numpy array or a tensor, got "
                          f"{type(img).__name__}")


def to_tensor(img: Any) -> Any:
    """torchvision's ``to_tensor``: a PIL image or an ``HxW[xC]`` array as a ``(C, H, W)``
    tensor, uint8 scaled to float32 in [0, 1] (other dtypes kept); tensors pass, as in
    torchvision's v2 ``ToTensor``."""
    if isinstance(img, torch.Tensor):
        return img
    tensor = to_image(img)
    return tensor.to(torch.float32).div(255) if tensor.dtype == torch.uint8 else tensor


def to_pil_image(img: Any, mode: str | None = None) -> Image.Image:
    """torchvision's ``to_pil_image``: a ``(C, H, W)`` tensor or an ``HxW[xC]`` array as a PIL
    image of mode L, LA, RGB or RGBA (by channel count, or ``mode``); floats are scaled by 255
    and truncated, as torchvision does."""
    if isinstance(img, Image.Image):
        return img if mode is None or img.mode == mode else img.convert(mode)
    if isinstance(img, torch.Tensor):
        if img.ndim not in (2, 3):
            raise AugkitError(f"img: tensor of shape {tuple(img.shape)} is not one image; "
                              "expected (C, H, W) or (H, W)")
        tensor = img.detach().cpu()
        tensor = tensor if tensor.ndim == 3 else tensor[None]
        array = tensor.permute(1, 2, 0).numpy()
    elif isinstance(img, np.ndarray):
        array = _check_array(img)
    else:
        raise AugkitTypeError(f"img: expected a tensor or a numpy array, got "
                              f"{type(img).__name__}")
    if np.issubdtype(array.dtype, np.floating):
        array = (array * 255).astype(np.uint8)
    elif array.dtype != np.uint8:
        raise AugkitTypeError(f"img: dtype {array.dtype} is not supported; expected uint8 or "
                              "a float dtype with values in [0, 1]")
    channels = array.shape[2]
    expected = _MODES.get(channels)
    if expected is None or (mode is not None and mode != expected):
        raise AugkitError(f"mode: {mode!r} does not fit {channels} channels; expected "
                          f"{expected or 'one of 1, 2, 3 or 4 channels'}")
    return Image.fromarray(np.ascontiguousarray(array[:, :, 0] if channels == 1 else array),
                           mode=expected)


def grayscale_to_rgb(img: Any) -> Any:
    """torchvision's ``grayscale_to_rgb``: a PIL image through ``convert("RGB")`` (any mode:
    L, P, CMYK, RGBA, ...); one channel repeated three times on arrays and tensors, which
    keep three or more channels as they are."""
    if isinstance(img, Image.Image):
        return img if img.mode == "RGB" else img.convert("RGB")
    if isinstance(img, np.ndarray):
        array = _check_array(img)
        return np.repeat(array, 3, axis=2) if array.shape[2] == 1 else img
    if isinstance(img, torch.Tensor):
        if img.ndim < 3:
            raise AugkitError(f"img: tensor of shape {tuple(img.shape)} is not an image; "
                              "expected (C, H, W) or a batch (N, C, H, W)")
        channels = img.shape[-3]
        return img.repeat_interleave(3, dim=-3) if channels == 1 else img
    raise AugkitTypeError(f"img: expected a PIL image, a numpy array or a tensor, got "
                          f"{type(img).__name__}")


__all__ = ["grayscale_to_rgb", "pil_to_tensor", "to_image", "to_pil_image", "to_tensor"]
