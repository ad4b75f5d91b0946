"""``resize``: Pillow's ``Image.resize`` bit for bit on uint8, torchvision's size rules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.functional.resize import FILTERS, output_size

PILLOW = {"nearest": Image.Resampling.NEAREST, "box": Image.Resampling.BOX,
          "bilinear": Image.Resampling.BILINEAR, "hamming": Image.Resampling.HAMMING,
          "bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
# (in h, w) -> (out h, w): both passes each way, one pass each, the height shrinking more
# than twice the width (Pillow then runs the rows first), 1x1 at either end
SIZES = [((17, 23), (31, 9)), ((40, 12), (7, 20)), ((9, 30), (9, 11)), ((25, 8), (6, 8)),
         ((1, 1), (5, 3)), ((13, 7), (1, 1)), ((60, 20), (10, 18))]


@pytest.mark.parametrize("mode", ["L", "RGB", "RGBA"])
@pytest.mark.parametrize("interpolation", FILTERS)
def test_every_filter_and_mode_equals_pillow(mode, interpolation):
    rng = np.random.default_rng(len(mode) * 10 + FILTERS.index(interpolation))
    for (h, w), (oh, ow) in SIZES:
        hwc = rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8)
        if rng.random() < 0.5:
            hwc = (hwc // 85 * 85).astype(np.uint8)  # flat areas and the clipping edges
        if mode == "RGBA":
            hwc[..., 3] = rng.choice([0, 1, 128, 254, 255], (h, w))
        pil = Image.fromarray(hwc[..., 0] if mode == "L" else hwc, mode)
        expected = np.asarray(pil.resize((ow, oh), PILLOW[interpolation]))
        ours = F.resize(pil, [oh, ow], interpolation)
        assert ours.mode == mode and np.array_equal(np.asarray(ours), expected), (h, w, oh, ow)
        tensor = torch.from_numpy(hwc).permute(2, 0, 1).contiguous()
        batch = torch.stack([tensor, tensor.flip(-1)])
        out = F.resize(batch, [oh, ow], interpolation)
        want = expected.reshape(oh, ow, -1).transpose(2, 0, 1)
        assert np.array_equal(out[0].numpy(), want)
        mirrored = np.asarray(Image.fromarray(np.ascontiguousarray(hwc[:, ::-1]).squeeze(2)
                                              if mode == "L" else np.ascontiguousarray(
                                                  hwc[:, ::-1]), mode).resize(
            (ow, oh), PILLOW[interpolation]))
        assert np.array_equal(out[1].numpy(), mirrored.reshape(oh, ow, -1).transpose(2, 0, 1))


# (mode, factor down, factor across, output h, w): both axes, one axis, Pillow's rows-first
# order (8 down, 2 across), rows narrower than one vector step and not a multiple of one
# (each case compiles its own kernel: one mode each, and planar batches)
WHOLE_BOXES = [("RGB", 2, 2, 9, 17), ("RGBA", 3, 5, 4, 40), ("L", 8, 2, 5, 9),
               ("RGB", 1, 4, 6, 21), ("RGBA", 7, 1, 3, 70), ("L", 6, 3, 2, 1)]


def test_a_box_shrinking_by_whole_factors_equals_pillow():
    """Those shrinks run a kernel of their own (vector shuffles): the same bytes as
    Pillow's two rounded passes, saturated pixels included, with and without a box."""
    from augkit.functional.resize import _plan

    rng = np.random.default_rng(7)
    for mode, factor_y, factor_x, oh, ow in WHOLE_BOXES:
        h, w = oh * factor_y, ow * factor_x
        extra = 3 if factor_x > 1 else 0  # a box starting 3 pixels in
        hwc = rng.integers(0, 256, (h, w + extra, len(mode)), dtype=np.uint8)
        hwc[: h // 2, : w // 2] = 255
        pil = Image.fromarray(hwc[..., 0] if mode == "L" else hwc, mode)
        for box in {(0, 0, w, h), (extra, 0, w + extra, h)}:
            assert _plan((h, w + extra), (oh, ow), "box", box).whole_box
            expected = np.asarray(pil.resize((ow, oh), Image.Resampling.BOX, box=box))
            ours = F.resize(pil, [oh, ow], "box", box=box)
            assert np.array_equal(np.asarray(ours), expected), (mode, factor_y, factor_x, box)
            tensor = torch.from_numpy(hwc).permute(2, 0, 1)
            batch = F.resize(torch.stack([tensor, 255 - tensor]), [oh, ow], "box", box=box)
            assert np.array_equal(batch[0].numpy(), expected.reshape(oh, ow, -1).transpose(
                2, 0, 1)), (factor_y, factor_x, box)


def test_nearest_taking_every_kth_column_equals_pillow():
    """A NEAREST shrink whose source columns step by a whole 2 to 8 picks them with
    shuffles: L, RGB and RGBA, rows narrower than one step and wider, planar batches."""
    from augkit.functional.resize import _column_step

    rng = np.random.default_rng(8)
    for mode, factor, oh, ow in (("RGB", 2, 9, 17), ("L", 3, 4, 40), ("RGBA", 8, 5, 9),
                                 ("RGB", 5, 3, 70), ("L", 2, 6, 15)):
        h, w = oh * 2 + 1, ow * factor
        hwc = rng.integers(0, 256, (h, w, len(mode)), dtype=np.uint8)
        assert _column_step((h, w), (oh, ow)) == factor
        pil = Image.fromarray(hwc[..., 0] if mode == "L" else hwc, mode)
        expected = np.asarray(pil.resize((ow, oh), Image.Resampling.NEAREST))
        assert np.array_equal(np.asarray(F.resize(pil, [oh, ow], "nearest")), expected), mode
        tensor = torch.from_numpy(hwc).permute(2, 0, 1)
        batch = F.resize(torch.stack([tensor, 255 - tensor]), [oh, ow], "nearest")
        assert np.array_equal(batch[0].numpy(), expected.reshape(oh, ow, -1).transpose(2, 0, 1))


def test_hamming_uses_pillows_single_precision_window_constants():
    """Pillow's Hamming window is ``0.54f + 0.46f * cos``: with the double constants one
    pixel of this image comes out 193 where Pillow gives 192."""
    image = np.random.default_rng(148).integers(0, 256, (57, 68), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(image).resize((39, 29), Image.Resampling.HAMMING))
    assert np.array_equal(F.resize(image[..., None], [29, 39], "hamming")[..., 0], expected)


def test_the_device_path_sums_the_same_integers():
    """The matrix form (what runs off the CPU) gives the compiled passes' bytes."""
    from augkit.functional.resize import _Plan, _resize_tensor

    rng = np.random.default_rng(3)
    for channels in (1, 3, 4):
        batch = torch.from_numpy(rng.integers(0, 256, (2, channels, 19, 26), dtype=np.uint8))
        for interpolation in ("bilinear", "lanczos"):
            for out in ((7, 40), (30, 11)):
                plan = _Plan((19, 26), out, interpolation)
                assert torch.equal(_resize_tensor(batch, plan, channels),
                                   F.resize(batch, list(out), interpolation))


@pytest.mark.parametrize("interpolation", FILTERS[1:])
def test_batched_boxes_equal_pillows_resize_of_each_crop(interpolation):
    """``resize_boxes`` (RandomResizedCrop's way off the CPU), run here on the CPU: every
    sample its own box, both pass orders, L, RGB and RGBA."""
    from augkit.functional.resize import resize_boxes

    rng = np.random.default_rng(FILTERS.index(interpolation))
    boxes = np.array([[0, 0, 30, 26], [3, 5, 27, 4], [10, 1, 2, 25], [4, 9, 1, 1],
                      [0, 2, 29, 19]])  # the second and fifth shrink their rows first
    for mode in ("L", "RGB", "RGBA"):
        images = rng.integers(0, 256, (5, 30, 26, len(mode)), dtype=np.uint8)
        out = resize_boxes(torch.from_numpy(images).permute(0, 3, 1, 2), boxes, (9, 13),
                           interpolation).permute(0, 2, 3, 1).numpy()
        for i, (top, left, height, width) in enumerate(boxes):
            pil = Image.fromarray(images[i, ..., 0] if mode == "L" else images[i], mode)
            expected = np.asarray(pil.crop((left, top, left + width, top + height)).resize(
                (13, 9), PILLOW[interpolation])).reshape(9, 13, -1)
            assert np.array_equal(out[i], expected), (mode, i)


def test_float_images_get_the_same_taps_unrounded():
    rng = np.random.default_rng(4)
    batch = torch.from_numpy(rng.integers(0, 256, (2, 3, 30, 20), dtype=np.uint8))
    for interpolation in ("bilinear", "bicubic", "box"):
        exact = F.resize(batch, [12, 9], interpolation).double()
        floats = F.resize(batch.float() / 255, [12, 9], interpolation)
        assert floats.dtype == torch.float32
        assert (floats.double() * 255 - exact).abs().max() <= 1.5  # two roundings apart


def test_torchvision_size_rules():
    assert output_size((20, 30), 8) == (8, 12)
    assert output_size((30, 20), [8]) == (12, 8)
    assert output_size((20, 30), 8, max_size=10) == (6, 10)
    assert output_size((20, 30), None, max_size=15) == (10, 15)
    assert output_size((20, 30), (5, 7)) == (5, 7)
    assert F.resize(np.zeros((20, 30, 3), np.uint8), 10).shape == (10, 15, 3)


@pytest.mark.parametrize("call, words", [
    (lambda x: F.resize(x, 0), ["size", "0", "positive"]),
    (lambda x: F.resize(x, [3, 4], "cubic"), ["interpolation", "'cubic'", "lanczos"]),
    (lambda x: F.resize(x, 8, max_size=8), ["max_size", "larger than size"]),
    (lambda x: F.resize(x, [3, 4], max_size=9), ["max_size", "single number"]),
    (lambda x: F.resize(x, None), ["size", "None needs max_size"]),
    (lambda x: F.resize(x, 5, antialias=False), ["antialias", "only True"]),
])
def test_bad_arguments_are_one_line(call, words):
    with pytest.raises(AugkitError) as info:
        call(np.zeros((6, 6), np.uint8))
    assert all(w in str(info.value) for w in words) and "\n" not in str(info.value)


def test_a_box_and_imageops_fit_match_pillow_on_every_filter_and_mode():
    from augkit.transforms.catalogue import measure

    assert measure("Image.resize(box=...)", 80, seed=3).startswith("exact")
    assert measure("ImageOps.fit", 80, seed=4).startswith("exact")


@pytest.mark.parametrize("box, words", [
    ((0, 0, 9, 4), "box: (0, 0, 9, 4) is not allowed; expected 0 <= left < right <= 8"),
    ((3, 1, 3, 4), "box: (3, 1, 3, 4) is not allowed"),
    ((1, 2, 3), "box: (1, 2, 3) is not allowed; expected (left, top, right, bottom)"),
])
def test_bad_boxes_are_one_line(box, words):
    with pytest.raises(AugkitError, match="^" + words.replace("(", r"\(").replace(")", r"\)")):
        F.resize(np.zeros((6, 8), np.uint8), [3, 3], box=box)


def test_many_taps_odd_and_even_equal_pillow():
    """Shrinking hundreds of pixels to a few: hundreds of taps an output, odd and even
    counts, summed two at a time."""
    rng = np.random.default_rng(7)
    hwc = rng.integers(0, 256, (701, 90, 3), dtype=np.uint8)
    for interpolation in ("bilinear", "lanczos"):
        for size in ((3, 90), (5, 41), (90, 5)):
            source = hwc if size != (90, 5) else hwc.transpose(1, 0, 2).copy()
            expected = np.asarray(Image.fromarray(source).resize(
                size[::-1], PILLOW[interpolation], reducing_gap=None))
            assert np.array_equal(F.resize(source, list(size), interpolation), expected)


def test_sums_a_tap_at_a_time_are_the_paired_sums(monkeypatch):
    """Machines without 32-lane pairwise multiply-adds sum a tap at a time with 32-bit
    multiplies: the same bytes as the paired sums where there are such (else the same
    path twice)."""
    import numba

    from augkit.functional import _resample_cpu
    from augkit.functional.resize import _plan, column_taps

    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, (1, 37, 29, 3), dtype=np.uint8)
    monkeypatch.setattr(_resample_cpu, "wide_pairs", lambda: False)
    rows_pass = numba.njit(_resample_cpu.vertical_pass.py_func)
    columns_pass = numba.njit(_resample_cpu.horizontal_pass.py_func)
    for interpolation, size in (("bicubic", (50, 61)), ("lanczos", (11, 7)),
                                ("bilinear", (20, 29))):
        plan = _plan((37, 29), size, interpolation)
        expected, ours = (np.empty((1, size[0], 29, 3), np.uint8) for _ in range(2))
        _resample_cpu.vertical_pass(image, expected, plan.rows[0], plan.rows[2],
                                    plan.row_pairs)
        rows_pass(image, ours, plan.rows[0], plan.rows[2], plan.row_pairs)
        assert np.array_equal(ours, expected), interpolation
        tables = column_taps(29, size[1], interpolation, 0.0, 29.0, 3)
        rows = image.reshape(1, 37, 87)
        expected, ours = (np.empty((1, 37, size[1] * 3), np.uint8) for _ in range(2))
        _resample_cpu.horizontal_pass(rows, expected, 0, *tables, 3)
        columns_pass(rows, ours, 0, *tables, 3)
        assert np.array_equal(ours, expected), interpolation
