"""The four photometric kernels against Pillow, pixel by pixel, over every input kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import augkit.functional as F
from augkit.data import load_photos
from augkit.functional import _enhance_cpu, _enhance_torch
from tests.helpers import (
    KINDS,
    MODES,
    PIL_ENHANCE,
    as_kind,
    pil_to_hwc,
    pillow_enhance,
    random_hwc,
    to_hwc,
)

OPS = tuple(PIL_ENHANCE)


def _random_cases(seed: int, count: int):
    rng = np.random.default_rng(seed)
    for i in range(count):
        height, width = (int(v) for v in rng.integers(1, 65, 2))
        if i % 10 == 0:
            height, width = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        mode = MODES[i % 3]
        choice = i % 4
        if choice == 0:
            factor = float(rng.integers(0, 11))
        elif choice == 1:
            factor = int(rng.integers(0, 101)) / 10
        else:
            factor = float(rng.uniform(0, 10))
        yield random_hwc(rng, height, width, mode), mode, factor


@pytest.mark.parametrize("op", OPS)
def test_matches_pillow_on_1000_random_cases_for_every_kind(op):
    mismatches = {kind: 0 for kind in (*KINDS, "torch-kernel")}
    for hwc, mode, factor in _random_cases(seed=OPS.index(op), count=1000):
        expected = pillow_enhance(op, hwc, mode, factor)
        for kind in KINDS:
            out = F.ENHANCE_OPS[op](as_kind(hwc, mode, kind), factor)
            mismatches[kind] += int((to_hwc(out) != expected).sum())
        batch = torch.from_numpy(hwc).permute(2, 0, 1)[None]
        via_torch = _enhance_torch.OPS[op](batch, torch.tensor([factor], dtype=torch.float32))
        mismatches["torch-kernel"] += int((via_torch[0].permute(1, 2, 0).numpy() != expected).sum())
    assert mismatches == {kind: 0 for kind in mismatches}


@pytest.mark.parametrize("factor", [0.0, 0.3, 1.0, 1.7, 5.5, 10.0])
def test_matches_pillow_on_real_photos(factor):
    for photo in load_photos():
        hwc = pil_to_hwc(photo)
        rgba = np.concatenate([hwc, hwc[..., :1]], axis=2)
        gray = pil_to_hwc(photo.convert("L"))
        for image, mode in ((hwc, "RGB"), (rgba, "RGBA"), (gray, "L")):
            for op in OPS:
                expected = pillow_enhance(op, image, mode, factor)
                for kind in KINDS:
                    out = to_hwc(F.ENHANCE_OPS[op](as_kind(image, mode, kind), factor))
                    assert np.array_equal(out, expected), (op, mode, kind, factor)


def test_chain_of_four_matches_pillow():
    rng = np.random.default_rng(7)
    for hwc, mode, _ in _random_cases(seed=99, count=300):
        factors = [int(rng.integers(0, 100)) / 10, int(rng.integers(4, 20)) / 10,
                   int(rng.integers(10, 21)) / 10, int(rng.integers(0, 100)) / 10]
        expected = to_pil(hwc, mode)
        out = as_kind(hwc, mode, "tensor")
        for op, factor in zip(OPS, factors, strict=True):
            expected = PIL_ENHANCE[op](expected).enhance(factor)
            out = F.ENHANCE_OPS[op](out, factor)
        assert np.array_equal(to_hwc(out), pil_to_hwc(expected))


def to_pil(hwc, mode):
    return as_kind(hwc, mode, "pil")


def test_alpha_is_untouched():
    rng = np.random.default_rng(3)
    hwc = random_hwc(rng, 9, 11, "RGBA")
    for op in OPS:
        for kind in KINDS:
            out = to_hwc(F.ENHANCE_OPS[op](as_kind(hwc, "RGBA", kind), 3.7))
            assert np.array_equal(out[..., 3], hwc[..., 3])


def test_the_pillow_comparison_can_fail():
    """Plausible near-misses (rounding instead of truncating, float luma weights) differ from
    Pillow, so the exactness tests above can catch them."""
    rng = np.random.default_rng(0)
    rounded = float_luma = 0
    for _ in range(100):
        hwc = random_hwc(rng, 8, 8, "RGB")
        factor = float(rng.uniform(0, 3))
        pixels = hwc.astype(np.float32)
        rounded_out = np.clip(np.round(np.float32(factor) * pixels), 0, 255).astype(np.uint8)
        rounded += int((rounded_out != pillow_enhance("brightness", hwc, "RGB", factor)).sum())
        gray = np.round(pixels @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
        float_out = np.clip(gray + np.float32(factor) * (pixels - gray), 0, 255).astype(np.uint8)
        float_luma += int((float_out != pillow_enhance("color", hwc, "RGB", factor)).sum())
    assert rounded > 0 and float_luma > 0


def test_smooth_division_trick_is_exact_for_every_reachable_sum():
    sums = np.arange(0, 13 * 255 + 1, dtype=np.uint32)
    assert np.array_equal(((sums + 6) * 5042) >> 16, (sums + 6) // 13)


def test_the_device_contrast_rounds_a_half_mean_as_pillow():
    """The torch kernel (what a GPU runs) where the grey mean is exactly k + 0.5, which
    Pillow rounds up, and beside it."""
    from PIL import ImageEnhance

    rng = np.random.default_rng(5)
    for width in (2, 6, 224):
        for shift in (0, 1):
            row = rng.integers(60, 200, width).astype(np.int64)
            row[-1] += (width // 2 - row.sum()) % width + shift  # sum = (k + 0.5) width (+1)
            row = row.astype(np.uint8)
            out = _enhance_torch.contrast(torch.from_numpy(row).view(1, 1, 1, width),
                                          torch.tensor([0.3], dtype=torch.float64))
            expected = np.asarray(ImageEnhance.Contrast(Image.fromarray(row[None])).enhance(0.3))
            assert np.array_equal(out[0, 0].numpy(), expected), (width, shift)


@pytest.mark.parametrize("op", OPS)
def test_per_sample_factors_equal_per_image_results(op):
    rng = np.random.default_rng(11)
    batch = torch.from_numpy(rng.integers(0, 256, (6, 3, 13, 17), dtype=np.uint8))
    factors = [0.0, 0.5, 1.0, 2.5, 7.0, 9.9]
    out = F.ENHANCE_OPS[op](batch, factors)
    for i, factor in enumerate(factors):
        assert torch.equal(out[i], F.ENHANCE_OPS[op](batch[i], factor))
    same = F.ENHANCE_OPS[op](batch, 2.5)
    assert torch.equal(same, F.ENHANCE_OPS[op](batch, torch.full((6,), 2.5)))


@pytest.mark.parametrize("op", OPS)
def test_multithreaded_batch_equals_single_thread(op):
    rng = np.random.default_rng(12)
    batch = torch.from_numpy(rng.integers(0, 256, (9, 4, 171, 171), dtype=np.uint8))
    assert batch.numel() >= _enhance_cpu._MIN_PARALLEL_BYTES  # big enough to be split
    factors = torch.linspace(0, 6, 9)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        single = F.ENHANCE_OPS[op](batch, factors)
        torch.set_num_threads(2)
        multi = F.ENHANCE_OPS[op](batch, factors)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(single, multi)


def test_factor_one_is_identity_and_input_is_not_modified():
    rng = np.random.default_rng(4)
    hwc = random_hwc(rng, 10, 10, "RGB")
    for op in OPS:
        for kind in KINDS:
            img = as_kind(hwc, "RGB", kind)
            out = F.ENHANCE_OPS[op](img, 1.0)
            assert np.array_equal(to_hwc(out), hwc)
            assert out is not img
            assert np.array_equal(to_hwc(img), hwc)


def test_returns_the_input_kind():
    rng = np.random.default_rng(5)
    hwc = random_hwc(rng, 6, 7, "RGB")
    assert isinstance(F.color(as_kind(hwc, "RGB", "pil"), 2), Image.Image)
    out = F.color(hwc[..., 0], 2)
    assert isinstance(out, np.ndarray) and out.shape == (6, 7) and out.dtype == np.uint8
    out = F.color(torch.from_numpy(hwc).permute(2, 0, 1), 2)
    assert isinstance(out, torch.Tensor) and out.shape == (3, 6, 7)


def test_channels_last_and_sliced_tensors():
    rng = np.random.default_rng(6)
    batch = torch.from_numpy(rng.integers(0, 256, (3, 3, 12, 12), dtype=np.uint8))
    expected = F.sharpness(batch, [1.0, 2.0, 3.0])
    channels_last = batch.contiguous(memory_format=torch.channels_last)
    assert torch.equal(F.sharpness(channels_last, [1.0, 2.0, 3.0]), expected)
    assert torch.equal(F.sharpness(batch[:, :, 2:, 2:], 2.0)[1],
                       F.sharpness(batch[1, :, 2:, 2:].clone(), 2.0))


def test_empty_batch():
    empty = torch.zeros((0, 3, 5, 5), dtype=torch.uint8)
    assert F.contrast(empty, 2.0).shape == (0, 3, 5, 5)


# ---- the float path ----------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS)
def test_float_path_follows_the_uint8_path(op):
    rng = np.random.default_rng(8)
    batch = torch.from_numpy(rng.integers(0, 256, (5, 3, 16, 16), dtype=np.uint8))
    factors = torch.tensor([0.0, 0.4, 1.0, 1.6, 3.0])
    as_uint8 = F.ENHANCE_OPS[op](batch, factors).to(torch.float64)
    as_float = F.ENHANCE_OPS[op](batch.to(torch.float64) / 255, factors) * 255
    # uint8 truncates the result and rounds the gray level, mean and smoothing (half a level,
    # amplified by |1 - factor|); the float path does neither.
    tolerance = 1.0 + 0.5 * (1 - factors).abs().view(-1, 1, 1, 1) + 1e-6
    assert ((as_float - as_uint8).abs() <= tolerance).all()


def test_float_path_is_differentiable_and_stays_in_range():
    x = torch.rand(4, 3, 12, 12, dtype=torch.float64, requires_grad=True)
    y = x
    for op in OPS:
        y = F.ENHANCE_OPS[op](y, torch.tensor([0.5, 1.0, 1.5, 2.0]))
    assert y.min() >= 0 and y.max() <= 1
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    factor = torch.tensor([1.3, 0.7, 1.0, 2.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda t: F.brightness(t, factor), (x[:, :, :4, :4],))


def test_float_numpy_input():
    arr = np.random.default_rng(9).random((6, 5, 3)).astype(np.float32)
    out = F.brightness(arr, 0.5)
    assert out.dtype == np.float32 and out.shape == arr.shape
    np.testing.assert_allclose(out, arr * 0.5, rtol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("op", OPS)
def test_cuda_equals_cpu_bit_for_bit(op):
    rng = np.random.default_rng(10)
    batch = torch.from_numpy(rng.integers(0, 256, (16, 3, 33, 31), dtype=np.uint8))
    factors = torch.from_numpy(rng.uniform(0, 10, 16))
    cpu = F.ENHANCE_OPS[op](batch, factors)
    cuda = F.ENHANCE_OPS[op](batch.cuda(), factors.cuda())
    assert torch.equal(cuda.cpu(), cpu)


# ---- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("img, error, words", [
    (np.zeros((4, 4), np.int32), TypeError, ["img", "int32", "uint8"]),
    (np.zeros((4,), np.uint8), ValueError, ["img", "(4,)", "HxW"]),
    (np.zeros((4, 4, 2), np.uint8), ValueError, ["img", "2 channels", "1, 3, 4"]),
    (np.zeros((0, 4), np.uint8), ValueError, ["img", "empty"]),
    (torch.zeros((3, 4, 4), dtype=torch.bool), TypeError, ["img", "torch.bool"]),
    (torch.zeros((4, 4), dtype=torch.uint8), ValueError, ["img", "(4, 4)", "(C, H, W)"]),
    (torch.zeros((1, 1, 5, 4, 4), dtype=torch.uint8), ValueError, ["img", "(N, C, H, W)"]),
    (torch.zeros((2, 5, 4, 4), dtype=torch.uint8), ValueError, ["img", "5 channels"]),
    (Image.new("CMYK", (4, 4)), ValueError, ["img", "'CMYK'", "L, RGB, RGBA"]),
    (Image.new("I;16", (4, 4)), ValueError, ["img", "'I;16'"]),
    (Image.new("P", (4, 4)), ValueError, ["img", "'P'"]),
    ([[1, 2], [3, 4]], TypeError, ["img", "list"]),
])
def test_bad_images_get_clear_errors(img, error, words):
    with pytest.raises(error) as info:
        F.brightness(img, 1.5)
    message = str(info.value)
    assert all(word in message for word in words), message
    assert "\n" not in message


@pytest.mark.parametrize("factor, error, words", [
    (-0.5, ValueError, ["factor", "-0.5", ">= 0"]),
    (float("nan"), ValueError, ["factor", "nan"]),
    (float("inf"), ValueError, ["factor", "inf"]),
    ([1.0, 2.0], ValueError, ["factor", "2 values", "batch of 3"]),
    ("2", TypeError, ["factor", "str"]),
    (None, TypeError, ["factor", "NoneType"]),
    (torch.tensor([1.0, -1.0, 2.0]), ValueError, ["factor", "-1.0"]),
])
def test_bad_factors_get_clear_errors(factor, error, words):
    batch = torch.zeros((3, 3, 4, 4), dtype=torch.uint8)
    with pytest.raises(error) as info:
        F.contrast(batch, factor)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_vector_factor_on_a_single_image_is_refused():
    with pytest.raises(ValueError, match="factor: got 2 values for a single image"):
        F.color(np.zeros((4, 4, 3), np.uint8), [1.0, 2.0])
