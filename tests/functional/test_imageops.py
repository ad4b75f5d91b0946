"""Pillow's ImageOps look-up-table ops: bit-identical to Pillow on 1,000 random cases each,
per-sample parameters on batches, RGBA's alpha kept, torchvision's float formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from augkit import functional as F

CASES = 1000


def _random_case(rng: np.random.Generator) -> np.ndarray:
    height, width = rng.integers(1, 24, 2)
    mode = rng.choice(["L", "RGB"])
    shape = (height, width) if mode == "L" else (height, width, 3)
    image = rng.integers(0, 256, shape, dtype=np.uint8)
    if rng.random() < 0.4:  # a narrow range, where autocontrast and equalize have work to do
        low = rng.integers(0, 200)
        image = (low + image % rng.integers(1, 56)).astype(np.uint8)
    return image


def _params(rng: np.random.Generator, op: str) -> dict:
    if op == "posterize":
        return {"bits": int(rng.integers(1, 9))}
    if op == "solarize":
        return {"threshold": int(rng.integers(0, 257))}
    if op == "autocontrast":
        cutoff = 0 if rng.random() < 0.3 else (float(rng.uniform(0, 20)) if rng.random() < 0.5
                                               else (float(rng.uniform(0, 20)),
                                                     float(rng.uniform(0, 20))))
        ignore = None if rng.random() < 0.5 else [int(v) for v in rng.integers(0, 256, 2)]
        return {"cutoff": cutoff, "ignore": ignore, "preserve_tone": bool(rng.random() < 0.3)}
    return {}


PILLOW = {
    "invert": ImageOps.invert,
    "posterize": ImageOps.posterize,
    "solarize": ImageOps.solarize,
    "equalize": ImageOps.equalize,
    "autocontrast": ImageOps.autocontrast,
    "grayscale": ImageOps.grayscale,
}


@pytest.mark.parametrize("op", list(PILLOW))
def test_matches_pillow_on_1000_random_cases(op):
    rng = np.random.default_rng(list(PILLOW).index(op))
    differing = 0
    for _ in range(CASES):
        image, params = _random_case(rng), _params(rng, op)
        expected = np.asarray(PILLOW[op](Image.fromarray(image), **params))
        ours = getattr(F, op)(image, **params)
        if op == "grayscale" and image.ndim == 3:
            ours = ours[:, :, 0]
        differing += int((np.asarray(ours) != expected).sum())
    assert differing == 0


@pytest.mark.parametrize("op", ["posterize", "solarize", "equalize", "autocontrast"])
def test_a_batch_gives_each_sample_its_own_parameters_and_table(op):
    rng = np.random.default_rng(7)
    images = [(rng.integers(0, 256, (12, 16, 3)) % rng.integers(20, 256)).astype(np.uint8)
              for _ in range(6)]
    batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    values = {"posterize": {"bits": [1, 2, 3, 5, 7, 8]},
              "solarize": {"threshold": [0, 30, 90, 128, 200, 256]}}.get(op, {})
    out = getattr(F, op)(batch, **values)
    for i, image in enumerate(images):
        one = {k: v[i] for k, v in values.items()}
        expected = np.asarray(PILLOW[op](Image.fromarray(image), **one))
        assert np.array_equal(out[i].permute(1, 2, 0).numpy(), expected)


def test_posterize_to_no_bits_gives_zeros_as_torchvision_does():
    image = torch.randint(0, 256, (2, 3, 4, 5), dtype=torch.uint8)
    assert not F.posterize(image, 0).any()
    assert torch.equal(F.posterize(image, [0, 8])[1], image[1])


def test_pil_images_come_back_as_pil_and_rgba_keeps_its_alpha():
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (9, 11, 4), dtype=np.uint8)
    out = F.equalize(Image.fromarray(rgba, "RGBA"))
    assert out.mode == "RGBA"
    assert np.array_equal(np.asarray(out)[:, :, 3], rgba[:, :, 3])
    expected = np.asarray(ImageOps.equalize(Image.fromarray(rgba[:, :, :3])))
    assert np.array_equal(np.asarray(out)[:, :, :3], expected)
    gray = F.grayscale(Image.fromarray(rgba[:, :, :3]))
    assert gray.mode == "L"
    assert F.grayscale(torch.from_numpy(rgba[:, :, :3]).permute(2, 0, 1),
                       num_output_channels=3).shape == (3, 9, 11)


def test_floats_follow_torchvision_formulas():
    x = torch.rand(2, 3, 5, 6) * 0.5 + 0.2
    assert torch.allclose(F.invert(x), 1 - x)
    assert torch.allclose(F.solarize(x, 0.5), torch.where(x >= 0.5, 1 - x, x))
    stretched = F.autocontrast(x)
    assert torch.allclose(stretched.amin(dim=(-2, -1)), torch.zeros(2, 3), atol=1e-6)
    assert torch.allclose(stretched.amax(dim=(-2, -1)), torch.ones(2, 3), atol=1e-6)
    gray = F.grayscale(x)
    assert torch.allclose(gray[:, 0], 0.2989 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2])


@pytest.mark.parametrize("call, words", [
    (lambda x: F.posterize(x, -1), ["bits", "-1"]),
    (lambda x: F.posterize(x, 2.5), ["bits", "whole numbers"]),
    (lambda x: F.posterize(x.float() / 255, 2), ["posterize", "uint8"]),
    (lambda x: F.equalize(x.float() / 255), ["equalize", "uint8"]),
    (lambda x: F.autocontrast(x, cutoff=60), ["cutoff", "[0, 50)"]),
    (lambda x: F.autocontrast(x, ignore=300), ["ignore", "300"]),
    (lambda x: F.grayscale(x, 2), ["num_output_channels", "1 or 3"]),
    (lambda x: F.invert(torch.zeros(2, 5, 4, 4, dtype=torch.uint8)), ["5 channels", "invert"]),
])
def test_bad_arguments_are_one_line(call, words):
    x = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    with pytest.raises((ValueError, TypeError)) as info:
        call(x)
    assert all(word in str(info.value) for word in words), str(info.value)


def test_computed_invert_posterize_solarize_equal_their_tables():
    """The three ops whose tables are arithmetic compute their values (planar and
    interleaved, RGBA's alpha kept, a setting per sample); the tables are the reference."""
    from augkit.functional import _lut_cpu

    rng = np.random.default_rng(11)
    bits, thresholds = np.array([0, 3, 8]), np.array([0.0, 100.5, 256.0])
    for channels in (1, 3, 4):
        planar = rng.integers(0, 256, (3, channels, 9, 7), dtype=np.uint8)
        tables = {
            "invert": np.tile(255 - np.arange(256), (3, 1)),
            "posterize": np.arange(256)[None] & ~(2 ** (8 - bits[:, None]) - 1),
            "solarize": np.where(np.arange(256)[None] < thresholds[:, None], np.arange(256),
                                 255 - np.arange(256))}
        calls = {"invert": F.invert, "posterize": lambda x: F.posterize(x, bits.tolist()),
                 "solarize": lambda x: F.solarize(x, thresholds.tolist())}
        colour = min(channels, 3)
        for name, table in tables.items():
            expected = planar.copy()
            expected[:, :colour] = _lut_cpu.look_up(
                planar[:, :colour], np.repeat(table[:, None], colour, 1))
            got = calls[name](torch.from_numpy(planar)).numpy()
            assert np.array_equal(got, expected), (name, channels)
            for i in range(3):  # interleaved single images, through the same kernels
                one = {"invert": F.invert, "posterize": lambda x, i=i: F.posterize(x, bits[i]),
                       "solarize": lambda x, i=i: F.solarize(x, thresholds[i])}[name]
                image = planar[i].transpose(1, 2, 0).copy()
                assert np.array_equal(np.asarray(one(image)).reshape(image.shape),
                                      expected[i].transpose(1, 2, 0)), (name, channels, i)
