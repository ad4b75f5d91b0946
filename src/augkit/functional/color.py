"""Pillow's four ``ImageEnhance`` ops as pure functions over every image type.

Each op blends the image with a *degenerate* version of itself:
``out = degenerate + factor * (image - degenerate)``; factor 0 gives the degenerate image,
1 the original, above 1 extrapolates (clipped).

=============  ====================================================================
op             degenerate image
=============  ====================================================================
``color``      the grayscale image (``convert("L")``), replicated over the channels
``brightness`` black
``contrast``   uniform gray at the mean of the grayscale image, rounded as Pillow does
``sharpness``  the image through Pillow's SMOOTH 3x3 filter, border pixels kept
=============  ====================================================================

On uint8 input the result is bit-identical to ``PIL.ImageEnhance`` for L, RGB and RGBA
(alpha untouched), on every device. Float input in [0, 1] uses the same formulas without
rounding and is differentiable.

>>> import numpy as np
>>> from augkit.functional import brightness
>>> brightness(np.full((2, 2), 100, np.uint8), 1.5)[0, 0]
np.uint8(150)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.functional import _enhance_cpu, _enhance_torch, dispatch

Image = TypeVar("Image")
Factor = float | Sequence[float] | np.ndarray | torch.Tensor


def as_factors(factor: Factor, batch: int | None, name: str = "factor") -> np.ndarray:
    """Validate ``factor`` and return one float64 value per sample (length 1 for one image)."""
    n = 1 if batch is None else batch
    if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
        value = float(factor)
        if not (math.isfinite(value) and value >= 0):
            raise AugkitError(f"{name}: {value} is not allowed; expected a finite number >= 0")
        return np.full(n, value)
    if isinstance(factor, torch.Tensor):
        values = factor.detach().to("cpu", torch.float64).reshape(-1).numpy()
    elif isinstance(factor, (Sequence, np.ndarray)) and not isinstance(factor, str):
        try:
            values = np.asarray(factor, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise AugkitTypeError(f"{name}: expected numbers, got {factor!r:.60}") from None
    else:
        raise AugkitTypeError(f"{name}: expected a number or one number per sample, "
                              f"got {type(factor).__name__}")
    if values.size == 1 and n != 1:
        values = np.full(n, values[0])
    if values.size != n:
        what = "a single image" if batch is None else f"a batch of {n}"
        raise AugkitError(f"{name}: got {values.size} values for {what}; expected "
                          f"{'one' if batch is None else f'1 or {n}'}")
    bad = values[~np.isfinite(values) | (values < 0)]
    if bad.size:
        raise AugkitError(f"{name}: {bad[0]} is not allowed; expected a finite number >= 0")
    return values


def enhance(img: Image, ops: Sequence[str], factors: Sequence[Factor] | np.ndarray,
            order: np.ndarray | torch.Tensor | None = None) -> Image:
    """Apply several ops in sequence, ``ops[i]`` with ``factors[i]`` (a number or one per
    sample; or ``factors`` as one ``(N, len(ops))`` array); the same as calling them one by
    one, in one pass per sample.

    ``order`` (``(N, len(ops))``, each row a permutation of ``range(len(ops))``) gives each
    sample of a batch its own order of the ops.

    >>> from augkit.functional import enhance
    >>> out = enhance(np.zeros((4, 4, 3), np.uint8), ["color", "brightness"], [2.0, 1.5])
    """
    unknown = [op for op in ops if op not in ENHANCE_OPS]
    if unknown or not ops:
        raise AugkitError(f"ops: {unknown or list(ops)!r} is not allowed; expected a non-empty "
                          f"list of {', '.join(ENHANCE_OPS)}")
    batch = dispatch.batch_size(img)
    n = 1 if batch is None else batch
    if isinstance(factors, (np.ndarray, torch.Tensor)) and factors.ndim == 2:
        matrix = as_factors(factors, n * len(ops), "factors").reshape(n, len(ops))
    elif len(factors) != len(ops):
        raise AugkitError(f"factors: got {len(factors)} for {len(ops)} ops; expected one each")
    else:
        matrix = np.stack([as_factors(f, batch, f"factors[{i}] ({op})")
                           for i, (op, f) in enumerate(zip(ops, factors, strict=True))], axis=1)
    params = {"factors": matrix.astype(np.float32)}
    if order is not None:
        order = np.asarray(order, dtype=np.int64)
        expected = np.arange(len(ops))
        if order.shape != (n, len(ops)) or not (np.sort(order, axis=1) == expected).all():
            raise AugkitError(f"order: expected ({n}, {len(ops)}) rows, each a permutation of "
                              f"0..{len(ops) - 1}, got shape {order.shape}")
        params["order"] = order
    return dispatch.apply(
        img, params,
        tensor_kernel=partial(_enhance_torch.chain, tuple(ops)),
        uint8_kernel=partial(_enhance_cpu.enhance_uint8, tuple(ops)),
        channels=dispatch.SUPPORTED_CHANNELS, op="enhance", unit_range=True,
    )


def _enhance(op: str, img: Image, factor: Factor) -> Image:
    factors = as_factors(factor, dispatch.batch_size(img))
    return dispatch.apply(
        img,
        {"factors": factors.astype(np.float32)[:, None]},
        tensor_kernel=partial(_enhance_torch.chain, (op,)),
        uint8_kernel=partial(_enhance_cpu.enhance_uint8, (op,)),
        channels=dispatch.SUPPORTED_CHANNELS, op=op, unit_range=True,
    )


def color(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Color``: 0 gives grayscale, 1 the original."""
    return _enhance("color", img, factor)


def brightness(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Brightness``: 0 gives black, 1 the original."""
    return _enhance("brightness", img, factor)


def contrast(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Contrast``: 0 gives uniform gray at the mean luma."""
    return _enhance("contrast", img, factor)


def sharpness(img: Image, factor: Factor) -> Image:
    """Pillow's ``ImageEnhance.Sharpness``: 0 gives the SMOOTH-filtered image."""
    return _enhance("sharpness", img, factor)


ENHANCE_OPS = {"color": color, "brightness": brightness, "contrast": contrast,
               "sharpness": sharpness}

def permute_channels(img: Image, permutation: Sequence[int] | np.ndarray | torch.Tensor
                     ) -> Image:
    """torchvision's ``permute_channels``: output channel ``i`` is input channel
    ``permutation[i]``; a batch may give one permutation per sample, ``(N, C)``."""
    channels = dispatch.num_channels(img)
    order = torch.as_tensor(np.asarray(permutation), dtype=torch.int64)
    n = dispatch.batch_size(img) or 1
    if order.ndim == 1 and order.numel() == channels:
        order = order.expand(n, channels)
    if (order.shape != (n, channels)
            or not torch.equal(order.sort(dim=1).values, torch.arange(channels).expand(n, -1))):
        raise AugkitError(f"permutation: {np.asarray(permutation).tolist()!r:.60} is not a "
                          f"permutation of the {channels} channels (one per sample: ({n}, "
                          f"{channels}))")

    def kernel(images: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
        index = order.long()[:, :, None, None].expand_as(images)
        return images.gather(1, index)

    return dispatch.apply(img, {"order": order}, kernel)


__all__ = ["ENHANCE_OPS", "as_factors", "brightness", "color", "contrast", "enhance",
           "permute_channels", "sharpness"]
