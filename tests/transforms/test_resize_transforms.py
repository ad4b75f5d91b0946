"""Resize, RandomResize, RandomShortestSize, ScaleJitter: Pillow's resize, torchvision's
arguments, one size per call, targets along, replay and YAML."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.transforms import (
    Compose,
    RandomResize,
    RandomShortestSize,
    Resize,
    ScaleJitter,
    from_dict,
    load,
    save,
)

FACTORIES = [lambda: Resize(12, "bicubic", max_size=20), lambda: Resize([9, 7], "lanczos"),
             lambda: RandomResize(8, 20), lambda: RandomShortestSize([6, 10, 14], 18),
             lambda: ScaleJitter([16, 16], (0.5, 1.5), "hamming")]


@pytest.mark.parametrize("make", FACTORIES)
def test_every_kind_replays_and_round_trips(make, tmp_path):
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (14, 22, 3), dtype=np.uint8)
    t = make().reseed(5)
    pil = t(Image.fromarray(hwc))
    params = t.last_params
    tensor = make()(torch.from_numpy(hwc).permute(2, 0, 1).contiguous(), params=params)
    array = make()(hwc, params=params)
    assert np.array_equal(np.asarray(pil), array)
    assert np.array_equal(tensor.permute(1, 2, 0).numpy(), array)
    save(Compose([make()]), tmp_path / "p.yaml")
    again = load(tmp_path / "p.yaml").transforms[0]
    assert np.array_equal(again(hwc, params=params), array)
    assert from_dict(make().to_dict()).to_dict() == make().to_dict()


def test_one_size_per_call_and_a_batch_keeps_it():
    batch = torch.randint(0, 256, (6, 3, 20, 30), dtype=torch.uint8)
    t = RandomResize(5, 40, seed=1)
    sizes = {tuple(t(batch).shape[-2:]) for _ in range(12)}
    assert len(sizes) > 3 and all(h < w for h, w in sizes)
    out = t(batch)
    assert torch.equal(out[2], t(batch[2], params={k: v[2:3] for k, v in
                                                   t.last_params.items()}))


def test_targets_follow_the_resize():
    image = torch.zeros(1, 20, 40, dtype=torch.uint8)
    mask = torch.arange(800).view(20, 40) % 7
    out = Resize([10, 16])(image=image, mask=mask, boxes=torch.tensor([[4.0, 2.0, 24.0, 12.0]]),
                           keypoints=torch.tensor([[10.0, 5.0]]))
    assert out["image"].shape == (1, 10, 16)
    pillow_mask = np.asarray(Image.fromarray(mask.numpy().astype(np.uint8)).resize(
        (16, 10), Image.Resampling.NEAREST))
    assert np.array_equal(out["mask"].numpy(), pillow_mask)
    assert torch.allclose(out["boxes"], torch.tensor([[1.6, 1.0, 9.6, 6.0]], dtype=torch.float64)
                          .to(out["boxes"].dtype))
    assert torch.allclose(out["keypoints"].float(), torch.tensor([[4.0, 2.5]]))


def test_interpolation_mode_objects_and_exactness():
    hwc = np.random.default_rng(2).integers(0, 256, (19, 13, 3), dtype=np.uint8)
    mode = SimpleNamespace(value="lanczos")  # what torchvision's InterpolationMode holds
    ours = Resize(9, mode)(Image.fromarray(hwc))
    pillow = Image.fromarray(hwc).resize((9, 13), Image.Resampling.LANCZOS)
    assert np.array_equal(np.asarray(ours), np.asarray(pillow))
    assert np.array_equal(np.asarray(ours), F.resize(hwc, 9, "lanczos"))


@pytest.mark.parametrize("make, words", [
    (lambda: Resize(0), ["size", "0"]),
    (lambda: Resize([1, 2, 3]), ["size", "(h, w)"]),
    (lambda: Resize(8, "area"), ["interpolation", "'area'"]),
    (lambda: Resize(8, antialias=False), ["antialias"]),
    (lambda: RandomResize(10, 10), ["max_size", "larger than min_size"]),
    (lambda: RandomShortestSize([]), ["min_size", "positive integers"]),
    (lambda: ScaleJitter([10]), ["target_size", "(h, w)"]),
    (lambda: ScaleJitter([10, 10], (2, 1)), ["scale_range", "0 < low <= high"]),
])
def test_bad_arguments_are_one_line(make, words):
    with pytest.raises(AugkitError) as info:
        make()
    assert all(w in str(info.value) for w in words) and "\n" not in str(info.value)


def test_random_resized_crop_is_pillows_crop_and_resize_and_moves_label_masks():
    from augkit.transforms import RandomResizedCrop
    from augkit.transforms.catalogue import measure

    assert measure("RandomResizedCrop", 40).startswith("exact")
    labels = torch.arange(24 * 32, dtype=torch.int64).view(1, 24, 32).expand(3, -1, -1)
    images = (labels % 251).to(torch.uint8)[:, None]
    t = RandomResizedCrop((12, 10), scale=(0.2, 0.9), interpolation="nearest", seed=2)
    out = t(image=images, mask=labels.contiguous())
    assert out["mask"].dtype == torch.int64 and out["mask"].shape == (3, 12, 10)
    assert torch.equal(out["image"][:, 0], (out["mask"] % 251).to(torch.uint8))
    boxes = t.boxes(t.last_params, (24, 32))
    assert all(float(v) == int(v) for part in boxes for v in part)  # whole pixels
