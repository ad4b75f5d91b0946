"""Geometric kernels are exact where exactness is defined."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import augkit.functional as F
from tests.helpers import KINDS, as_kind, random_hwc, to_hwc

INTERPOLATIONS = ("nearest", "bilinear")


def _batch(n=3, channels=3, size=15, dtype=torch.uint8, seed=0):
    rng = np.random.default_rng(seed)
    batch = torch.from_numpy(rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8))
    return batch if dtype == torch.uint8 else batch.to(dtype) / 255


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.float64])
def test_identity_parameters_return_the_input(interpolation, dtype):
    x = _batch(dtype=dtype)
    assert torch.equal(F.affine(x, interpolation=interpolation), x)
    assert torch.equal(F.affine(x, angle=360, scale=1.0, interpolation=interpolation), x)
    assert torch.equal(F.resize(x, (15, 15), interpolation), x)
    assert torch.equal(F.resized_crop(x, 0, 0, 15, 15, 15, interpolation), x)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("turns", [1, 2, 3, -1])
def test_quarter_turns_equal_rot90(interpolation, turns):
    for dtype in (torch.uint8, torch.float64):
        x = _batch(dtype=dtype, size=16)
        out = F.affine(x, angle=90 * turns, interpolation=interpolation)
        assert torch.equal(out, torch.rot90(x, turns, dims=(2, 3)))


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("tx, ty", [(3, -2), (-5, 4), (0, 7), (20, 0)])
def test_integer_translations_equal_a_shifted_copy_with_fill(interpolation, tx, ty):
    x = _batch(size=13)
    out = F.affine(x, translate=(tx, ty), interpolation=interpolation, fill=(10, 20, 30))
    expected = torch.tensor([10, 20, 30], dtype=torch.uint8).view(1, 3, 1, 1).repeat(3, 1, 13, 13)
    for y in range(13):
        for x_ in range(13):
            if 0 <= y - ty < 13 and 0 <= x_ - tx < 13:
                expected[:, :, y, x_] = x[:, :, y - ty, x_ - tx]
    assert torch.equal(out, expected)


def test_per_sample_parameters_equal_single_calls():
    x = _batch(n=4)
    angles, scales = [0.0, 15.0, -30.0, 90.0], [1.0, 0.8, 1.2, 1.0]
    translate = [[0, 0], [1.5, -2.0], [3, 3], [0, 1]]
    shear = [[0, 0], [5, 0], [0, -5], [10, 10]]
    out = F.affine(x, angles, translate, scales, shear, "bilinear")
    for i in range(4):
        assert torch.equal(out[i], F.affine(x[i], angles[i], translate[i], scales[i], shear[i],
                                            "bilinear"))


def test_flips_are_exact_on_every_kind():
    hwc = random_hwc(np.random.default_rng(1), 5, 7, "RGB")
    for kind in KINDS:
        img = as_kind(hwc, "RGB", kind)
        assert np.array_equal(to_hwc(F.hflip(img)), hwc[:, ::-1])
        assert np.array_equal(to_hwc(F.vflip(img)), hwc[::-1])
    batch = _batch()
    assert torch.equal(F.hflip(F.hflip(batch)), batch)


def test_erasing_touches_exactly_its_rectangle():
    x = _batch(n=2, size=10)
    out = F.erase(x, top=[1, 4], left=[2, 0], height=[3, 6], width=[4, 10], value=(7, 8, 9))
    changed = (out != x).any(dim=1)
    for i, (top, left, h, w) in enumerate([(1, 2, 3, 4), (4, 0, 6, 10)]):
        inside = torch.zeros(10, 10, dtype=torch.bool)
        inside[top:top + h, left:left + w] = True
        assert torch.equal(out[i][:, ~inside], x[i][:, ~inside])
        assert (out[i][:, inside] == torch.tensor([7, 8, 9], dtype=torch.uint8).view(3, 1)).all()
        assert not changed[i][~inside].any()


def test_resized_crop_output_size_and_content():
    x = torch.arange(64, dtype=torch.uint8).view(1, 1, 8, 8)
    crop = F.resized_crop(x, 2, 3, 4, 4, 4, "nearest")
    assert torch.equal(crop, x[:, :, 2:6, 3:7])
    assert F.resized_crop(x, 0, 0, 8, 8, (3, 5)).shape == (1, 1, 3, 5)
    pil = F.resize(Image.new("RGB", (30, 20)), (10, 12))
    assert pil.size == (12, 10) and pil.mode == "RGB"
    assert F.resize(np.zeros((20, 30), np.uint8), 8).shape == (8, 8)


def test_rotation_direction_is_counter_clockwise():
    x = torch.zeros(1, 1, 5, 5, dtype=torch.uint8)
    x[0, 0, 2, 4] = 255  # right of the centre
    out = F.affine(x, angle=90)
    assert out[0, 0, 0, 2] == 255  # now above it


def test_float_path_is_differentiable():
    x = _batch(dtype=torch.float64).requires_grad_()
    out = F.affine(x, angle=17, translate=(0.5, -1.2), scale=1.1, interpolation="bilinear")
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


@pytest.mark.parametrize("call, words", [
    (lambda x: F.affine(x, interpolation="cubic"), ["interpolation", "'cubic'"]),
    (lambda x: F.affine(x, scale=0), ["scale", "0.0"]),
    (lambda x: F.affine(x, angle=float("nan")), ["angle", "nan"]),
    (lambda x: F.affine(x, translate=(1, 2, 3)), ["translate", "3 values"]),
    (lambda x: F.affine(x, angle=[1, 2]), ["angle", "2 values", "batch of 3"]),
    (lambda x: F.affine(x, fill=300), ["fill", "300"]),
    (lambda x: F.resized_crop(x, 0, 0, 4, 4, size=0), ["size", "0"]),
    (lambda x: F.erase(x, 0.5, 0, 2, 2), ["whole numbers"]),
    (lambda x: F.hflip(x.view(-1)), ["img", "(C, H, W)"]),
])
def test_bad_arguments_are_named(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call(_batch())
    assert all(word in str(info.value) for word in words), str(info.value)


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_compiled_cpu_sampler_equals_the_torch_sampler(interpolation):
    """The uint8 CPU path (numba) and the tensor path (used on CUDA) agree bit for bit."""
    from augkit.functional.geometry import affine_matrices, warp

    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.integers(0, 256, (6, 3, 23, 31), dtype=np.uint8))
    angle = rng.uniform(-40, 40, 6)
    translate = rng.uniform(-4, 4, (6, 2))
    scale = rng.uniform(0.7, 1.4, 6)
    shear = rng.uniform(-10, 10, (6, 2))
    fill = (10.5, 200, 30)
    out = F.affine(x, angle, translate, scale, shear, interpolation, fill)
    inverse = np.linalg.inv(affine_matrices((23, 31), angle, translate, scale, shear))[:, :2]
    assert torch.equal(out, warp(x, torch.from_numpy(inverse), (23, 31), interpolation, fill))
    hwc = x[0].permute(1, 2, 0).numpy().copy()
    single = F.affine(hwc, angle[0], translate[0], scale[0], shear[0], interpolation, fill)
    assert np.array_equal(single, out[0].permute(1, 2, 0).numpy())

    top, left = rng.uniform(-2, 5, 6), rng.uniform(-2, 5, 6)
    height, width = rng.uniform(5, 20, 6), rng.uniform(5, 25, 6)
    crops = F.resized_crop(x, top, left, height, width, (17, 13), interpolation)
    inverse = np.zeros((6, 2, 3))
    inverse[:, 0, 0], inverse[:, 1, 1] = width / 13, height / 17
    inverse[:, 0, 2] = left + 0.5 * width / 13 - 0.5
    inverse[:, 1, 2] = top + 0.5 * height / 17 - 0.5
    expected = warp(x, torch.from_numpy(inverse), (17, 13), interpolation, border="edge")
    assert torch.equal(crops, expected)
