"""Noise and blur kernels, per-sample parameters.

Noise is drawn from a per-sample integer seed, on the CPU, so a kernel call is deterministic
and gives the same result on every device; a transform records the seeds it drew.

Gaussian blur comes in two forms: without a kernel size, Pillow's ``GaussianBlur`` (extended
box passes, bit-identical on uint8); with ``kernel_size``, torchvision's truncated Gaussian.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.functional._filter_cpu import box_passes_uint8, truncated_blur_planes
from augkit.functional.geometry import Values, per_sample

Image = TypeVar("Image")


def _value_scale(dtype: torch.dtype) -> float:
    return 255.0 if dtype == torch.uint8 else 1.0


def _to_input_dtype(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    if dtype == torch.uint8:
        return values.round_().clamp_(0, 255).to(torch.uint8)
    return values.clamp(0.0, 1.0)


def gaussian_noise(img: Image, std: Values, seed: Values, mean: Values = 0.0) -> Image:
    """Add normal noise with standard deviation ``std`` (and ``mean``), both as fractions of
    the full intensity range (1.0 = 255 levels on uint8); ``seed`` fixes each sample's noise."""
    batch = dispatch.batch_size(img)
    stds = per_sample(std, batch, "std", low=0.0)
    means = per_sample(mean, batch, "mean", low=-1.0, high=1.0)
    seeds = _seeds(seed, batch)

    def kernel(images: torch.Tensor, std: torch.Tensor, mean: torch.Tensor,
               seed: torch.Tensor) -> torch.Tensor:
        scale = _value_scale(images.dtype)
        work = torch.float32 if images.dtype == torch.uint8 else images.dtype
        noise = torch.stack([
            torch.randn(images.shape[1:], generator=torch.Generator().manual_seed(int(s)),
                        dtype=work)
            for s in seed.tolist()]).to(images.device)
        shift = (mean.view(-1, 1, 1, 1) + std.view(-1, 1, 1, 1) * noise) * scale
        return _to_input_dtype(images.to(work) + shift.to(work), images.dtype)

    return dispatch.apply(img, {"std": stds, "mean": means, "seed": seeds}, kernel,
                          unit_range=True)


def _seeds(seed: Any, batch: int | None) -> np.ndarray:
    n = 1 if batch is None else batch
    if isinstance(seed, torch.Tensor):
        seed = seed.detach().cpu().numpy()
    arr = np.asarray(seed)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) and (arr >= 0).all()):
        raise AugkitError(f"seed: {seed!r:.60} is not allowed; expected integers >= 0")
    arr = arr.astype(np.int64).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n:
        raise AugkitError(f"seed: got {arr.size} values for "
                          f"{'a single image' if batch is None else f'a batch of {n}'}")
    return arr


_BLUR_PASSES = 3
_ONE = 1 << 24  # Pillow's box-blur weights are 8.24 fixed point


def box_blur_weights(sigma: float) -> tuple[int, int, int]:
    """Pillow's extended box for ``GaussianBlur(sigma)``: ``(radius, ww, fw)``, where each of
    the three passes weighs the ``2 * radius + 1`` nearest pixels by ``ww / 2**24`` and the
    two next ones by ``fw / 2**24`` (Gwosdek et al. 2011). Computed in float32 as Pillow does."""
    f = np.float32
    sigma2 = f(f(sigma) * f(sigma) / f(_BLUR_PASSES))
    length = f(math.sqrt(12.0 * float(sigma2) + 1.0))
    whole = f(math.floor((float(length) - 1.0) / 2.0))
    fraction = f(f(f(2) * whole + f(1)) * f(whole * f(whole + f(1)) - f(3) * sigma2))
    fraction = f(fraction / f(f(6) * f(sigma2 - f(whole + f(1)) * f(whole + f(1)))))
    return box_weights(f(whole + fraction))


def box_weights(float_radius: float) -> tuple[int, int, int]:
    """Pillow's weights for one box pass of ``float_radius``: ``(radius, ww, fw)``, the
    ``2 * radius + 1`` nearest pixels weighed by ``ww / 2**24``, the two next by ``fw / 2**24``."""
    f = np.float32
    radius = int(f(float_radius))
    ww = int(f(_ONE) / f(f(float_radius) * f(2) + f(1)))
    fw = (_ONE - (radius * 2 + 1) * ww) // 2
    return radius, ww, fw


def _pillow_blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    if not (images.dtype == torch.uint8 and images.device.type == "cpu"):
        return _batched_pillow_blur(images, sigma.cpu().tolist())
    out = images.clone()
    for value in sigma.unique().tolist():
        if value == 0:
            continue
        index = (sigma == value).nonzero().squeeze(1).to(images.device)
        out[index] = pillow_gaussian(images[index], value)
    return out


def _batched_pillow_blur(images: torch.Tensor, sigmas: list[float]) -> torch.Tensor:
    """Pillow's Gaussian blur with a sigma per sample, all samples in each pass at once (the
    way off the CPU, where a loop over sigmas would launch a few kernels per sample)."""
    blurred = [i for i, value in enumerate(sigmas) if value != 0]
    if not blurred:
        return images.clone()
    weights = torch.tensor([box_blur_weights(sigmas[i]) for i in blurred])
    index = torch.tensor(blurred, device=images.device)
    blurs = torch_box_passes(images[index], weights, weights, _BLUR_PASSES)
    out = images.clone()
    out[index] = blurs
    return out


def _box_pass(rows: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """One box pass along the last dim of (N, C, H, W), edges replicated, with each
    sample's ``(radius, ww, fw)`` (``weights`` (N, 3), or (1, 3) for all): the rows padded
    for the largest radius, and each sample's window sums and far pixels gathered at its own
    offsets. Exact integers for int64 (rounded as Pillow does), plain weights for floats."""
    width, device = rows.shape[-1], rows.device
    pad = int(weights[:, 0].max()) + 1
    index = torch.arange(-pad, width + pad, device=device).clamp(0, width - 1)
    padded = rows[..., index]
    cumulative = torch.cat([torch.zeros_like(padded[..., :1]), padded.cumsum(-1)], dim=-1)
    radius, ww, fw = (weights[:, i].to(device).view(-1, 1, 1, 1) for i in range(3))
    j = torch.arange(width, device=device).view(1, 1, 1, width) + pad

    def at(values: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
        return values.gather(-1, offsets.expand(*rows.shape[:-1], width))

    window = at(cumulative, j + radius + 1) - at(cumulative, j - radius)
    far = at(padded, j - radius - 1) + at(padded, j + radius + 1)
    if rows.dtype == torch.int64:
        return (window * ww + far * fw + (1 << 23)) >> 24
    return (window * ww.to(rows.dtype) + far * fw.to(rows.dtype)) / _ONE


def pillow_gaussian(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Pillow's ``GaussianBlur(sigma)`` on an ``(N, C, H, W)`` batch: three extended box
    passes across, then three down."""
    weights = box_blur_weights(sigma)
    return box_passes(images, weights, weights, _BLUR_PASSES)


def box_passes(images: torch.Tensor, across: tuple[int, int, int] | None,
               down: tuple[int, int, int] | None, passes: int) -> torch.Tensor:
    """Pillow's ``ImagingBoxBlur``: ``passes`` box passes along rows with the ``across``
    weights (``box_weights``), then as many along columns with ``down``; ``None`` skips a
    direction. Exact integers on uint8, plain weights on floats."""
    if images.dtype == torch.uint8 and images.device.type == "cpu" and images.numel():
        return torch.from_numpy(box_passes_uint8(images.numpy(), across, down, passes))
    return torch_box_passes(images, across, down, passes)


def torch_box_passes(images: torch.Tensor, across: Any, down: Any, passes: int
                     ) -> torch.Tensor:
    """``box_passes`` in torch ops, for any device (the compiled copy runs uint8 on CPU);
    ``across`` and ``down`` may also be (N, 3) tensors, a ``(radius, ww, fw)`` per sample."""
    is_uint8 = images.dtype == torch.uint8
    x = images.to(torch.int64) if is_uint8 else images
    if across is not None:
        for _ in range(passes):
            x = _box_pass(x, torch.as_tensor(across).view(-1, 3))
    if down is not None:
        x = x.transpose(-1, -2)
        for _ in range(passes):
            x = _box_pass(x, torch.as_tensor(down).view(-1, 3))
        x = x.transpose(-1, -2)
    return x.to(images.dtype) if is_uint8 else x.clone()


KernelSize = int | Sequence[int] | None


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_kernel_size(kernel_size: Any) -> tuple[int, int] | None:
    """torchvision's ``kernel_size`` (an odd int >= 1, or a pair ``(kx, ky)`` of them) as
    ``(kx, ky)``; ``None`` (Pillow's blur, which has no kernel size) stays ``None``."""
    if kernel_size is None:
        return None
    pair = (kernel_size, kernel_size) if _is_int(kernel_size) else kernel_size
    if (isinstance(pair, (tuple, list)) and len(pair) == 2
            and all(_is_int(k) and k >= 1 and k % 2 == 1 for k in pair)):
        return int(pair[0]), int(pair[1])
    raise AugkitError(f"kernel_size: {kernel_size!r} is not allowed; expected None (Pillow's "
                      "blur), an odd int >= 1 or a pair (kx, ky) of odd ints >= 1")


def gaussian_kernels(sigma: torch.Tensor, size: int) -> torch.Tensor:
    """torchvision's 1-D Gaussian kernels, one row per sigma, in float32: at
    ``x = linspace(-(size - 1) / 2, (size - 1) / 2, size)``, ``exp(-0.5 * (x / sigma)**2)``
    normalised to sum 1; sigma 0 gives the identity kernel."""
    half = (size - 1) / 2
    x = torch.linspace(-half, half, size, dtype=torch.float32, device=sigma.device)
    s = sigma.to(torch.float32).view(-1, 1)
    pdf = torch.exp(-0.5 * (x / s).pow(2))
    kernels = pdf / pdf.sum(dim=1, keepdim=True)
    return torch.where(s == 0, (x == 0).to(torch.float32), kernels)


def _convolve_rows(padded: torch.Tensor, kernels: torch.Tensor) -> torch.Tensor:
    """Correlate the last dim of ``padded`` (N, C, H, W + k - 1) with one (k,) kernel per
    sample: a fixed order of multiply-adds, so a sample's result is the same in any batch."""
    size = kernels.shape[1]
    width = padded.shape[-1] - size + 1
    weights = kernels.view(kernels.shape[0], 1, 1, size)
    out = padded[..., :width] * weights[..., :1]
    for i in range(1, size):
        out = out + padded[..., i:i + width] * weights[..., i:i + 1]
    return out


def truncated_blur(images: torch.Tensor, sigma: torch.Tensor, kernel_size: tuple[int, int],
                   sigma_y: torch.Tensor | None = None) -> torch.Tensor:
    """torchvision's ``gaussian_blur`` on an ``(N, C, H, W)`` batch: ``kernel_size`` ``(kx,
    ky)``, one ``sigma`` per sample across (and ``sigma_y`` down, default the same). uint8
    and float32 on the CPU (without gradients) take the compiled copy of these ops."""
    if (images.device.type == "cpu" and images.dtype in (torch.uint8, torch.float32)
            and not images.requires_grad):
        down = sigma if sigma_y is None else sigma_y
        sigmas = sigma.expand(images.shape[0]).cpu()
        return torch.from_numpy(truncated_blur_planes(
            images.contiguous().numpy(), gaussian_kernels(sigmas, kernel_size[0]).numpy(),
            gaussian_kernels(down.expand(images.shape[0]).cpu(), kernel_size[1]).numpy()))
    return _truncated_blur_ops(images, sigma, kernel_size, sigma_y)


def _truncated_blur_ops(images: torch.Tensor, sigma: torch.Tensor,
                        kernel_size: tuple[int, int], sigma_y: torch.Tensor | None = None
                        ) -> torch.Tensor:
    """``truncated_blur`` in torch ops: any device, differentiable."""
    kx, ky = kernel_size
    work = images.dtype if images.dtype in (torch.float32, torch.float64) else torch.float32
    x = torch.nn.functional.pad(images.to(work), (kx // 2, kx // 2, ky // 2, ky // 2),
                                mode="reflect")
    x = _convolve_rows(x, gaussian_kernels(sigma, kx).to(work))
    down = sigma if sigma_y is None else sigma_y
    x = _convolve_rows(x.transpose(-1, -2), gaussian_kernels(down, ky).to(work))
    x = x.transpose(-1, -2)
    if images.dtype == torch.uint8:
        return x.round_().clamp_(0, 255).to(torch.uint8)
    return x.to(images.dtype)


def _check_fits(kernel_size: tuple[int, int], size: tuple[int, int]) -> None:
    (kx, ky), (height, width) = kernel_size, size
    if kx // 2 >= width or ky // 2 >= height:
        raise AugkitError(f"kernel_size: ({kx}, {ky}) is too large for a {height}x{width} image; "
                          "reflect padding needs kx // 2 < width and ky // 2 < height")


def gaussian_blur(img: Image, sigma: Values, kernel_size: KernelSize = None) -> Image:
    """Gaussian blur with per-sample ``sigma``; 0 leaves a sample unchanged.

    ``kernel_size=None``: Pillow's ``GaussianBlur(radius=sigma)`` (three extended box passes
    across, then three down, edges replicated), bit-identical on uint8; float input gets the
    same filter without rounding, differentiably. An odd int or ``(kx, ky)``: torchvision's
    ``gaussian_blur``, a separable Gaussian truncated to that size (``gaussian_kernels``),
    reflect padding, float32 arithmetic (float64 for float64 input), uint8 rounded half to
    even. The kernel size is the same for the whole call.
    """
    batch = dispatch.batch_size(img)
    sigmas = per_sample(sigma, batch, "sigma", low=0.0, high=1000.0)
    size = check_kernel_size(kernel_size)
    if size is None:
        return dispatch.apply(img, {"sigma": sigmas}, _pillow_blur, unit_range=True)
    _check_fits(size, dispatch.image_size(img))
    return dispatch.apply(img, {"sigma": sigmas}, partial(truncated_blur, kernel_size=size),
                          unit_range=True)


def noise_seeds(n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` fresh 63-bit seeds for ``gaussian_noise``."""
    return torch.randint(0, 2**62, (n,), generator=generator, dtype=torch.int64)


__all__ = ["box_blur_weights", "box_passes", "box_weights", "check_kernel_size",
           "gaussian_blur", "gaussian_kernels", "gaussian_noise", "noise_seeds", "pillow_gaussian",
           "truncated_blur"]
