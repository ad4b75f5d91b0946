"""Crops, centre crops and padding against Pillow and numpy; RandomCrop, CenterCrop and Pad
moving masks and boxes exactly; Normalize and ToDtype."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.transforms import CenterCrop, Normalize, Pad, RandomCrop, ToDtype


def test_crop_equals_pillows_crop_also_beyond_the_image():
    rng = np.random.default_rng(0)
    for _ in range(300):
        height, width = rng.integers(1, 20, 2)
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        top, left = rng.integers(-6, 20, 2)
        h, w = rng.integers(1, 25, 2)
        expected = np.asarray(Image.fromarray(image).crop((left, top, left + w, top + h)))
        assert np.array_equal(F.crop(image, top, left, h, w), expected)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_equals_numpys_pad(mode):
    rng = np.random.default_rng(1)
    for _ in range(100):
        height, width = rng.integers(3, 12, 2)
        image = rng.integers(0, 256, (height, width), dtype=np.uint8)
        left, top, right, bottom = (int(v) for v in rng.integers(0, 3, 4))
        expected = np.pad(image, ((top, bottom), (left, right)), mode=mode)
        assert np.array_equal(F.pad(image, [left, top, right, bottom], padding_mode=mode),
                              expected)


def test_center_crop_is_torchvisions_window():
    image = np.arange(7 * 9, dtype=np.uint8).reshape(7, 9)
    assert np.array_equal(F.center_crop(image, (3, 4)), image[2:5, 2:6])
    assert F.center_crop(image, 11).shape == (11, 11)  # padded with zeros


@pytest.mark.parametrize("make", [lambda: RandomCrop(12, padding=3, seed=0),
                                  lambda: CenterCrop((9, 13)),
                                  lambda: Pad([2, 1, 3, 4], padding_mode="reflect"),
                                  lambda: RandomCrop(20, pad_if_needed=True, mask_fill=255,
                                                     seed=1)])
def test_crops_and_pads_move_masks_and_boxes_exactly(make):
    rng = np.random.default_rng(2)
    images = torch.from_numpy(rng.integers(0, 256, (20, 1, 14, 16), dtype=np.uint8))
    masks = images[:, 0].clone()  # a mask equal to its image follows it pixel for pixel
    boxes = [torch.tensor([[3.0, 2.0, 9.0, 8.0]]) for _ in range(20)]
    transform = make()
    out = transform(image=images, mask=masks, boxes=boxes)
    if transform.fill == 0 and getattr(transform, "mask_fill", 0) == 0:
        assert torch.equal(out["image"][:, 0], out["mask"])
    params = transform.last_params
    for i in range(20):
        forward, _ = transform.forward_matrices({k: v[i:i + 1] for k, v in params.items()},
                                                (14, 16))
        dx, dy = forward[0, 0, 2], forward[0, 1, 2]
        expected = torch.tensor([3 + dx, 2 + dy, 9 + dx, 8 + dy]).clamp(min=0)
        height, width = out["image"].shape[-2:]
        expected = torch.minimum(expected, torch.tensor([width, height, width, height]))
        if len(out["boxes"][i]):
            assert torch.allclose(out["boxes"][i][0].double(), expected.double())


def test_normalize_and_to_dtype_follow_torchvision():
    x = torch.randint(0, 256, (2, 3, 4, 4), dtype=torch.uint8)
    floats = ToDtype(torch.float32, scale=True)(x)
    assert torch.allclose(floats, x / 255.0)
    assert torch.equal(ToDtype("uint8", scale=True)(floats), x)
    normal = Normalize([0.5, 0.4, 0.3], [0.2, 0.2, 0.2])(floats)
    assert torch.allclose(normal[:, 1], (floats[:, 1] - 0.4) / 0.2)
    with pytest.raises(AugkitError, match="float images"):
        Normalize([0.5], [0.2])(x)


@pytest.mark.parametrize("call, words", [
    (lambda: F.pad(np.zeros((3, 3), np.uint8), 3, padding_mode="reflect"), ["padding", "reflect"]),
    (lambda: F.pad(np.zeros((3, 3), np.uint8), [1, 2, 3]), ["padding", "(left, top"]),
    (lambda: Pad(1, padding_mode="wrap"), ["padding_mode", "'wrap'"]),
    (lambda: RandomCrop(40)(torch.zeros(3, 8, 8)), ["size", "larger", "pad_if_needed"]),
    (lambda: ToDtype("float17"), ["dtype", "float17"]),
])
def test_bad_arguments_are_one_line(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize("call, words", [
    (lambda: RandomCrop(8, pad_if_needed="yes"), ["pad_if_needed", "bool"]),
    (lambda: F.normalize(torch.rand(3, 4, 4), [0.5, 0.5], [0.2]), ["mean, std", "1 or 3"]),
    (lambda: F.normalize(torch.rand(3, 4, 4), [0.5], [0.0]), ["std > 0"]),
    (lambda: F.to_dtype(torch.rand(3, 4, 4), torch.int32, scale=True), ["dtype", "int32"]),
    (lambda: F.to_dtype(np.zeros((4, 4)), torch.float32), ["to_dtype", "tensors"]),
])
def test_more_bad_arguments_are_one_line(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
def test_compiled_layout_changes_equal_numpys(channels):
    from augkit.functional._layout_cpu import interleaved, planar

    rng = np.random.default_rng(channels)
    nhwc = rng.integers(0, 256, (3, 7, 9, channels), dtype=np.uint8)
    nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
    assert np.array_equal(planar(nhwc), nchw) and planar(nhwc).flags.c_contiguous
    assert np.array_equal(interleaved(nchw), nhwc) and interleaved(nchw).flags.c_contiguous
    assert np.array_equal(planar(nhwc[:, ::2, 1:]), nchw[:, :, ::2, 1:])  # strided input
    floats = nhwc.astype(np.float32)
    assert np.array_equal(planar(floats), nchw.astype(np.float32))


def test_plane_transpose_in_tiles_and_edges_equals_numpys():
    from augkit.functional._layout_cpu import transpose_plane

    rng = np.random.default_rng(4)
    for height, width in ((1, 1), (16, 16), (17, 3), (33, 48), (40, 21)):
        plane = rng.integers(0, 256, (height, width), dtype=np.uint8)
        out = np.empty((width, height), np.uint8)
        transpose_plane(plane, out)
        assert np.array_equal(out, plane.T)


@pytest.mark.parametrize("channels", [1, 2, 3, 4, 6])
def test_mirrored_rows_equal_numpys_reversal(channels):
    """16 pixels a shuffle, a row's last step overlapping, rows narrower than a step one
    pixel at a time; planar batches row by row."""
    from augkit.functional._layout_cpu import mirrored

    rng = np.random.default_rng(channels)
    for width in (1, 7, 16, 17, 40):
        nhwc = rng.integers(0, 256, (2, 3, width, channels), dtype=np.uint8)
        assert np.array_equal(mirrored(nhwc, planar=False), nhwc[:, :, ::-1])
        nchw = np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))
        assert np.array_equal(mirrored(nchw, planar=True), nchw[..., ::-1])


def test_windows_copied_as_slices_equal_the_indexed_gather():
    """On the CPU a window (with fill where it passes the image) is copied as slices; any
    other indices (reflect padding) gather; both give the indexed gather's values."""
    from augkit.functional.crop import gather_windows, remap, source_indices

    rng = np.random.default_rng(9)
    for case in range(60):
        n, c = int(rng.integers(1, 4)), int(rng.choice([1, 3]))
        h, w = (int(v) for v in rng.integers(1, 15, 2))
        out_h, out_w = (int(v) for v in rng.integers(1, 25, 2))
        batch = torch.from_numpy(rng.integers(0, 256, (n, c, h, w), dtype=np.uint8))
        mode = "reflect" if case % 5 == 0 and min(h, w) > 1 else "constant"
        rows = source_indices(rng.integers(-8, h + 4, n)[:, None] + np.arange(out_h), h, mode)
        cols = source_indices(rng.integers(-8, w + 4, n)[:, None] + np.arange(out_w), w, mode)
        fill = torch.tensor(rng.uniform(0, 255, c))
        assert torch.equal(remap(batch, rows, cols, fill),
                           gather_windows(batch, rows, cols, fill)), case
