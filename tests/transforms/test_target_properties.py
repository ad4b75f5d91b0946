"""Properties of masks, boxes and keypoints moved by the geometric transforms, on 1,000
random cases per transform (one batch of 1,000 samples, each with its own parameters)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from augkit.transforms import (
    Compose,
    RandomAffine,
    RandomHorizontalFlip,
    RandomPerspective,
    RandomResizedCrop,
    RandomRotation,
    RandomVerticalFlip,
    RandomZoomOut,
)

CASES = 1000
HEIGHT, WIDTH = 24, 32

TRANSFORMS = {
    "affine": lambda: RandomAffine(degrees=180, translate=(0.3, 0.2), scale=(0.7, 1.4),
                                   shear=(-15, 15, -10, 10), seed=1),
    "resized-crop": lambda: RandomResizedCrop((20, 28), scale=(0.3, 1.0), seed=2),
    "rotation": lambda: RandomRotation(180, seed=6),
    "perspective": lambda: RandomPerspective(0.4, p=1.0, seed=8),
    "hflip": lambda: RandomHorizontalFlip(p=0.5, seed=3),
    "vflip": lambda: RandomVerticalFlip(p=0.5, seed=4),
    "zoom-out": lambda: RandomZoomOut(side_range=(1.0, 2.5), p=1.0, seed=9),
    "pipeline": lambda: Compose([RandomHorizontalFlip(), RandomAffine(25, scale=(0.9, 1.1)),
                                 RandomResizedCrop((24, 24), scale=(0.5, 1.0))], seed=5),
}


def _random_boxes(rng: np.random.Generator, n: int, min_side: int = 2) -> np.ndarray:
    """Whole-pixel xyxy boxes, one per sample."""
    x1 = rng.integers(0, WIDTH - min_side, n)
    y1 = rng.integers(0, HEIGHT - min_side, n)
    x2 = x1 + rng.integers(min_side, WIDTH - x1 + 1)
    y2 = y1 + rng.integers(min_side, HEIGHT - y1 + 1)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.float64)


def _masks_of(boxes: np.ndarray, value: int = 1) -> torch.Tensor:
    masks = torch.zeros(len(boxes), HEIGHT, WIDTH, dtype=torch.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes.astype(int)):
        masks[i, y1:y2, x1:x2] = value
    return masks


def _mask_box(mask: torch.Tensor) -> np.ndarray | None:
    where = mask.nonzero()
    if len(where) == 0:
        return None
    (y1, x1), (y2, x2) = where.min(0).values.tolist(), where.max(0).values.tolist()
    return np.array([x1, y1, x2 + 1, y2 + 1], dtype=np.float64)


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_a_mask_drawn_from_a_box_has_the_moved_box_as_its_bounding_box(name):
    rng = np.random.default_rng(0)
    boxes = _random_boxes(rng, CASES)
    images = torch.zeros(CASES, 1, HEIGHT, WIDTH, dtype=torch.uint8)
    out = TRANSFORMS[name]()(image=images, mask=_masks_of(boxes),
                             boxes=[torch.from_numpy(b[None]) for b in boxes])
    errors = []
    for mask, moved in zip(out["mask"], out["boxes"], strict=True):
        from_mask = _mask_box(mask)
        if from_mask is None:  # a rotated box's enclosing box may still touch the image
            continue
        assert len(moved) == 1
        height, width = mask.shape
        if from_mask[0] > 0 and from_mask[1] > 0 and from_mask[2] < width \
                and from_mask[3] < height:  # clipping crops a rotated box's corners unevenly
            errors.append(np.abs(moved[0].numpy() - from_mask).max())
    errors = np.array(errors)
    assert len(errors) > CASES // 4
    if name in ("affine", "pipeline", "rotation", "perspective"):
        # nearest sampling misses pixel centres in the sharp corner of a rotated box (twice
        # over in the pipeline): nearly all within 1 px, none beyond 1.5
        assert (errors <= 1.0 + 1e-6).mean() >= 0.97 and errors.max() <= 1.5
    else:
        assert errors.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_masks_keep_their_values_and_images_follow_masks_exactly(name):
    rng = np.random.default_rng(1)
    labels = torch.tensor([0, 3, 7, 255], dtype=torch.uint8)
    masks = labels[torch.from_numpy(rng.integers(0, 4, (CASES, HEIGHT, WIDTH)))]
    images = masks.unsqueeze(1)  # an image equal to its mask, sampled with nearest
    transform = TRANSFORMS[name]()
    for step in getattr(transform, "transforms", [transform]):
        if isinstance(step, (RandomResizedCrop, RandomPerspective)):
            step.interpolation = "nearest"
    out = transform(image=images, mask=masks)
    assert set(out["mask"].unique().tolist()) <= set(labels.tolist())
    assert torch.equal(out["image"][:, 0], out["mask"])


@pytest.mark.parametrize("name", ["affine", "rotation", "perspective", "hflip", "vflip",
                                  "zoom-out", "pipeline"])
def test_keypoints_inside_a_mask_stay_inside_it(name):
    rng = np.random.default_rng(2)
    boxes = _random_boxes(rng, CASES, min_side=8)
    inner = rng.uniform(boxes[:, :2] + 3, boxes[:, 2:] - 3)
    points = np.floor(inner) + 0.5  # pixel centres, at least 2.5 px inside the box
    images = torch.zeros(CASES, 1, HEIGHT, WIDTH, dtype=torch.uint8)
    out = TRANSFORMS[name]()(image=images, mask=_masks_of(boxes),
                             keypoints=[torch.from_numpy(p[None]) for p in points])
    checked = 0
    for mask, point, seen in zip(out["mask"], out["keypoints"], out["keypoints_visible"],
                                 strict=True):
        if not bool(seen[0]):
            continue
        x, y = np.floor(point[0].numpy()).astype(int)
        assert mask[y, x] == 1
        checked += 1
    assert checked > CASES // 2


@pytest.mark.parametrize("cls", [RandomHorizontalFlip, RandomVerticalFlip])
def test_flipping_twice_is_the_identity(cls):
    rng = np.random.default_rng(3)
    boxes = _random_boxes(rng, CASES)
    images = torch.from_numpy(rng.integers(0, 256, (CASES, 3, HEIGHT, WIDTH), dtype=np.uint8))
    given = {"image": images, "mask": _masks_of(boxes, 5),
             "boxes": [torch.from_numpy(b[None]) for b in boxes],
             "keypoints": [torch.from_numpy(b[None, :2] + 0.25) for b in boxes]}
    flip = cls(p=1.0)
    twice = flip(**flip(**given))
    assert torch.equal(twice["image"], images)
    assert torch.equal(twice["mask"], given["mask"])
    for before, after in zip(given["boxes"], twice["boxes"], strict=True):
        assert torch.allclose(before, after.double(), atol=1e-9)
    for before, after in zip(given["keypoints"], twice["keypoints"], strict=True):
        assert torch.allclose(before, after.double(), atol=1e-9)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(height=st.integers(4, 40), width=st.integers(4, 40), seed=st.integers(0, 2**31 - 1),
       degrees=st.floats(0, 180), scale=st.floats(0.5, 2.0))
def test_any_size_and_draw_moves_a_single_image_and_its_box_together(height, width, seed,
                                                                      degrees, scale):
    mask = np.zeros((height, width), np.uint8)
    x1, y1, x2, y2 = width // 4, height // 4, width - width // 4, height - height // 4
    mask[y1:y2, x1:x2] = 1
    transform = RandomAffine(degrees, scale=(scale, scale), seed=seed)
    out = transform(image=np.zeros((height, width, 3), np.uint8), mask=mask,
                    boxes=np.array([[x1, y1, x2, y2]], np.float32))
    assert out["image"].shape == (height, width, 3) and out["mask"].dtype == np.uint8
    from_mask = _mask_box(torch.from_numpy(out["mask"]))
    inside = from_mask is not None and from_mask[0] > 0 and from_mask[1] > 0 \
        and from_mask[2] < width and from_mask[3] < height
    if inside:
        assert np.abs(out["boxes"][0] - from_mask).max() <= 1.5
