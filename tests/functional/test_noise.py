"""Noise statistics, Pillow-exact Gaussian blur and torchvision's kernel-size blur."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

import augkit.functional as F
from augkit.data import load_photos
from augkit.errors import AugkitError
from tests.helpers import KINDS, MODES, as_kind, random_hwc, to_hwc


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0, 1.7, 2.0, 3.5, 6.0])
def test_blur_is_bit_identical_to_pillow(sigma):
    rng = np.random.default_rng(int(sigma * 10))
    cases = [(np.asarray(p), "RGB") for p in load_photos()]
    cases += [(random_hwc(rng, int(h), int(w), mode), mode)
              for h, w, mode in [(1, 1, "L"), (3, 9, "RGB"), (40, 31, "RGBA"), (17, 64, "L")]]
    for hwc, mode in cases:
        hwc = hwc if hwc.ndim == 3 else hwc[..., None]
        expected = to_hwc(as_kind(hwc, mode, "pil").filter(ImageFilter.GaussianBlur(sigma)))
        for kind in KINDS:
            out = to_hwc(F.gaussian_blur(as_kind(hwc, mode, kind), sigma))
            assert np.array_equal(out, expected), (sigma, mode, kind, hwc.shape)


def test_blur_per_sample_sigma_and_zero():
    batch = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (3, 3, 12, 12),
                                                               dtype=np.uint8))
    out = F.gaussian_blur(batch, [0.0, 1.0, 2.5])
    assert torch.equal(out[0], batch[0])
    assert torch.equal(out[1], F.gaussian_blur(batch[1], 1.0))
    assert torch.equal(out[2], F.gaussian_blur(batch[2], 2.5))


def test_the_device_blur_runs_every_sigma_at_once_as_pillow():
    """The batched kernel a GPU runs (here on the CPU): each sample its own sigma and
    radius, none for sigma 0, L, RGB and RGBA against Pillow."""
    from augkit.functional.noise import _batched_pillow_blur

    rng = np.random.default_rng(6)
    sigmas = [0.0, 0.4, 1.7, 5.5]
    for mode in MODES:
        images = rng.integers(0, 256, (4, 23, 17, len(mode)), dtype=np.uint8)
        out = _batched_pillow_blur(torch.from_numpy(images).permute(0, 3, 1, 2), sigmas)
        for i, sigma in enumerate(sigmas):
            pil = Image.fromarray(images[i, ..., 0] if mode == "L" else images[i], mode)
            expected = np.asarray(pil.filter(ImageFilter.GaussianBlur(sigma)) if sigma else pil)
            assert np.array_equal(out[i].permute(1, 2, 0).numpy(),
                                  expected.reshape(23, 17, -1)), (mode, sigma)


def test_blur_float_path_follows_uint8_and_is_differentiable():
    batch = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (2, 3, 16, 16),
                                                               dtype=np.uint8))
    as_float = F.gaussian_blur(batch.double() / 255, 1.5) * 255
    # Pillow rounds after each of its six passes; the float path does not
    assert (as_float - F.gaussian_blur(batch, 1.5).double()).abs().max() <= 3
    x = (batch.double() / 255).requires_grad_()
    F.gaussian_blur(x, 1.0).sum().backward()
    assert torch.allclose(x.grad, torch.ones_like(x), atol=1e-9)  # the filter keeps the sum


def test_noise_statistics_and_determinism():
    flat = torch.full((4, 1, 128, 128), 128, dtype=torch.uint8)
    out = F.gaussian_noise(flat, std=[0.02, 0.05, 0.1, 0.0], seed=[1, 2, 3, 4]).double()
    for i, std in enumerate([0.02, 0.05, 0.1]):
        assert abs(out[i].mean().item() - 128) < 0.5
        assert abs(out[i].std().item() / (255 * std) - 1) < 0.05
    assert torch.equal(out[3], flat[3].double())
    again = F.gaussian_noise(flat, std=[0.02, 0.05, 0.1, 0.0], seed=[1, 2, 3, 4]).double()
    assert torch.equal(out, again)
    other = F.gaussian_noise(flat, std=0.05, seed=9).double()
    assert not torch.equal(other[1], out[1])
    floats = F.gaussian_noise(torch.full((1, 1, 200, 200), 0.5), std=0.1, seed=0, mean=0.05)
    assert abs(floats.mean().item() - 0.55) < 0.01 and abs(floats.std().item() - 0.1) < 0.01


def test_noise_on_every_kind_keeps_the_kind():
    rng = np.random.default_rng(2)
    for mode in MODES:
        image = random_hwc(rng, 8, 8, mode)
        for kind in KINDS:
            img = as_kind(image, mode, kind)
            out = F.gaussian_noise(img, 0.1, seed=5)
            assert type(out) is type(img)
    pil = F.gaussian_noise(Image.new("L", (4, 4), 100), 0.0, seed=1)
    assert np.array_equal(np.asarray(pil), np.full((4, 4), 100))


@pytest.mark.parametrize("call, words", [
    (lambda x: F.gaussian_noise(x, -0.1, seed=0), ["std", "-0.1"]),
    (lambda x: F.gaussian_noise(x, 0.1, seed=-1), ["seed", "-1"]),
    (lambda x: F.gaussian_noise(x, 0.1, seed=1.5), ["seed", "1.5"]),
    (lambda x: F.gaussian_blur(x, -1.0), ["sigma", "-1.0"]),
    (lambda x: F.gaussian_blur(x, [1.0, 2.0]), ["sigma", "2 values"]),
])
def test_bad_arguments_are_named(call, words):
    with pytest.raises(ValueError) as info:
        call(torch.zeros((3, 3, 4, 4), dtype=torch.uint8))
    assert all(word in str(info.value) for word in words), str(info.value)


# ---- kernel_size: torchvision's truncated Gaussian ---------------------------------------


def _reference_blur(chw: np.ndarray, sigma: float, kx: int, ky: int) -> np.ndarray:
    """A direct float64 2-D correlation with the outer product of the 1-D kernels, reflect
    padding by numpy."""
    def kernel(k: int) -> np.ndarray:
        x = np.linspace(-(k - 1) / 2, (k - 1) / 2, k)
        w = np.exp(-0.5 * (x / sigma) ** 2)
        return w / w.sum()

    k2 = np.outer(kernel(ky), kernel(kx))
    h, w = chw.shape[1:]
    padded = np.pad(chw.astype(np.float64), ((0, 0), (ky // 2,) * 2, (kx // 2,) * 2),
                    mode="reflect")
    out = np.zeros(chw.shape)
    for i in range(ky):
        for j in range(kx):
            out += k2[i, j] * padded[:, i:i + h, j:j + w]
    return out


def _assert_rounds_like(out: np.ndarray, reference: np.ndarray) -> None:
    """uint8 ``out`` equals ``np.rint(reference)`` except within float32 error of a tie."""
    near_tie = np.abs(reference - np.floor(reference) - 0.5) < 2e-4
    assert np.array_equal(out[~near_tie], np.rint(reference[~near_tie]))
    assert np.all(np.abs(out[near_tie] - reference[near_tie]) <= 0.5 + 2e-4)
    assert near_tie.mean() < 0.01  # ties are rare: flat areas of coarse levels


SIZES = [1, 3, 5, 9, (7, 3), (3, 11)]


@pytest.mark.parametrize("kernel_size", SIZES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_kernel_size_blur_matches_a_numpy_reference_on_floats(kernel_size, dtype):
    rng = np.random.default_rng(3)
    batch = torch.from_numpy(rng.random((3, 3, 21, 26))).to(dtype)
    sigmas = [0.4, 1.3, 3.0]
    out = F.gaussian_blur(batch, sigmas, kernel_size)
    assert out.dtype == dtype and out.shape == batch.shape
    kx, ky = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    for i, sigma in enumerate(sigmas):
        expected = _reference_blur(batch[i].double().numpy(), sigma, kx, ky)
        assert np.allclose(out[i].double().numpy(), expected, atol=1e-5, rtol=0), (i, sigma)


@pytest.mark.parametrize("kernel_size", SIZES)
def test_kernel_size_blur_on_uint8_rounds_the_reference(kernel_size):
    rng = np.random.default_rng(4)
    kx, ky = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    for mode in MODES:
        hwc = random_hwc(rng, 17, 23, mode)
        sigma = float(rng.uniform(0.2, 3.0))
        expected = _reference_blur(hwc.transpose(2, 0, 1), sigma, kx, ky).transpose(1, 2, 0)
        for kind in KINDS:
            img = as_kind(hwc, mode, kind)
            out = F.gaussian_blur(img, sigma, kernel_size)
            assert type(out) is type(img)
            _assert_rounds_like(to_hwc(out), expected)


def test_kernel_size_blur_per_sample_sigma_equals_single_calls():
    rng = np.random.default_rng(5)
    batch = torch.from_numpy(rng.integers(0, 256, (4, 3, 15, 18), dtype=np.uint8))
    sigmas = [0.0, 0.7, 1.9, 4.0]
    out = F.gaussian_blur(batch, sigmas, (5, 7))
    assert torch.equal(out[0], batch[0])  # sigma 0: unchanged
    for i, sigma in enumerate(sigmas):
        assert torch.equal(out[i], F.gaussian_blur(batch[i], sigma, (5, 7)))
    floats = batch.double() / 255
    out = F.gaussian_blur(floats, sigmas, 5)
    for i, sigma in enumerate(sigmas):
        assert torch.equal(out[i], F.gaussian_blur(floats[i], sigma, 5))
    assert torch.equal(F.gaussian_blur(batch, 2.0, 1), batch)  # a 1x1 kernel changes nothing


def test_the_compiled_kernel_size_blur_gives_the_torch_ops_bytes():
    """uint8 and float32 on the CPU run a compiled copy of the torch ops (what runs
    elsewhere): the same values, sigma 0 included, kernels up to the reflect limit."""
    from augkit.functional.noise import _truncated_blur_ops, truncated_blur

    rng = np.random.default_rng(6)
    for (n, c, h, w), size in [((3, 3, 17, 23), (9, 5)), ((2, 1, 6, 9), (11, 11)),
                               ((2, 4, 12, 3), (5, 23)), ((1, 3, 1, 7), (13, 1))]:
        images = torch.from_numpy(rng.integers(0, 256, (n, c, h, w), dtype=np.uint8))
        sigmas = torch.from_numpy(rng.uniform(0.3, 4.0, n))
        sigmas[0] = 0.0
        for batch in (images, images.float() / 255, images.permute(0, 2, 3, 1)
                      .contiguous().permute(0, 3, 1, 2)):  # strided, as from numpy HWC
            assert torch.equal(truncated_blur(batch, sigmas, size),
                               _truncated_blur_ops(batch, sigmas, size))


def test_kernel_size_none_is_still_pillows_blur_and_floats_are_differentiable():
    batch = torch.from_numpy(np.random.default_rng(6).integers(0, 256, (2, 3, 12, 12),
                                                               dtype=np.uint8))
    assert torch.equal(F.gaussian_blur(batch, 1.2, kernel_size=None), F.gaussian_blur(batch, 1.2))
    assert not torch.equal(F.gaussian_blur(batch, 1.2, 5), F.gaussian_blur(batch, 1.2))
    x = (batch[:1, :1, :6, :6].double() / 255).requires_grad_()
    assert torch.autograd.gradcheck(lambda v: F.gaussian_blur(v, 0.9, (3, 5)), (x,))


@pytest.mark.parametrize("kernel_size", [2, 0, -3, 3.0, (3, 4), (3,), (3, 3, 3), "5", True,
                                         (5, 1.0)])
def test_bad_kernel_sizes_are_named(kernel_size):
    with pytest.raises(AugkitError) as info:
        F.gaussian_blur(torch.zeros((1, 3, 8, 8), dtype=torch.uint8), 1.0, kernel_size)
    message = str(info.value)
    assert message.startswith("kernel_size:") and "odd" in message and "\n" not in message


def test_kernel_too_large_for_reflect_padding_is_named():
    with pytest.raises(AugkitError, match=r"kernel_size: \(9, 3\) is too large for a 5x4"):
        F.gaussian_blur(np.zeros((5, 4), np.uint8), 1.0, (9, 3))
    assert F.gaussian_blur(np.zeros((1, 1), np.uint8), 1.0, 1).shape == (1, 1)
    assert F.gaussian_blur(np.zeros((2, 2), np.uint8), 1.0, 3).shape == (2, 2)
