"""The metrics on features with known answers, and against torchmetrics."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from augkit.eval.metrics import class_coverage, fid, kid, label_accuracy, precision_recall


def _exact_gaussian(n: int, dim: int, mean: np.ndarray, scale: np.ndarray, seed: int
                    ) -> torch.Tensor:
    """Samples whose sample mean and covariance are exactly ``mean`` and ``diag(scale**2)``."""
    x = np.random.default_rng(seed).standard_normal((n, dim))
    x -= x.mean(axis=0)
    x = x @ np.linalg.inv(np.linalg.cholesky(np.cov(x, rowvar=False)).T)
    return torch.from_numpy(x * scale + mean)


def test_identical_sets_have_fid_zero():
    a = torch.randn(400, 16, dtype=torch.float64)
    assert fid(a, a) == pytest.approx(0.0, abs=1e-8)
    assert fid(a, a[torch.randperm(400)]) == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("shift, scale", [(0.0, 1.0), (1.5, 1.0), (0.0, 2.0), (0.7, 0.5)])
def test_fid_matches_the_closed_form_for_gaussians(shift, scale):
    dim = 8
    mean = np.full(dim, shift)
    scales = np.linspace(scale, 2 * scale, dim)
    a = _exact_gaussian(3000, dim, np.zeros(dim), np.ones(dim), seed=1)
    b = _exact_gaussian(2000, dim, mean, scales, seed=2)
    expected = (mean ** 2).sum() + ((1 - scales) ** 2).sum()
    assert fid(a, b) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_shift():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(1500, 16, generator=generator, dtype=torch.float64)
    b = torch.randn(1500, 16, generator=generator, dtype=torch.float64)
    same, _ = kid(a, b, subsets=20, subset_size=500)
    near, _ = kid(a, b + 0.3, subsets=20, subset_size=500)
    far, std = kid(a, b + 1.0, subsets=20, subset_size=500)
    assert abs(same) < 0.01 < near < far and std >= 0


def test_precision_and_recall_can_fail():
    generator = torch.Generator().manual_seed(0)
    real = torch.randn(1000, 8, generator=generator)
    assert precision_recall(real, real) == (1.0, 1.0)
    far = precision_recall(real, torch.randn(1000, 8, generator=generator) + 50)
    assert far == (0.0, 0.0)
    collapsed = real[:1].repeat(1000, 1) + 0.01 * torch.randn(1000, 8, generator=generator)
    precision, recall = precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.05


def test_coverage_and_label_accuracy():
    assert class_coverage(torch.zeros(100, dtype=torch.int64), 10) == 1
    assert class_coverage(torch.arange(100) % 10, 10) == 10
    assert class_coverage(torch.tensor([0] * 60 + [1] * 36 + [2] * 4), 10) == 2
    assert label_accuracy(torch.tensor([1, 2, 3, 4]), torch.tensor([1, 2, 0, 4])) == 0.75


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"real: expected features of shape \(N, D\)"):
        fid(torch.zeros(10), torch.zeros(10, 2))
    with pytest.raises(ValueError, match="needs more than k=3 samples"):
        precision_recall(torch.zeros(3, 2), torch.zeros(10, 2))


class _Features(torch.nn.Module):
    """A fixed random projection of images, as a stand-in feature net for the cross-check."""

    num_features = 32

    def __init__(self):
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.weight = torch.randn(3 * 8 * 8, self.num_features, generator=generator)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.tanh(images.float().flatten(1) / 255 @ self.weight)


@pytest.mark.skipif(importlib.util.find_spec("torchmetrics") is None,
                    reason="torchmetrics is not installed")
def test_fid_and_kid_agree_with_torchmetrics():
    from torchmetrics.image.fid import FrechetInceptionDistance
    from torchmetrics.image.kid import KernelInceptionDistance

    generator = torch.Generator().manual_seed(0)
    real = torch.randint(0, 256, (600, 3, 8, 8), generator=generator, dtype=torch.uint8)
    fake = (real.float() * 0.8 + 20).clamp(0, 255).to(torch.uint8)
    features = _Features()
    ours_fid = fid(features(real).double(), features(fake).double())
    theirs = FrechetInceptionDistance(feature=features)
    theirs.update(real, real=True)
    theirs.update(fake, real=False)
    assert ours_fid == pytest.approx(float(theirs.compute()), rel=1e-3)

    ours_kid, _ = kid(features(real).double(), features(fake).double(), subsets=1,
                      subset_size=600)
    theirs = KernelInceptionDistance(feature=features, subsets=1, subset_size=600)
    theirs.update(real, real=True)
    theirs.update(fake, real=False)
    theirs_kid, _ = theirs.compute()
    assert ours_kid == pytest.approx(float(theirs_kid), rel=1e-3)
