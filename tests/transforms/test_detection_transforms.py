"""The detection steps (RandomIoUCrop, SanitizeBoundingBoxes) and the remaining catalogue
pieces (LinearTransformation, UniformTemporalSubsample)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from augkit.errors import AugkitError, AugkitTypeError
from augkit.transforms import (
    Compose,
    LinearTransformation,
    RandomIoUCrop,
    SanitizeBoundingBoxes,
    UniformTemporalSubsample,
    from_dict,
)
from augkit.transforms.crop import _ious

IMAGE = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (3, 60, 80), dtype=np.uint8))
BOXES = torch.tensor([[10.0, 10.0, 30.0, 40.0], [50.0, 5.0, 75.0, 25.0], [5.0, 45.0, 70.0, 58.0]])
LABELS = torch.tensor([1, 2, 3])


def test_iou_crops_keep_centred_boxes_and_reach_the_drawn_overlap():
    cropped = 0
    for seed in range(40):
        t = RandomIoUCrop(seed=seed)
        out, target = t(IMAGE, {"boxes": BOXES, "labels": LABELS})
        choice = t.choose(t.last_params["u"][0].numpy(), BOXES.numpy(), (60, 80))
        if choice is None:
            assert torch.equal(out, IMAGE) and torch.equal(target["boxes"], BOXES)
            continue
        cropped += 1
        top, left, height, width, inside = choice
        assert torch.equal(out, IMAGE[:, top:top + height, left:left + width])
        assert torch.equal(target["labels"], LABELS[torch.from_numpy(inside)])
        shifted = BOXES[torch.from_numpy(inside)] - torch.tensor([left, top, left, top])
        clipped = shifted.clamp(min=0).minimum(torch.tensor([width, height, width, height]))
        torch.testing.assert_close(target["boxes"], clipped.to(target["boxes"].dtype))
        ious = _ious(BOXES.numpy()[inside], (left, top, left + width, top + height))
        draws = t.last_params["u"][0].numpy()
        options = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]
        drawn = [options[min(int(u * 7), 6)] for u in draws[:, 0]]
        assert any(ious.max() >= overlap for overlap in drawn)
        again = t(IMAGE, {"boxes": BOXES, "labels": LABELS}, params=t.last_params)
        assert torch.equal(again[0], out)
    assert 10 < cropped < 40


def test_iou_crop_needs_boxes_and_single_images_and_takes_lists():
    with pytest.raises(AugkitError, match="^RandomIoUCrop: needs boxes"):
        RandomIoUCrop()(IMAGE)
    with pytest.raises(AugkitError, match="^RandomIoUCrop: each sample's crop has its own size"):
        RandomIoUCrop()(image=IMAGE[None].expand(2, -1, -1, -1),
                        boxes=[BOXES, BOXES], labels=[LABELS, LABELS])
    images, targets = RandomIoUCrop(seed=3)([IMAGE, IMAGE], [{"boxes": BOXES, "labels": LABELS},
                                                             {"boxes": BOXES, "labels": LABELS}])
    assert len(images) == 2 and len(targets) == 2
    with pytest.raises(AugkitError, match="^trials: 0 is not allowed"):
        RandomIoUCrop(trials=0)
    with pytest.raises(AugkitError, match="^sampler_options: 'all' is not allowed"):
        RandomIoUCrop(sampler_options="all")


def test_sanitize_drops_small_boxes_with_their_labels_in_a_pipeline():
    boxes = torch.tensor([[10.0, 10.0, 30.0, 40.0], [50.0, 5.0, 50.5, 25.0], [1.0, 1.0, 2.0, 2.0]])
    _, target = SanitizeBoundingBoxes()(IMAGE, {"boxes": boxes, "labels": LABELS})
    assert target["labels"].tolist() == [1, 3]
    _, target = SanitizeBoundingBoxes(min_area=2)(IMAGE, {"boxes": boxes, "labels": LABELS})
    assert target["labels"].tolist() == [1]
    pipeline = Compose([RandomIoUCrop(), SanitizeBoundingBoxes(min_size=3)], seed=1)
    out = from_dict(pipeline.to_dict())(image=IMAGE, boxes=BOXES, labels=LABELS)
    sides = out["boxes"][:, 2:] - out["boxes"][:, :2]
    assert (sides >= 3).all() and len(out["labels"]) == len(out["boxes"])
    with pytest.raises(AugkitError, match="^labels_getter: None is not offered"):
        SanitizeBoundingBoxes(labels_getter=None)


def test_linear_transformation_whitens_and_round_trips():
    rng = np.random.default_rng(1)
    data = torch.from_numpy(rng.random((200, 1, 2, 3)))
    flat = data.reshape(200, -1)
    mean = flat.mean(0)
    cov = (flat - mean).T @ (flat - mean) / 199
    values, vectors = torch.linalg.eigh(cov)
    zca = vectors @ torch.diag(values.rsqrt()) @ vectors.T
    t = LinearTransformation(zca, mean)
    white = from_dict(t.to_dict())(data).reshape(200, -1)
    torch.testing.assert_close(white.T @ white / 199, torch.eye(6, dtype=torch.float64),
                               atol=1e-6, rtol=0)
    with pytest.raises(AugkitError, match=r"^img: shape \(1, 2, 2\) does not fit the 6 x 6"):
        t(torch.zeros(1, 2, 2))
    with pytest.raises(AugkitTypeError, match="^img: LinearTransformation takes float tensors"):
        t(torch.zeros(1, 2, 3, dtype=torch.uint8))
    with pytest.raises(AugkitError, match=r"^mean_vector: shape \(5,\) is not allowed"):
        LinearTransformation(zca, torch.zeros(5))


def test_uniform_temporal_subsample_takes_evenly_spaced_frames():
    video = torch.arange(10).view(1, 10, 1, 1, 1).expand(2, 10, 3, 4, 4)
    out = UniformTemporalSubsample(4)(video)
    assert out.shape == (2, 4, 3, 4, 4) and out[0, :, 0, 0, 0].tolist() == [0, 3, 6, 9]
    with pytest.raises(AugkitError, match=r"^img: \(3, 4, 4\) is not a video"):
        UniformTemporalSubsample(2)(torch.zeros(3, 4, 4))
