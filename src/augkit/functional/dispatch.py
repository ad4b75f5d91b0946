"""The one place that looks at an image's type: PIL image, numpy array or torch tensor.

Kernels come in two forms: a *tensor kernel* on ``(N, C, H, W)`` torch batches (any dtype the
op supports, any device, differentiable for floats) and an optional *uint8 CPU kernel* on
contiguous numpy batches, interleaved ``(N, H, W, C)`` or planar ``(N, C, H, W)``. ``apply``
picks one, converts the input to what it takes and converts the result back, so every public
op accepts and returns the same kinds of images.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from PIL import Image

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import _layout_cpu

SUPPORTED_PIL_MODES = ("L", "RGB", "RGBA")
#: the channel counts of Pillow's modes L, RGB and RGBA: what the photometric ops define
SUPPORTED_CHANNELS = (1, 3, 4)
_PIL_MODES = {1: "L", 3: "RGB", 4: "RGBA"}

TensorKernel = Callable[..., torch.Tensor]
Uint8Kernel = Callable[..., np.ndarray]


def is_image(obj: Any) -> bool:
    """Whether ``obj`` is one of the image kinds augkit accepts."""
    return isinstance(obj, (Image.Image, np.ndarray, torch.Tensor))


def batch_size(img: Any, name: str = "img") -> int | None:
    """Samples in a batch tensor ``(N, C, H, W)``; ``None`` for a single image."""
    check_image(img, name)
    if isinstance(img, torch.Tensor) and img.ndim == 4:
        return img.shape[0]
    return None


def image_size(img: Any, name: str = "img") -> tuple[int, int]:
    """``(height, width)`` of an image or of each image in a batch."""
    check_image(img, name)
    if isinstance(img, Image.Image):
        return img.height, img.width
    if isinstance(img, np.ndarray):
        return img.shape[0], img.shape[1]
    return img.shape[-2], img.shape[-1]


def num_channels(img: Any, name: str = "img") -> int:
    """Channels of an image or batch (1, 3 or 4)."""
    check_image(img, name)
    if isinstance(img, Image.Image):
        return len(img.getbands())
    if isinstance(img, np.ndarray):
        return 1 if img.ndim == 2 else img.shape[2]
    return img.shape[-3]


def layout(img: Any, name: str = "img") -> tuple[int | None, int, int, int]:
    """``(batch_size, channels, height, width)`` of an image (batch ``None``) or a batch,
    checked once."""
    check_image(img, name)
    if isinstance(img, Image.Image):
        return None, len(img.getbands()), img.height, img.width
    if isinstance(img, np.ndarray):
        return None, 1 if img.ndim == 2 else img.shape[2], img.shape[0], img.shape[1]
    return (img.shape[0] if img.ndim == 4 else None), *img.shape[-3:]


def check_image(img: Any, name: str = "img") -> None:
    """Raise a TypeError/ValueError naming ``name`` unless ``img`` is a supported image."""
    if isinstance(img, Image.Image):
        if img.mode not in SUPPORTED_PIL_MODES:
            raise AugkitError(
                f"{name}: PIL mode {img.mode!r} is not supported; expected one of "
                f"{', '.join(SUPPORTED_PIL_MODES)} (convert it first, e.g. img.convert('RGB'))"
            )
        return
    if isinstance(img, np.ndarray):
        if img.dtype != np.uint8 and not np.issubdtype(img.dtype, np.floating):
            raise AugkitTypeError(f"{name}: numpy dtype {img.dtype} is not supported; "
                                  "expected uint8 or a float dtype with values in [0, 1]")
        if img.ndim not in (2, 3):
            raise AugkitError(f"{name}: numpy array of shape {img.shape} is not an image; "
                              "expected HxW or HxWxC")
        if img.ndim == 3 and img.shape[2] == 0:
            raise AugkitError(f"{name}: no channels in shape {img.shape}")
        if img.shape[0] == 0 or img.shape[1] == 0:
            raise AugkitError(f"{name}: empty image of shape {img.shape}")
        return
    if isinstance(img, torch.Tensor):
        if img.dtype != torch.uint8 and not img.dtype.is_floating_point:
            raise AugkitTypeError(f"{name}: tensor dtype {img.dtype} is not supported; expected "
                                  "torch.uint8 or a float dtype with values in [0, 1]")
        if img.ndim not in (3, 4):
            raise AugkitError(f"{name}: tensor of shape {tuple(img.shape)} is not an image; "
                              "expected (C, H, W) or a batch (N, C, H, W)")
        if img.shape[-3] == 0:
            raise AugkitError(f"{name}: no channels in shape {tuple(img.shape)}")
        if img.shape[-1] == 0 or img.shape[-2] == 0:
            raise AugkitError(f"{name}: empty image of shape {tuple(img.shape)}")
        return
    raise AugkitTypeError(f"{name}: expected a PIL image, a numpy array or a torch tensor, "
                          f"got {type(img).__name__}")


def check_channels(img: Any, channels: tuple[int, ...], op: str, name: str = "img") -> None:
    """Raise a one-line error unless ``img`` has one of ``channels`` (an op's defined counts)."""
    count = num_channels(img, name)
    if count not in channels:
        raise AugkitError(f"{name}: {count} channels; {op} is defined on "
                          f"{', '.join(map(str, channels))} channels (grayscale, RGB, RGBA, as "
                          "Pillow's modes L, RGB, RGBA); geometric ops take any count")


def check_unit_range(img: Any, name: str = "img") -> None:
    """Raise a one-line error when a float image has values outside [0, 1]: the ops that
    clamp would change them silently."""
    if isinstance(img, Image.Image) or img.dtype in (np.uint8, torch.uint8):
        return
    values = img.detach() if isinstance(img, torch.Tensor) else torch.from_numpy(
        np.asarray(img))
    if values.numel() == 0:
        return
    low, high = float(values.min()), float(values.max())
    if low < 0.0 or high > 1.0 or low != low or high != high:
        raise AugkitError(f"{name}: float values span [{low:.4g}, {high:.4g}]; expected [0, 1] "
                          "(scale it, e.g. x / 255, undo a normalisation first, or give uint8)")


def _numpy_to_batch(arr: np.ndarray) -> torch.Tensor:
    hwc = arr if arr.ndim == 3 else arr[:, :, None]
    if hwc.dtype == np.uint8 and hwc.shape[2] > 1:  # a contiguous planar copy, compiled
        return torch.from_numpy(_layout_cpu.planar(hwc[None]))
    hwc = np.ascontiguousarray(hwc) if hwc.flags.writeable else hwc.copy()
    return torch.from_numpy(hwc).permute(2, 0, 1).unsqueeze(0)


def _batch_to_numpy(batch: torch.Tensor, like: np.ndarray) -> np.ndarray:
    if batch.dtype == torch.uint8 and like.dtype == np.uint8 and like.ndim == 3 \
            and batch.shape[1] > 1:  # the compiled layout copy
        return _layout_cpu.interleaved(batch.detach().cpu().numpy())[0]
    hwc = batch[0].permute(1, 2, 0).detach().cpu().numpy()
    if like.ndim == 2:
        hwc = hwc[:, :, 0]
    return np.ascontiguousarray(hwc.astype(like.dtype, copy=False))


def apply(
    img: Any,
    params: dict[str, np.ndarray | torch.Tensor],
    tensor_kernel: TensorKernel,
    uint8_kernel: Uint8Kernel | None = None,
    *,
    channels: tuple[int, ...] | None = None,
    op: str = "this op",
    unit_range: bool = False,
) -> Any:
    """Run a kernel over ``img`` with per-sample ``params`` (arrays or tensors of length N).

    The uint8 CPU kernel, when given, gets them as numpy arrays; the tensor kernel as tensors
    on the image's device. ``channels``: the channel counts the op defines (``None``: any);
    ``unit_range``: float input must lie in [0, 1] (for ops that clamp).
    """
    check_image(img)
    if channels is not None:
        check_channels(img, channels, op)
    if unit_range:
        check_unit_range(img)
    if isinstance(img, (Image.Image, np.ndarray)):
        return _apply_host(img, params, tensor_kernel, uint8_kernel)
    return _apply_tensor(img, params, tensor_kernel, uint8_kernel)


def _apply_host(img: Any, params: dict[str, Any], tensor_kernel: TensorKernel,
                uint8_kernel: Uint8Kernel | None) -> Any:
    if isinstance(img, Image.Image):
        out = _apply_host(np.asarray(img), params, tensor_kernel, uint8_kernel)
        if out.ndim == 3 and out.shape[2] == 1:
            out = out[:, :, 0]
        return Image.fromarray(out, mode=_PIL_MODES[1 if out.ndim == 2 else out.shape[2]])
    if img.dtype == np.uint8 and uint8_kernel is not None:
        hwc = img if img.ndim == 3 else img[:, :, None]
        batch = np.ascontiguousarray(hwc)[None]
        out = uint8_kernel(batch, planar=False, **_numpy_params(params)) if params else \
            uint8_kernel(batch, planar=False)
        return out[0, :, :, 0] if img.ndim == 2 else out[0]
    out = tensor_kernel(_numpy_to_batch(img), **_tensor_params(params, "cpu"))
    return _batch_to_numpy(out, img)


def _apply_tensor(img: torch.Tensor, params: dict[str, Any], tensor_kernel: TensorKernel,
                  uint8_kernel: Uint8Kernel | None) -> torch.Tensor:
    single = img.ndim == 3
    if (img.dtype == torch.uint8 and uint8_kernel is not None and img.device.type == "cpu"
            and (single or img.shape[0] > 0)):  # numpy views on both sides: no torch ops
        array = img.contiguous().numpy()
        out = uint8_kernel(array[None] if single else array, planar=True,
                           **_numpy_params(params))
        return torch.from_numpy(out[0] if single else out)
    batch = img if img.ndim == 4 else img.unsqueeze(0)
    if batch.shape[0] == 0:
        out_batch = batch.clone()
    else:
        out_batch = tensor_kernel(batch, **_tensor_params(params, img.device))
    return out_batch if img.ndim == 4 else out_batch[0]


def _numpy_params(params: dict[str, Any]) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)
            for k, v in params.items()}


def _tensor_params(params: dict[str, Any], device: Any) -> dict[str, torch.Tensor]:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else torch.tensor(v, device=device)
            for k, v in params.items()}
