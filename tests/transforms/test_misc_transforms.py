"""RandomRotation, JPEG, RandomAdjustSharpness, RandomChannelPermutation, Identity, Lambda,
and the flips on part of a batch."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.transforms import (
    JPEG,
    Compose,
    Identity,
    Lambda,
    RandomAdjustSharpness,
    RandomChannelPermutation,
    RandomHorizontalFlip,
    RandomRotation,
    RandomVerticalFlip,
    from_dict,
)


def _batch(n=6, channels=3):
    rng = np.random.default_rng(0)
    return torch.from_numpy(rng.integers(0, 256, (n, channels, 16, 20), dtype=np.uint8))


def test_rotation_turns_each_sample_counter_clockwise_by_its_angle():
    batch = _batch()
    rotate = RandomRotation((-40, 40), interpolation="bilinear", seed=1)
    out = rotate(batch)
    for i, angle in enumerate(rotate.last_params["angle"].tolist()):
        pil = Image.fromarray(batch[i].permute(1, 2, 0).numpy()).rotate(
            angle, Image.Resampling.BILINEAR)
        assert np.array_equal(out[i].permute(1, 2, 0).numpy(), np.asarray(pil))
    nearest = RandomRotation(180, seed=2)
    turned = nearest(batch)
    for i, angle in enumerate(nearest.last_params["angle"].tolist()):
        pil = Image.fromarray(batch[i].permute(1, 2, 0).numpy()).rotate(angle)
        assert np.array_equal(turned[i].permute(1, 2, 0).numpy(), np.asarray(pil))
    square = _batch()[:, :, :16, :16].contiguous()
    quarter = RandomRotation((90, 90))(square)
    assert torch.equal(quarter, square.rot90(1, dims=(2, 3)))  # counter-clockwise
    assert from_dict(rotate.to_dict()).to_dict() == rotate.to_dict()


def test_jpeg_is_pillows_encoder_and_decoder_at_the_drawn_quality():
    batch = _batch(4)
    jpeg = JPEG((20, 90), seed=2)
    out = jpeg(batch)
    for i, quality in enumerate(jpeg.last_params["quality"].tolist()):
        buffer = io.BytesIO()
        Image.fromarray(batch[i].permute(1, 2, 0).numpy()).save(buffer, "JPEG", quality=quality)
        expected = np.asarray(Image.open(buffer))
        assert np.array_equal(out[i].permute(1, 2, 0).numpy(), expected)


def test_adjust_sharpness_is_pillows_and_channel_permutation_is_per_sample():
    image = _batch(1)[0]
    out = RandomAdjustSharpness(3.0, p=1.0)(image)
    pil = Image.fromarray(image.permute(1, 2, 0).numpy())
    assert np.array_equal(out.permute(1, 2, 0).numpy(),
                          np.asarray(ImageEnhance.Sharpness(pil).enhance(3.0)))
    batch = _batch(8)
    permute = RandomChannelPermutation(seed=3)
    shuffled = permute(batch)
    orders = set()
    for i in range(8):
        order = [next(c for c in range(3) if torch.equal(shuffled[i, k], batch[i, c]))
                 for k in range(3)]
        orders.add(tuple(order))
    assert len(orders) > 1


def test_identity_and_lambda():
    batch = _batch()
    assert Identity()(batch) is batch
    halve = Lambda(lambda x: x // 2)
    assert torch.equal(Compose([halve])(batch), batch // 2)
    with pytest.raises(AugkitError, match="cannot be saved"):
        Compose([halve]).to_dict()


@pytest.mark.parametrize("call, words", [
    (lambda: RandomRotation(10, expand="yes"), ["expand", "bool"]),
    (lambda: JPEG(0), ["quality", "0"]),
    (lambda: JPEG((10.5, 20)), ["quality", "whole numbers"]),
    (lambda: JPEG(50)(torch.rand(3, 8, 8)), ["JPEG", "uint8"]),
    (lambda: JPEG(50)(torch.zeros(4, 8, 8, dtype=torch.uint8)), ["4 channels", "JPEG"]),
    (lambda: Lambda(3), ["fn", "callable"]),
])
def test_bad_arguments_are_one_line(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize("call, words", [
    (lambda: RandomRotation(10, center=(1,)), ["center", "(x, y)"]),
    (lambda: F.rotate(torch.zeros(1, 4, 4), 10, center=(1.0, float("nan"))), ["center"]),
    (lambda: F.affine(torch.zeros(1, 4, 4), 10, center=(1.0,)), ["center"]),
])
def test_bad_centres_are_one_line(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)


def test_zoom_out_places_each_sample_on_one_canvas_and_draws_p_once_per_call():
    from augkit.transforms import RandomZoomOut

    batch = torch.full((6, 3, 5, 7), 200, dtype=torch.uint8)
    t = RandomZoomOut(fill=[1, 2, 3], side_range=(2.0, 3.0), p=1.0, seed=0)
    out = t(batch)
    ratio = float(t.last_params["ratio"][0])
    assert out.shape == (6, 3, int(5 * ratio), int(7 * ratio))
    corners = set()
    for sample, (px, py) in zip(out, t.last_params["place"].tolist(), strict=True):
        rows, cols = (sample[0] == 200).nonzero(as_tuple=True)
        top, left = int(rows.min()), int(cols.min())
        assert (top, left) == (int((out.shape[2] - 5) * py), int((out.shape[3] - 7) * px))
        assert int(rows.max()) - top == 4 and int(cols.max()) - left == 6
        assert sample[:, 0, 0].tolist() in ([1, 2, 3], [200, 200, 200])
        corners.add((top, left))
    assert len(corners) > 1
    shapes = {RandomZoomOut(p=0.5, seed=s)(batch).shape for s in range(12)}
    assert batch.shape in shapes and len(shapes) > 1  # whole batches zoomed or left
    with pytest.raises(AugkitError, match=r"^side_range: \(0.5, 2\) is not allowed"):
        RandomZoomOut(side_range=(0.5, 2))


def test_five_and_ten_crops_are_pillows_crops_on_every_kind():
    from augkit.transforms import FiveCrop, TenCrop
    from augkit.transforms.catalogue import measure

    assert measure("FiveCrop", 30).startswith("exact")
    assert measure("TenCrop", 30).startswith("exact")
    batch = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (4, 3, 9, 11),
                                                               dtype=np.uint8))
    crops = TenCrop((4, 5))(batch)
    assert len(crops) == 10 and all(c.shape == (4, 3, 4, 5) for c in crops)
    assert torch.equal(crops[0], batch[:, :, :4, :5])
    assert torch.equal(crops[5], batch.flip(-1)[:, :, :4, :5])
    channels_last = FiveCrop(4)(batch.permute(0, 2, 3, 1).numpy())
    assert torch.equal(torch.from_numpy(channels_last[4]).permute(0, 3, 1, 2),
                       batch[:, :, 2:6, 4:8])
    with pytest.raises(AugkitError, match=r"^size: \(10, 10\) is larger than the 9x11 image"):
        FiveCrop(10)(batch)
    with pytest.raises(AugkitError, match=r"^FiveCrop: takes images only"):
        FiveCrop(4)(batch[0], {"boxes": torch.zeros(1, 4), "labels": torch.zeros(1)})


def test_rotation_with_expand_is_pillows_canvas_and_targets_follow():
    from PIL import Image

    mask = torch.zeros(20, 30, dtype=torch.uint8)
    mask[5:15, 8:20] = 1
    images = (mask * 200)[None, None].expand(4, 3, -1, -1).contiguous()
    t = RandomRotation(90, "nearest", expand=True, seed=3)
    out = t(image=images, mask=mask[None].expand(4, -1, -1).contiguous(),
            boxes=[torch.tensor([[8.0, 5.0, 20.0, 15.0]])] * 4)
    angles = t.last_params["angle"]
    assert bool((angles == angles[0]).all())  # one angle per call: one canvas
    expected = np.asarray(Image.fromarray((mask * 200).numpy()).rotate(float(angles[0]),
                                                                          expand=True))
    assert out["image"].shape[-2:] == expected.shape
    assert (out["image"][:, 0].numpy() == expected).all()
    assert torch.equal(out["image"][:, 0], out["mask"] * 200)
    rows, cols = out["mask"][0].nonzero(as_tuple=True)
    from_mask = torch.tensor([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])
    assert (out["boxes"][0][0] - from_mask).abs().max() <= 1.0


def test_crops_in_a_pipeline_end_it_or_go_to_a_lambda():
    from augkit.transforms import Compose, FiveCrop, Lambda, RandomHorizontalFlip

    stacked = Compose([FiveCrop(4), Lambda(torch.stack)])(torch.zeros(3, 8, 8))
    assert stacked.shape == (5, 3, 4, 4)
    with pytest.raises(AugkitError, match="^RandomHorizontalFlip: got a tuple of crops"):
        Compose([FiveCrop(4), RandomHorizontalFlip(p=1.0)])(torch.zeros(3, 8, 8))
    with pytest.raises(AugkitError, match=r"^permutation: \[0, 1\] is not a permutation"):
        F.permute_channels(torch.zeros(3, 2, 2), [0, 1])


@pytest.mark.parametrize("cls, flip", [(RandomHorizontalFlip, -1), (RandomVerticalFlip, -2)])
@pytest.mark.parametrize("kind", ["uint8", "uint8 six channels", "float"])
def test_a_flip_on_part_of_a_batch_flips_just_those_samples(cls, flip, kind):
    """A batch whose samples are flipped in part goes through one pass (flip or copy per
    sample): each flipped sample is its flip, the others are themselves, as drawn."""
    rng = np.random.default_rng(5)
    channels = 6 if "six" in kind else 3
    batch = torch.from_numpy(rng.integers(0, 256, (9, channels, 7, 11), dtype=np.uint8))
    if kind == "float":
        batch = batch.float() / 255
    transform = cls(p=0.5, seed=11)
    out = transform(batch)
    applied = transform.last_params["applied"]
    assert 0 < int(applied.sum()) < len(batch)
    expected = torch.stack([sample.flip(flip) if flag else sample
                            for sample, flag in zip(batch, applied.tolist(), strict=True)])
    assert torch.equal(out, expected)
    assert out.data_ptr() != batch.data_ptr()
