"""rotate equals Pillow's Image.rotate on random cases (angles, centres, fills, quarter
turns; NEAREST, BILINEAR, BICUBIC; L, RGB, RGBA), per sample on batches."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from augkit import functional as F

FILTERS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
           "bicubic": Image.Resampling.BICUBIC}


def test_matches_pillow_on_1000_random_cases():
    rng = np.random.default_rng(0)
    differing = 0
    for i in range(1000):
        height, width = (int(v) for v in rng.integers(1, 30, 2))
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        angle = float(rng.choice([0, 90, 180, 270, -90])) if i % 5 == 0 \
            else float(rng.uniform(-400, 400))
        center = None if rng.random() < 0.6 else (float(rng.uniform(0, width)),
                                                 float(rng.uniform(0, height)))
        fill = (0, 0, 0) if rng.random() < 0.5 else tuple(int(v) for v in rng.integers(0, 256, 3))
        expected = Image.fromarray(image).rotate(angle, center=center, fillcolor=fill)
        differing += int((F.rotate(image, angle, center=center, fill=list(fill))
                          != np.asarray(expected)).sum())
    assert differing == 0


def test_smooth_filters_match_pillow_in_every_mode():
    rng = np.random.default_rng(3)
    differing = 0
    for i in range(240):
        height, width = (int(v) for v in rng.integers(1, 24, 2))
        channels = (1, 3, 4)[i % 3]
        image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
        image = image[:, :, 0] if channels == 1 else image
        name = ("bilinear", "bicubic")[i % 2]
        angle = float(rng.choice([90, -90, 180])) if i % 7 == 0 else float(rng.uniform(-360, 360))
        fill = int(rng.integers(0, 256))
        fillcolor = fill if channels == 1 else (fill,) * channels
        expected = Image.fromarray(image).rotate(angle, FILTERS[name], fillcolor=fillcolor)
        differing += int((F.rotate(image, angle, name, fill=fill) != np.asarray(expected)).sum())
    assert differing == 0


def test_smooth_filters_match_pillow_on_images_smaller_than_their_windows():
    """Every window past an edge (BICUBIC's 4x4, BILINEAR's 2x2 and its 8-byte pair reads
    near the image's last bytes) on images from 1x1 up."""
    rng = np.random.default_rng(9)
    for height, width in ((1, 1), (1, 7), (7, 1), (2, 3), (3, 2), (2, 9), (4, 4)):
        for mode in ("L", "RGB", "RGBA"):
            image = rng.integers(0, 256, (height, width, len(mode)), dtype=np.uint8)
            image = image[:, :, 0] if mode == "L" else image
            for name in ("bilinear", "bicubic"):
                for angle in (30.0, 200.0, 0.5):
                    expected = Image.fromarray(image, mode).rotate(angle, FILTERS[name],
                                                                   expand=True)
                    ours = F.rotate(image, angle, name, expand=True)
                    assert np.array_equal(ours, np.asarray(expected)), (height, width, mode,
                                                                        name, angle)


def test_bicubic_equals_pillow_below_and_above_the_float_copys_cap():
    rng = np.random.default_rng(5)
    for size in (64, 1200):  # 1200 x 1200 x 3 values are past the sampler's float64 copy
        image = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        expected = Image.fromarray(image).rotate(23.5, FILTERS["bicubic"])
        assert np.array_equal(F.rotate(image, 23.5, "bicubic"), np.asarray(expected)), size


def test_a_batch_rotates_each_sample_by_its_own_angle():
    rng = np.random.default_rng(1)
    batch = torch.from_numpy(rng.integers(0, 256, (5, 1, 13, 17), dtype=np.uint8))
    angles = [3.0, -45.0, 90.0, 181.5, 300.0]
    out = F.rotate(batch, angles)
    for i, angle in enumerate(angles):
        expected = np.asarray(Image.fromarray(batch[i, 0].numpy()).rotate(angle))
        assert np.array_equal(out[i, 0].numpy(), expected)


def test_expand_is_pillows_canvas_and_quarter_turns_transpose():
    from augkit.errors import AugkitError
    from augkit.transforms.catalogue import measure

    assert measure("Image.rotate(expand=True)", 60, seed=2).startswith("exact")
    batch = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (2, 3, 5, 8),
                                                               dtype=np.uint8))
    turned = F.rotate(batch, [90, 270], expand=True)
    assert turned.shape == (2, 3, 8, 5)
    assert torch.equal(turned[0], torch.rot90(batch[0], 1, dims=(-2, -1)))
    assert F.rotate(batch, [30, -30], "bilinear", expand=True).shape[-2:] == (9, 10)  # Pillow's
    with pytest.raises(AugkitError, match="^expand: quarter and half turns"):
        F.rotate(batch, [90, 180], expand=True)
    with pytest.raises(AugkitError, match="^expand: the angles"):
        F.rotate(batch, [10, 40], expand=True)
    with pytest.raises(AugkitError, match="^expand: 'yes' is not allowed"):
        F.rotate(batch, 10, expand="yes")
