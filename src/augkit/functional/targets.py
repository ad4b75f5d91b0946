"""Kernels for what travels with an image: masks, boxes and keypoints.

Boxes and keypoints use torchvision's continuous coordinates: pixel ``(i, j)`` covers
``[j, j + 1) x [i, i + 1)``, so the box ``(0, 0, W, H)`` is the whole image and a horizontal
flip maps ``x`` to ``W - x``. The image kernels put pixel centres on integers; a forward
matrix of theirs becomes a continuous one by shifting half a pixel on each side
(``continuous_matrices``).

>>> import numpy as np
>>> flip = np.array([[[-1.0, 0, 3], [0, 1, 0], [0, 0, 1]]])   # hflip of a 4-wide image
>>> transform_boxes(np.array([[0.0, 0, 1, 2]]), continuous_matrices(flip)[0]).tolist()
[[3.0, 0.0, 4.0, 2.0]]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from augkit.errors import AugkitError
from augkit.functional._warp_cpu import warp_uint8
from augkit.functional.geometry import _snap

BOX_FORMATS = ("xyxy", "xywh", "cxcywh", "xyxyn", "xywhn", "cxcywhn")


def check_box_format(box_format: str) -> str:
    """``box_format`` as given, or a one-line error listing the formats."""
    if box_format not in BOX_FORMATS:
        raise AugkitError(f"box_format: {box_format!r} is not allowed; expected one of "
                          f"{', '.join(BOX_FORMATS)} (a trailing n: normalised by the image "
                          "width and height)")
    return box_format


def boxes_to_xyxy(boxes: np.ndarray, box_format: str, size: tuple[int, int]) -> np.ndarray:
    """``(K, 4)`` boxes in ``box_format`` as ``xyxy`` pixels (float64)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    height, width = size
    if box_format.endswith("n"):
        boxes *= np.array([width, height, width, height], dtype=np.float64)
    plain = box_format.removesuffix("n")
    if plain == "xywh":
        boxes[:, 2:] += boxes[:, :2]
    elif plain == "cxcywh":
        half = boxes[:, 2:] / 2
        boxes = np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)
    return boxes


def xyxy_to_boxes(boxes: np.ndarray, box_format: str, size: tuple[int, int]) -> np.ndarray:
    """The inverse of ``boxes_to_xyxy``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    height, width = size
    plain = box_format.removesuffix("n")
    if plain == "xywh":
        boxes[:, 2:] -= boxes[:, :2]
    elif plain == "cxcywh":
        boxes = np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2,
                                boxes[:, 2:] - boxes[:, :2]], axis=1)
    if box_format.endswith("n"):
        boxes /= np.array([width, height, width, height], dtype=np.float64)
    return boxes


def continuous_matrices(forward: np.ndarray) -> np.ndarray:
    """Forward ``(N, 3, 3)`` matrices on pixel centres, as matrices on continuous coordinates."""
    shift, unshift = np.eye(3), np.eye(3)
    shift[:2, 2] = 0.5
    unshift[:2, 2] = -0.5
    return shift @ np.asarray(forward, dtype=np.float64) @ unshift


PointMap = Callable[[np.ndarray], np.ndarray]


def transform_points(points: np.ndarray, matrix: np.ndarray | PointMap) -> np.ndarray:
    """``(K, 2)`` points moved by one ``(3, 3)`` matrix (affine or projective), or by a
    function of them (a field that no matrix describes)."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if callable(matrix):
        return matrix(points)
    moved = points @ matrix[:2, :2].T + matrix[:2, 2]
    if matrix[2, 0] == 0 and matrix[2, 1] == 0 and matrix[2, 2] == 1:
        return moved
    return moved / (points @ matrix[2, :2] + matrix[2, 2])[:, None]


def transform_boxes(boxes: np.ndarray, matrix: np.ndarray | PointMap) -> np.ndarray:
    """``(K, 4)`` xyxy boxes moved as their four corners and replaced by the enclosing box."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    corners = boxes[:, [0, 1, 2, 1, 0, 3, 2, 3]].reshape(-1, 2)
    moved = transform_points(corners, matrix).reshape(-1, 4, 2)
    return np.concatenate([moved.min(axis=1), moved.max(axis=1)], axis=1)


def clip_boxes(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """xyxy boxes clipped to the image ``(height, width)``."""
    height, width = size
    limits = np.array([width, height, width, height], dtype=np.float64)
    return np.clip(boxes, 0.0, limits)


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """Areas of xyxy boxes (0 for degenerate ones)."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0,
                                                                  None)


def points_inside(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Which ``(K, 2)`` points lie on the image, ``[0, W) x [0, H)``."""
    height, width = size
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return ((points[:, 0] >= 0) & (points[:, 0] < width)
            & (points[:, 1] >= 0) & (points[:, 1] < height))


def warp_masks(masks: torch.Tensor, inverse: np.ndarray, size: tuple[int, int],
               fill: int = 0, border: str = "fill") -> torch.Tensor:
    """Nearest-neighbour warp of ``(N, M, H, W)`` masks of any dtype, values kept exactly.

    ``inverse`` is ``(N, 2, 3)`` (or ``(N, 3, 3)``) from output to input pixel centres, as in
    ``geometry.warp``; positions outside the input take ``fill`` (``border="fill"``) or the
    nearest edge pixel (``"edge"``).
    """
    if masks.device.type == "cpu" and masks.dtype in (torch.uint8, torch.bool) \
            and 0 <= fill <= (1 if masks.dtype == torch.bool else 255):
        return _warp_small_masks(masks, inverse, size, fill, border)
    n, count, height, width = masks.shape
    out_h, out_w = size
    m = torch.as_tensor(np.ascontiguousarray(np.asarray(inverse)[:, :2, :]),
                        dtype=torch.float64, device=masks.device).reshape(n, 6, 1, 1)
    ys = torch.arange(out_h, dtype=torch.float64, device=masks.device).view(1, out_h, 1)
    xs = torch.arange(out_w, dtype=torch.float64, device=masks.device).view(1, 1, out_w)
    src_x = _snap(m[:, 0] * xs + m[:, 1] * ys + m[:, 2])
    src_y = _snap(m[:, 3] * xs + m[:, 4] * ys + m[:, 5])
    ix, iy = torch.floor(src_x + 0.5).long(), torch.floor(src_y + 0.5).long()
    if border == "edge":
        ix, iy = ix.clamp(0, width - 1), iy.clamp(0, height - 1)
    inside = ((ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)).view(n, 1, -1)
    index = (iy.clamp(0, height - 1) * width + ix.clamp(0, width - 1)).view(n, 1, -1)
    values = masks.reshape(n, count, -1).gather(2, index.expand(n, count, -1))
    filler = torch.tensor(fill, dtype=masks.dtype, device=masks.device)
    return torch.where(inside, values, filler).view(n, count, out_h, out_w)


def _warp_small_masks(masks: torch.Tensor, inverse: np.ndarray, size: tuple[int, int],
                      fill: int, border: str) -> torch.Tensor:
    """uint8 and bool masks through the compiled nearest sampler of the images (the same
    positions and rounding; exact, since every uint8 value is a float32)."""
    as_bytes = masks.view(torch.uint8) if masks.dtype == torch.bool else masks
    fills = np.full(masks.shape[1], fill, np.float32)
    out = warp_uint8(as_bytes.contiguous().numpy(), True, np.asarray(inverse)[:, :2, :],
                     size, "nearest", fills, border)
    result = torch.from_numpy(out)
    return result.view(torch.bool) if masks.dtype == torch.bool else result
