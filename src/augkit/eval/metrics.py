"""Sample-quality metrics on feature vectors: FID, KID, precision/recall, class coverage.

All take float features ``(N, D)``; FID and KID are computed in float64.

>>> import torch
>>> a = torch.randn(500, 8, dtype=torch.float64)
>>> round(fid(a, a), 6)
0.0
"""

from __future__ import annotations

import torch

from augkit.errors import AugkitError


def _as_float64(features: torch.Tensor, name: str) -> torch.Tensor:
    if features.ndim != 2:
        raise AugkitError(f"{name}: expected features of shape (N, D), got {tuple(features.shape)}")
    return features.to(torch.float64)


def _moments(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = features.mean(dim=0)
    centred = features - mean
    return mean, centred.T @ centred / (features.shape[0] - 1)


def fid(real: torch.Tensor, fake: torch.Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (float64)."""
    real, fake = _as_float64(real, "real"), _as_float64(fake, "fake")
    mu_r, cov_r = _moments(real)
    mu_f, cov_f = _moments(fake)
    # tr sqrt(cov_r cov_f) = sum of sqrt(eigenvalues of sqrt(cov_r) cov_f sqrt(cov_r)), a
    # symmetric matrix, so eigh is stable where a general sqrtm is not
    values, vectors = torch.linalg.eigh(cov_r)
    sqrt_r = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T
    middle = torch.linalg.eigvalsh(sqrt_r @ cov_f @ sqrt_r).clamp(min=0).sqrt().sum()
    distance = (mu_r - mu_f).square().sum() + cov_r.trace() + cov_f.trace() - 2 * middle
    return float(distance.clamp(min=0))


def _polynomial_mmd(x: torch.Tensor, y: torch.Tensor, degree: int = 3) -> torch.Tensor:
    """Unbiased MMD^2 with the kernel ``(x . y / D + 1) ** degree``."""
    m, dim = x.shape
    k_xx = (x @ x.T / dim + 1) ** degree
    k_yy = (y @ y.T / dim + 1) ** degree
    k_xy = (x @ y.T / dim + 1) ** degree
    off_diagonal = (k_xx.sum() - k_xx.diagonal().sum()) + (k_yy.sum() - k_yy.diagonal().sum())
    return off_diagonal / (m * (m - 1)) - 2 * k_xy.sum() / (m * m)


def kid(real: torch.Tensor, fake: torch.Tensor, subsets: int = 100, subset_size: int = 1000,
        seed: int = 0) -> tuple[float, float]:
    """Kernel inception distance: mean and std of the unbiased polynomial-kernel MMD^2 over
    ``subsets`` random subsets of ``subset_size`` from each set (all of it when smaller)."""
    real, fake = _as_float64(real, "real"), _as_float64(fake, "fake")
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise AugkitError(f"kid: needs at least 2 samples in each set, got {len(real)} and "
                          f"{len(fake)}")
    generator = torch.Generator().manual_seed(seed)
    scores = []
    for _ in range(subsets):
        x = real[torch.randperm(len(real), generator=generator)[:size]]
        y = fake[torch.randperm(len(fake), generator=generator)[:size]]
        scores.append(_polynomial_mmd(x, y))
    values = torch.stack(scores)
    return float(values.mean()), float(values.std(unbiased=False))


def kth_neighbour_radii(features: torch.Tensor, k: int, block: int = 2048) -> torch.Tensor:
    radii = []
    for start in range(0, len(features), block):
        distances = torch.cdist(features[start:start + block], features)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # +1: each point's own 0
    return torch.cat(radii)


def _inside_any_ball(points: torch.Tensor, centres: torch.Tensor, radii: torch.Tensor,
                     block: int) -> torch.Tensor:
    inside = []
    for start in range(0, len(points), block):
        distances = torch.cdist(points[start:start + block], centres)
        inside.append((distances <= radii.unsqueeze(0)).any(dim=1))
    return torch.cat(inside)


def precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3, block: int = 2048,
                     real_radii: torch.Tensor | None = None) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019): the share of fake samples
    inside the real data's k-NN manifold, and of real samples inside the fake one's.
    ``real_radii`` (from ``kth_neighbour_radii(real, k)``) saves recomputing the real side."""
    real, fake = real.to(torch.float32), fake.to(torch.float32)
    if len(real) <= k or len(fake) <= k:
        raise AugkitError(f"precision_recall: needs more than k={k} samples in each set, got "
                          f"{len(real)} and {len(fake)}")
    if real_radii is None:
        real_radii = kth_neighbour_radii(real, k, block)
    fake_radii = kth_neighbour_radii(fake, k, block)
    precision = _inside_any_ball(fake, real, real_radii, block).to(torch.float64).mean()
    recall = _inside_any_ball(real, fake, fake_radii, block).to(torch.float64).mean()
    return float(precision), float(recall)


def class_coverage(predicted: torch.Tensor, num_classes: int) -> int:
    """Classes that receive at least half their fair share (N / classes) of the predictions."""
    counts = torch.bincount(predicted.to(torch.int64), minlength=num_classes)[:num_classes]
    fair_share = len(predicted) / num_classes
    return int((counts >= 0.5 * fair_share).sum())


def label_accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    """How often the classifier agrees with the samples' own labels."""
    return float((predicted == labels).to(torch.float64).mean())
