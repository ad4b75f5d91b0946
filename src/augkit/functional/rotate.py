"""``rotate``: torchvision's ``rotate`` (counter-clockwise degrees about ``center``), equal to
Pillow's ``Image.rotate`` on every pixel with NEAREST, BILINEAR and BICUBIC.

Pillow builds the inverse matrix from ``cos`` and ``sin`` rounded to 15 decimals. NEAREST
samples through it in 16.16 fixed point (``geometry.transform_nearest``); its quarter turns,
done by transposing, come out the same that way. BILINEAR and BICUBIC take Pillow's generic
transform engine (``perspective.transform_prepared``, RGBA premultiplied).

>>> import torch
>>> from augkit.functional import rotate
>>> rotate(torch.arange(9, dtype=torch.uint8).view(1, 3, 3), 90).tolist()
[[[2, 5, 8], [1, 4, 7], [0, 3, 6]]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional import dispatch
from augkit.functional.geometry import (
    check_interpolation,
    per_sample,
    transform_masks,
    transform_nearest,
)
from augkit.functional.perspective import transform_prepared

Image = TypeVar("Image")


def pillow_matrix(angle: float, size: tuple[int, int],
                  center: Sequence[float] | None = None) -> list[float]:
    """Pillow's inverse affine matrix (output to input, continuous coordinates) for
    ``Image.rotate(angle, center=center)``."""
    height, width = size
    radians = -math.radians(angle % 360.0)
    cos, sin = round(math.cos(radians), 15), round(math.sin(radians), 15)
    cx, cy = (width / 2, height / 2) if center is None else (float(center[0]),
                                                             float(center[1]))
    return [cos, sin, cos * -cx + sin * -cy + cx, -sin, cos, -sin * -cx + cos * -cy + cy]


def rotation_data(angles: np.ndarray, size: tuple[int, int],
                  center: Sequence[float] | None = None) -> np.ndarray:
    """Per-sample (N, 6) ``Image.transform`` data of Pillow's ``rotate``."""
    return np.array([pillow_matrix(a, size, center) for a in angles.tolist()], dtype=np.float64)


def expanded(matrix: Sequence[float], size: tuple[int, int]
             ) -> tuple[list[float], tuple[int, int]]:
    """Pillow's ``rotate(expand=True)``: the canvas ``(height, width)`` that holds the four
    corners, taken through the same (inverse) matrix as Pillow takes them, and the matrix
    shifted onto it."""
    height, width = size
    a, b, c, d, e, f = matrix
    xs = [a * x + b * y + c for x, y in ((0, 0), (width, 0), (width, height), (0, height))]
    ys = [d * x + e * y + f for x, y in ((0, 0), (width, 0), (width, height), (0, height))]
    new_w = math.ceil(max(xs)) - math.floor(min(xs))
    new_h = math.ceil(max(ys)) - math.floor(min(ys))
    shift_x, shift_y = -(new_w - width) / 2.0, -(new_h - height) / 2.0
    return [a, b, a * shift_x + b * shift_y + c, d, e, d * shift_x + e * shift_y + f], (
        new_h, new_w)


def rotated_canvas(angles: np.ndarray, size: tuple[int, int],
                   center: Sequence[float] | None = None, expand: bool = False
                   ) -> tuple[np.ndarray | None, tuple[int, int]]:
    """How ``rotate`` turns an image of ``size``: the per-sample (N, 6) Pillow data and the
    output size; ``None`` data for whole quarter turns with ``expand``, which transpose."""
    turns = np.mod(angles, 360.0) if expand and center is None else None
    if turns is not None and np.isin(turns, (0.0, 90.0, 180.0, 270.0)).all():
        odd = set((turns // 90 % 2).astype(int).tolist())
        if size[0] != size[1] and len(odd) > 1:
            raise AugkitError(f"expand: quarter and half turns of a {size[0]}x{size[1]} batch "
                              "give canvases of two sizes; rotate such a batch image by image")
        return None, (size[1], size[0]) if odd == {1} else size
    data = rotation_data(angles, size, center)
    return _expanded_data(angles, data, size) if expand else (data, size)


def rotate_masks(masks: torch.Tensor, angles: np.ndarray, expand: bool,
                 center: Sequence[float] | None, fill: int) -> torch.Tensor:
    """(N, M, H, W) integer masks turned as ``rotate`` turns their images with NEAREST."""
    data, out_size = rotated_canvas(angles, tuple(masks.shape[-2:]), center, expand)
    if data is None:
        return _turn_each(masks, _quarters(angles))
    return transform_masks(masks, data, fill, out_size)


def _quarters(angles: np.ndarray) -> np.ndarray:
    return (np.mod(angles, 360.0) // 90).astype(np.int64)


def _turn_each(batch: torch.Tensor, turns: Any) -> torch.Tensor:
    """Whole quarter turns of each sample, as Pillow's ``rotate(expand=True)`` does them: by
    transposing."""
    return torch.stack([torch.rot90(sample, int(k), dims=(-2, -1))
                        for sample, k in zip(batch, np.asarray(turns).tolist(), strict=True)])


def _expanded_data(angles: np.ndarray, data: np.ndarray, size: tuple[int, int]
                   ) -> tuple[np.ndarray, tuple[int, int]]:
    moved = [expanded(row, size) for row in data]
    sizes = {out for _, out in moved}
    if len(sizes) > 1:
        raise AugkitError(f"expand: the angles {sorted(set(angles.tolist()))[:4]} give "
                          f"canvases of {len(sizes)} sizes; a batch holds one, so rotate "
                          "such a batch image by image")
    return np.array([row for row, _ in moved], dtype=np.float64), sizes.pop()


def rotate(img: Image, angle: Any, interpolation: Any = "nearest", expand: bool = False,
           center: Sequence[float] | None = None, fill: Any = 0) -> Image:
    """torchvision's ``rotate``: counter-clockwise by ``angle`` degrees (per sample) about
    ``center`` (pixels from the top-left corner; default the middle); uncovered pixels take
    ``fill``; ``expand`` enlarges the canvas to hold the turned image (a batch's angles must
    give one size). Equals Pillow's ``Image.rotate`` exactly with every interpolation."""
    method = check_interpolation(interpolation)
    if not isinstance(expand, bool):
        raise AugkitError(f"expand: {expand!r} is not allowed; expected a bool")
    if center is not None and (len(center) != 2 or not all(
            isinstance(c, (int, float)) and math.isfinite(c) for c in center)):
        raise AugkitError(f"center: {center!r} is not allowed; expected (x, y) in pixels from "
                          "the top-left corner")
    batch, channels, height, width = dispatch.layout(img)
    size = (height, width)
    angles = per_sample(angle, batch, "angle")
    data, out_size = rotated_canvas(angles, size, center, expand)
    if data is None:
        return dispatch.apply(img, {"turns": _quarters(angles)},
                              lambda images, turns: _turn_each(images, turns.cpu()))
    if method == "nearest":
        return transform_nearest(img, data, fill, out_size)
    perspective = np.zeros((len(data), 8))
    perspective[:, :6] = data
    smooth = transform_prepared(img, perspective, method, fill, out_size, channels)
    if channels != 4 or center is not None:
        return smooth
    # Pillow transposes these instead (no premultiplied round trip for RGBA); NEAREST's
    # pixels are the transposed ones
    turns = np.mod(angles, 360.0)
    transposed = (turns == 0) | (turns == 180) | (
        ((turns == 90) | (turns == 270)) & (expand or size[0] == size[1]))
    if not transposed.any():
        return smooth
    turned = transform_nearest(img, data, fill, out_size)
    if batch is None:
        return turned
    index = torch.from_numpy(np.flatnonzero(transposed)).to(smooth.device)
    smooth[index] = turned[index]
    return smooth


__all__ = ["expanded", "pillow_matrix", "rotate", "rotate_masks", "rotated_canvas",
           "rotation_data"]
