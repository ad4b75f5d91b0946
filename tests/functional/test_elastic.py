"""Elastic distortion against torchvision's formula written with torch's own ops (a 2-D
Gaussian ``conv2d`` for the field, ``grid_sample`` with its mask trick for the image), and
its targets: masks with the image, boxes and keypoints along the field."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from augkit import functional as F
from augkit.errors import AugkitError
from augkit.transforms import ElasticTransform


def _torchvision_field(seed: int, size: tuple[int, int], alpha, sigma) -> torch.Tensor:
    height, width = size
    generator = torch.Generator().manual_seed(seed)
    parts = []
    for axis, scale in enumerate((alpha[0] / height, alpha[1] / width)):
        noise = torch.rand(1, 1, height, width, generator=generator) * 2 - 1
        k = int(8 * sigma[axis] + 1)
        k += k % 2 == 0
        half = (k - 1) / 2
        x = torch.linspace(-half, half, k)
        kx, ky = (torch.exp(-0.5 * (x / s) ** 2) for s in sigma)
        kernel = torch.outer(ky / ky.sum(), kx / kx.sum())
        padded = torch.nn.functional.pad(noise, (k // 2,) * 4, mode="reflect")
        parts.append(torch.nn.functional.conv2d(padded, kernel[None, None])[0, 0] * scale)
    return torch.stack(parts, -1)[None]


def _torchvision_elastic(images: torch.Tensor, field: torch.Tensor, mode: str, fill: float
                         ) -> torch.Tensor:
    n, _, height, width = images.shape
    xs = torch.linspace((1 - width) / width, (width - 1) / width, width, dtype=torch.float64)
    ys = torch.linspace((1 - height) / height, (height - 1) / height, height,
                        dtype=torch.float64)
    grid = torch.stack(torch.broadcast_tensors(xs[None, :], ys[:, None]), -1)[None]
    grid = (grid + field.double()).expand(n, -1, -1, -1)
    with_mask = torch.cat([images.double(), torch.ones_like(images[:, :1]).double()], 1)
    out = torch.nn.functional.grid_sample(with_mask, grid, mode, "zeros", align_corners=False)
    mask, values = out[:, -1:], out[:, :-1]
    if mode == "nearest":
        return torch.where(mask < 0.5, torch.full_like(values, fill), values), mask, values
    return values * mask + (1 - mask) * fill, mask, values


def test_the_field_is_torchvisions():
    for seed, size, alpha, sigma in [(0, (40, 52), (50.0, 50.0), (5.0, 5.0)),
                                     (3, (30, 24), (20.0, 80.0), (2.0, 3.5))]:
        ours = F.elastic_displacement([seed], size, alpha, sigma)
        expected = _torchvision_field(seed, size, alpha, sigma)
        torch.testing.assert_close(ours, expected.float(), atol=2e-6, rtol=0)


def test_a_batch_of_fields_is_each_field_alone():
    seeds, size, alpha, sigma = [4, 9, 1], (30, 24), (20.0, 80.0), (2.0, 3.5)
    batch = F.elastic_displacement(seeds, size, alpha, sigma)
    for i, seed in enumerate(seeds):
        assert torch.equal(batch[i], F.elastic_displacement([seed], size, alpha, sigma)[0])
    assert F.elastic_displacement([], size, alpha, sigma).shape == (0, *size, 2)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_sampling_is_grid_sample_with_torchvisions_fill(mode):
    images = torch.rand(2, 3, 20, 26, dtype=torch.float64)
    field = F.elastic_displacement([1, 2], (20, 26), (80.0, 80.0), (2.0, 2.0))
    ours = F.elastic(images, field, mode, fill=0.3)
    expected, covered, raw = _torchvision_elastic(images, field, mode, 0.3)
    inside = covered == 1  # every neighbour on the image
    assert inside.double().mean() > 0.5
    torch.testing.assert_close(ours[inside.expand_as(ours)], expected[inside.expand_as(ours)],
                               atol=1e-9, rtol=0)
    if mode == "nearest":
        torch.testing.assert_close(ours, expected, atol=1e-9, rtol=0)
    else:  # at the border, neighbours beyond the image count as fill (see the docstring)
        assert ((covered > 0) & (covered < 1)).any()
        torch.testing.assert_close(ours, raw + (1 - covered) * 0.3, atol=1e-9, rtol=0)


def test_uint8_is_the_rounded_float_result_and_every_kind_agrees():
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (18, 22, 3), dtype=np.uint8)
    field = F.elastic_displacement([5], (18, 22), (60.0, 60.0), (2.0, 2.0))
    ours = F.elastic(hwc, field)
    floats = F.elastic(torch.from_numpy(hwc).permute(2, 0, 1).double()[None], field)
    expected = floats[0].permute(1, 2, 0).round().numpy()
    assert np.abs(ours.astype(np.float64) - expected).max() <= 1


def test_the_compiled_uint8_sampler_gives_the_torch_samplers_bytes():
    """uint8 on the CPU samples bilinearly in a compiled loop; the torch ops (what runs
    elsewhere) give the same bytes, a fractional fill and positions past the edges included."""
    from augkit.functional.elastic import displacement_sources
    from augkit.functional.geometry import sample_at

    rng = np.random.default_rng(2)
    field = F.elastic_displacement([3, 8, 11], (19, 25), (120.0, 90.0), (1.5, 2.5))
    src_x, src_y = displacement_sources(field, (19, 25))
    for fill in ((10.5, 200.0, 0.0, 255.0), (1.0, 2.0, 3.0, 4.0, 5.5, 6.0)):  # 6: 4 + 2
        batch = torch.from_numpy(rng.integers(0, 256, (3, len(fill), 19, 25), dtype=np.uint8))
        expected = sample_at(batch, src_x, src_y, "bilinear", fill)
        assert torch.equal(F.elastic(batch, field, fill=fill), expected)
        hwc = batch[1].permute(1, 2, 0).numpy().copy()
        assert np.array_equal(F.elastic(hwc, field[1:2], fill=fill),
                              expected[1].permute(1, 2, 0).numpy())


def test_transform_draws_a_field_per_sample_and_moves_targets_along():
    height, width = 48, 48
    mask = torch.zeros(height, width, dtype=torch.uint8)
    mask[14:34, 12:30] = 1
    t = ElasticTransform(alpha=40.0, sigma=4.0, interpolation="nearest", seed=0)
    out = t(image=mask[None].expand(3, -1, -1).contiguous(), mask=mask,
            boxes=torch.tensor([[12.0, 14.0, 30.0, 34.0]]),
            keypoints=torch.tensor([[20.5, 24.5]]))
    assert torch.equal(out["image"][0], out["mask"])  # the image and its mask move alike
    rows, cols = out["mask"].nonzero(as_tuple=True)
    from_mask = torch.tensor([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]).float()
    assert (out["boxes"][0] - from_mask).abs().max() <= 2.5
    x, y = (math.floor(v) for v in out["keypoints"][0].tolist())
    assert out["mask"][y, x] == 1
    batch = torch.rand(4, 1, 30, 30)
    moved = ElasticTransform(alpha=30.0, sigma=3.0, seed=1)(batch)
    assert not torch.allclose(moved[0], moved[1])


@pytest.mark.parametrize("call, message", [
    (lambda: ElasticTransform(sigma=5.0)(torch.zeros(3, 16, 16)),
     "sigma: 5 is too large for a 16x16 image"),
    (lambda: ElasticTransform(alpha=(1, 2, 3)), "alpha: (1, 2, 3) is not allowed"),
    (lambda: ElasticTransform(sigma=-1), "sigma: -1 is not allowed"),
    (lambda: F.elastic(torch.zeros(3, 8, 8), torch.zeros(1, 8, 9, 2)),
     "displacement: shape (1, 8, 9, 2) does not fit"),
])
def test_bad_arguments_are_one_line(call, message):
    with pytest.raises(AugkitError, match="^" + message.replace("(", r"\(").replace(
            ")", r"\)")):
        call()
