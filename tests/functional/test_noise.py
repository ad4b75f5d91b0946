"""Noise statistics and Pillow-exact Gaussian blur."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageFilter

import augkit.functional as F
from augkit.data import load_photos
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
