"""adjust_hue and ColorJitter against torchvision's PIL path, which is Pillow's HSV and
ImageEnhance (reproduced here with Pillow alone)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageEnhance

from augkit import functional as F
from augkit.functional.hue import hsv_to_rgb, rgb_to_hsv
from augkit.transforms import ColorJitter


def _pil_hue(image: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's ``adjust_hue`` on a PIL image."""
    h, s, v = Image.fromarray(image).convert("HSV").split()
    hue = np.array(h, dtype=np.uint8)
    hue += np.int32(factor * 255).astype(np.uint8)  # wraps around
    return np.asarray(Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert("RGB"))


def test_pillows_hsv_conversions_on_a_million_colours():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    assert np.array_equal(rgb_to_hsv(values), np.asarray(Image.fromarray(values).convert("HSV")))
    assert np.array_equal(hsv_to_rgb(values),
                          np.asarray(Image.fromarray(values, "HSV").convert("RGB")))


def test_adjust_hue_matches_torchvisions_pil_path_on_1000_random_cases():
    rng = np.random.default_rng(1)
    differing = 0
    for _ in range(1000):
        height, width = (int(v) for v in rng.integers(1, 20, 2))
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        factor = float(rng.uniform(-0.5, 0.5))
        differing += int((F.adjust_hue(image, factor) != _pil_hue(image, factor)).sum())
    assert differing == 0


def test_the_tensor_kernel_for_other_devices_is_pillows_hue_turn():
    """The kernel a GPU runs, here on the CPU: per-sample shifts, RGBA's alpha kept."""
    from augkit.functional.hue import _hue_float

    rng = np.random.default_rng(4)
    images = rng.integers(0, 256, (4, 150, 150, 4), dtype=np.uint8)
    images[0, :40, :, :3] = images[0, :40, :, :1]  # grey pixels too
    factors = np.array([-0.5, -0.13, 0.21, 0.5])
    out = _hue_float(torch.from_numpy(images).permute(0, 3, 1, 2), torch.from_numpy(factors))
    out = out.permute(0, 2, 3, 1).numpy()
    for i, factor in enumerate(factors):
        assert np.array_equal(out[i, ..., :3], _pil_hue(images[i, ..., :3], factor)), i
    assert np.array_equal(out[..., 3], images[..., 3])


def test_color_jitter_is_the_pil_chain_in_each_samples_order():
    rng = np.random.default_rng(2)
    batch = torch.from_numpy(rng.integers(0, 256, (12, 3, 9, 11), dtype=np.uint8))
    jitter = ColorJitter(0.5, 0.5, 0.5, 0.2, seed=3)
    out = jitter(batch)
    factors, orders = jitter.last_params["factors"], jitter.last_params["order"]
    for i in range(12):
        image = batch[i].permute(1, 2, 0).numpy()
        for op in orders[i].tolist():
            f = float(factors[i, op])
            if op == 3:
                image = _pil_hue(image, f)
            else:
                enhancer = (ImageEnhance.Brightness, ImageEnhance.Contrast,
                            ImageEnhance.Color)[op]
                image = np.asarray(enhancer(Image.fromarray(image)).enhance(f))
        assert np.array_equal(out[i].permute(1, 2, 0).numpy(), image), i
    assert len({tuple(o) for o in orders.tolist()}) > 1


def test_float_hue_turns_and_grayscale_stays():
    x = torch.rand(2, 3, 5, 5)
    assert torch.allclose(F.adjust_hue(F.adjust_hue(x, 0.25), -0.25), x, atol=1e-5)
    gray = torch.randint(0, 256, (1, 6, 6), dtype=torch.uint8)
    assert torch.equal(F.adjust_hue(gray, 0.3), gray)


def test_bad_jitter_arguments_are_one_line():
    import pytest

    from augkit.errors import AugkitError
    from augkit.transforms import RandomPosterize, RandomSolarize

    for call, words in ((lambda: ColorJitter(hue=-0.1), ["hue", ">= 0"]),
                        (lambda: ColorJitter(hue=0.7), ["hue", "0.5"]),
                        (lambda: F.adjust_hue(np.zeros((2, 2, 3), np.uint8), 0.9),
                         ["hue_factor", "0.9"]),
                        (lambda: RandomPosterize(9), ["bits", "9"]),
                        (lambda: RandomSolarize(300), ["threshold", "300"])):
        with pytest.raises(AugkitError) as info:
            call()
        assert all(word in str(info.value) for word in words), str(info.value)


def test_the_compiled_hue_turn_equals_the_reference_conversions():
    from augkit.functional._hue_cpu import turn_hue_planes
    from augkit.functional.hue import turn_hue_reference

    rng = np.random.default_rng(4)
    colours = rng.integers(0, 256, (4, 300, 300, 3), dtype=np.uint8)
    colours[0, :16, :16] = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)  # grays
    shifts = np.array([0, 25, 128, 231], dtype=np.uint8)
    turned = turn_hue_planes(colours.transpose(0, 3, 1, 2), shifts).transpose(0, 2, 3, 1)
    assert np.array_equal(turned, turn_hue_reference(colours, shifts))
