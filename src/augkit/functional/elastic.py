"""Elastic distortion (Simard et al. 2003), as torchvision's ``ElasticTransform``; Pillow has no
such op.

A displacement field ``(N, H, W, 2)`` in ``grid_sample`` units (2 is the whole width or height)
moves every output pixel's source: output ``(x, y)`` samples the input at ``(x + dx * W / 2,
y + dy * H / 2)``. ``elastic_displacement`` makes torchvision's random field from one seed per
sample: uniform noise in [-1, 1], blurred by a Gaussian of ``sigma`` (kernel ``int(8 * sigma +
1)``, made odd, reflect padding), times ``alpha / H`` across and ``alpha / W`` down.

>>> import torch
>>> from augkit.functional import elastic, elastic_displacement
>>> field = elastic_displacement([0], (32, 32), alpha=(50.0, 50.0), sigma=(5.0, 5.0))
>>> elastic(torch.zeros(3, 32, 32, dtype=torch.uint8), field).shape
torch.Size([3, 32, 32])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.functional._warp_cpu import sample_bilinear_uint8
from augkit.functional.geometry import _fill_values, check_interpolation, sample_at
from augkit.functional.noise import truncated_blur

Image = TypeVar("Image")


def _kernel_size(sigma: float) -> int:
    size = int(8 * sigma + 1)
    return size + 1 if size % 2 == 0 else size


def elastic_displacement(seeds: Sequence[int] | np.ndarray | torch.Tensor,
                         size: tuple[int, int], alpha: tuple[float, float],
                         sigma: tuple[float, float]) -> torch.Tensor:
    """torchvision's random displacement field, ``(N, H, W, 2)`` float32, one per seed: the
    x field drawn first, then the y field, from a generator seeded with the sample's seed."""
    height, width = size
    for s in sigma:
        half = _kernel_size(s) // 2
        if s > 0 and (half >= height or half >= width):
            raise AugkitError(f"sigma: {s:g} is too large for a {height}x{width} image; its "
                              f"kernel ({2 * half + 1} px, reflect padding) needs images larger "
                              f"than {half} px on each side")
    noise: list[list[torch.Tensor]] = [[], []]  # per axis, one (1, H, W) draw per sample
    for seed in torch.as_tensor(np.asarray(seeds)).reshape(-1).tolist():
        generator = torch.Generator().manual_seed(int(seed))
        for axis in (0, 1):
            noise[axis].append(torch.rand(1, height, width, generator=generator) * 2 - 1)
    if not noise[0]:
        return torch.zeros(0, height, width, 2)
    parts = []
    for axis, scale in enumerate((alpha[0] / height, alpha[1] / width)):
        batch = torch.stack(noise[axis])
        if sigma[axis] > 0:  # one blur for the batch: the same result per sample as alone
            kernel = _kernel_size(sigma[axis])
            batch = truncated_blur(batch, torch.tensor([sigma[0]]), (kernel, kernel),
                                   torch.tensor([sigma[1]]))
        parts.append(batch[:, 0] * scale)
    return torch.stack(parts, dim=-1)


def displacement_sources(displacement: torch.Tensor, size: tuple[int, int]
                         ) -> tuple[torch.Tensor, torch.Tensor]:
    """The input positions ``(src_x, src_y)`` (N, H, W), in pixels, that a field samples."""
    height, width = size
    field = displacement.to(torch.float64)
    ys = torch.arange(height, dtype=torch.float64, device=field.device).view(1, height, 1)
    xs = torch.arange(width, dtype=torch.float64, device=field.device).view(1, 1, width)
    return xs + field[..., 0] * (width / 2), ys + field[..., 1] * (height / 2)


def _check_field(displacement: Any, n: int, size: tuple[int, int]) -> torch.Tensor:
    field = torch.as_tensor(displacement)
    if field.ndim != 4 or field.shape[1:] != (*size, 2) or field.shape[0] not in (1, n):
        raise AugkitError(f"displacement: shape {tuple(field.shape)} does not fit; expected "
                          f"(N, {size[0]}, {size[1]}, 2) with N 1 or {n}")
    return field.expand(n, *field.shape[1:])


def elastic(img: Image, displacement: Any, interpolation: Any = "bilinear",
            fill: float | Sequence[float] = 0) -> Image:
    """torchvision's ``elastic``: every output pixel sampled where ``displacement`` (``(N, H,
    W, 2)`` or ``(1, H, W, 2)``, ``grid_sample`` units) points; beyond the image, ``fill``."""
    size = dispatch.image_size(img)
    field = _check_field(displacement, dispatch.batch_size(img) or 1, size)
    interpolation = check_interpolation(interpolation)

    def kernel(images: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
        src_x, src_y = displacement_sources(field, size)
        return sample_at(images, src_x, src_y, interpolation, fill)

    def bilinear_uint8(images: np.ndarray, planar: bool, field: np.ndarray) -> np.ndarray:
        src_x, src_y = displacement_sources(torch.from_numpy(field), size)
        fills = _fill_values(fill, images.shape[1 if planar else 3], torch.uint8)
        return sample_bilinear_uint8(images, planar, src_x.numpy(), src_y.numpy(),
                                     fills.numpy())

    return dispatch.apply(img, {"field": field}, kernel,
                          bilinear_uint8 if interpolation == "bilinear" else None)


def elastic_points(points: np.ndarray, field: torch.Tensor) -> np.ndarray:
    """``(K, 2)`` continuous ``(x, y)`` points moved as torchvision moves keypoints: back by
    the displacement at their pixel (the field's inverse, to first order)."""
    height, width = field.shape[:2]
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ix = np.clip(np.floor(points[:, 0]), 0, width - 1).astype(np.int64)
    iy = np.clip(np.floor(points[:, 1]), 0, height - 1).astype(np.int64)
    shift = field.detach().cpu().double().numpy()[iy, ix]
    return points - shift * np.array([width / 2, height / 2])


__all__ = ["displacement_sources", "elastic", "elastic_displacement", "elastic_points"]
