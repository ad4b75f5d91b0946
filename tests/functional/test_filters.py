"""Pillow's ImageFilter: every named kernel, Kernel, BoxBlur, the rank filters and
UnsharpMask bit-identical to Pillow on random L, RGB and RGBA images from 1x1; batches
filter each sample as a single image; floats follow the uint8 result; bad arguments are one
line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.functional.filters import PILLOW_KERNELS

CASES = 60


def _image(rng: np.random.Generator, high: int = 20) -> np.ndarray:
    height, width = (int(v) for v in rng.integers(1, high, 2))
    channels = int(rng.choice([1, 3, 4]))
    image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return image[:, :, 0] if channels == 1 else image


def _pillow(image: np.ndarray, pillow_filter: ImageFilter.Filter) -> np.ndarray:
    return np.asarray(Image.fromarray(image).filter(pillow_filter))


def _count_differing(rng, ours, pillow_filter) -> int:
    differing = 0
    for _ in range(CASES):
        image = _image(rng)
        differing += int((ours(image) != _pillow(image, pillow_filter)).sum())
    return differing


@pytest.mark.parametrize("name", list(PILLOW_KERNELS))
def test_named_kernels_match_pillow(name):
    rng = np.random.default_rng(len(name))
    assert _count_differing(rng, lambda image: F.image_filter(image, name.upper()),
                            getattr(ImageFilter, name.upper())) == 0


def test_custom_kernels_match_pillow():
    rng = np.random.default_rng(1)
    for _ in range(CASES):
        size = int(rng.choice([3, 5]))
        weights = [float(v) for v in rng.uniform(-3, 3, size * size)]
        scale, offset = float(rng.uniform(0.3, 5)), float(rng.uniform(-60, 60))
        image = _image(rng)
        expected = _pillow(image, ImageFilter.Kernel((size, size), weights, scale, offset))
        np.testing.assert_array_equal(F.convolve(image, weights, scale, offset), expected)


def test_box_blur_matches_pillow_with_fractional_and_uneven_radii():
    rng = np.random.default_rng(2)
    for _ in range(CASES):
        image = _image(rng)
        radius = (float(rng.uniform(0, 12)) if rng.random() < 0.6 else
                  (float(rng.uniform(0, 4)), int(rng.integers(0, 3))))
        np.testing.assert_array_equal(F.box_blur(image, radius),
                                      _pillow(image, ImageFilter.BoxBlur(radius)))


@pytest.mark.parametrize("ours, pillow", [(F.median_filter, ImageFilter.MedianFilter),
                                          (F.min_filter, ImageFilter.MinFilter),
                                          (F.max_filter, ImageFilter.MaxFilter)])
def test_rank_filters_match_pillow(ours, pillow):
    rng = np.random.default_rng(3)
    for _ in range(CASES // 2):
        image, size = _image(rng), int(rng.choice([1, 3, 5]))
        np.testing.assert_array_equal(ours(image, size), _pillow(image, pillow(size)))
    image = _image(rng)
    np.testing.assert_array_equal(F.rank_filter(image, 3, 2),
                                  _pillow(image, ImageFilter.RankFilter(3, 2)))


def test_the_3x3_min_median_max_from_sorted_columns_equal_the_sorting_network():
    """Their own kernel (columns of three sorted once, shared by the windows) against the
    general one, on images one and two pixels thin and on flat areas."""
    from augkit.functional._filter_cpu import _rank, rank_uint8

    rng = np.random.default_rng(9)
    for height, width in ((1, 1), (1, 7), (6, 1), (2, 2), (2, 9), (17, 23)):
        planes = rng.integers(0, 256, (4, height, width), dtype=np.uint8)
        planes[1] = planes[1] // 128 * 128
        for rank in (0, 4, 8):
            expected = np.empty_like(planes)
            _rank(planes, 3, rank, expected)
            assert np.array_equal(rank_uint8(planes[None], 3, rank)[0], expected), (
                height, width, rank)


def test_unsharp_mask_matches_pillow():
    rng = np.random.default_rng(4)
    for _ in range(CASES):
        image = _image(rng)
        radius, percent = float(rng.uniform(0, 5)), int(rng.integers(0, 400))
        threshold = int(rng.integers(0, 12))
        np.testing.assert_array_equal(
            F.unsharp_mask(image, radius, percent, threshold),
            _pillow(image, ImageFilter.UnsharpMask(radius, percent, threshold)))


FILTERS = [lambda x: F.image_filter(x, "sharpen"), lambda x: F.image_filter(x, "smooth_more"),
           lambda x: F.box_blur(x, 1.5), lambda x: F.median_filter(x, 3),
           lambda x: F.unsharp_mask(x, 1.0, 200, 2)]


@pytest.mark.parametrize("op", FILTERS)
def test_batches_and_pil_images_filter_each_sample_alike(op):
    rng = np.random.default_rng(5)
    batch = torch.from_numpy(rng.integers(0, 256, (3, 3, 11, 9), dtype=np.uint8))
    out = op(batch)
    for sample, result in zip(batch, out, strict=True):
        hwc = sample.permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(result.permute(1, 2, 0).numpy(), op(hwc))
        np.testing.assert_array_equal(np.asarray(op(Image.fromarray(hwc))), op(hwc))


@pytest.mark.parametrize("op, levels", list(zip(FILTERS, [1, 1, 1, 0, 6], strict=True)))
def test_floats_follow_the_uint8_result(op, levels):
    """Within uint8's rounding: one level, or for unsharp masking (whose difference is
    doubled, and whose threshold may fall either side) a few."""
    image = np.random.default_rng(6).integers(0, 256, (12, 10, 3), dtype=np.uint8)
    ours = op(torch.from_numpy(image).permute(2, 0, 1).to(torch.float64) / 255)
    expected = op(image).astype(np.float64) / 255
    assert ours.dtype == torch.float64
    np.testing.assert_allclose(ours.permute(1, 2, 0).numpy(), expected, atol=(levels + 0.01) / 255)


@pytest.mark.parametrize("call, message", [
    (lambda x: F.image_filter(x, "glow"), "name: 'glow' is not one of Pillow's kernels"),
    (lambda x: F.convolve(x, [1, 2, 3]), "kernel: [1, 2, 3] is not allowed"),
    (lambda x: F.convolve(x, [1, -1] * 4 + [0]), "scale: 0 is not allowed"),
    (lambda x: F.box_blur(x, -1), "radius: -1 is not allowed"),
    (lambda x: F.median_filter(x, 4), "size: 4 is not allowed; expected an odd window size"),
    (lambda x: F.rank_filter(x, 3, 9), "rank: 9 is not allowed"),
    (lambda x: F.unsharp_mask(x, percent=1.5), "percent: 1.5 is not allowed"),
    (lambda x: F.unsharp_mask(x, threshold=-1), "threshold: -1 is not allowed"),
])
def test_bad_arguments_are_one_line(call, message):
    with pytest.raises(AugkitError, match="^" + message.replace("[", r"\[").replace(
            "]", r"\]")) as info:
        call(np.zeros((4, 4), dtype=np.uint8))
    assert "\n" not in str(info.value)


def test_the_compiled_box_passes_equal_the_torch_ones_used_on_cuda():
    from augkit.functional.noise import box_passes, box_weights, torch_box_passes

    rng = np.random.default_rng(7)
    for _ in range(20):
        images = torch.from_numpy(rng.integers(0, 256, (2, 3, *rng.integers(1, 30, 2)),
                                               dtype=np.uint8))
        across, down = box_weights(float(rng.uniform(0, 9))), box_weights(
            float(rng.uniform(0, 9)))
        passes = int(rng.integers(1, 4))
        assert torch.equal(box_passes(images, across, down, passes),
                           torch_box_passes(images, across, down, passes))


def test_the_compiled_kernels_and_rank_filters_equal_the_torch_ones_used_on_cuda():
    from augkit.functional.filters import _kernel_sums, _rank, torch_kernel_sums, torch_rank

    rng = np.random.default_rng(8)
    for size in (3, 5):
        images = torch.from_numpy(rng.integers(0, 256, (2, 3, 13, 11), dtype=np.uint8))
        weights = torch.from_numpy(rng.uniform(-2, 2, size * size).astype(np.float32))
        assert torch.equal(_kernel_sums(images, weights, 7.0),
                           torch_kernel_sums(images, weights, 7.0))
        for rank in (0, size * size // 2, size * size - 1):
            assert torch.equal(_rank(images, size, rank), torch_rank(images, size, rank))


def test_the_compiled_unsharp_step_equals_the_torch_one_used_on_cuda():
    from augkit.functional.filters import torch_unsharp
    from augkit.functional.noise import pillow_gaussian

    rng = np.random.default_rng(9)
    images = torch.from_numpy(rng.integers(0, 256, (2, 4, 12, 15), dtype=np.uint8))
    blurred = pillow_gaussian(images, 1.5)
    for percent, threshold in ((150, 3), (333, 0), (0, 5)):
        np.testing.assert_array_equal(
            F.unsharp_mask(images, 1.5, percent, threshold).numpy(),
            torch_unsharp(images, blurred, percent, threshold).numpy())
