"""GAN losses on discriminator outputs.

``reference`` is the study log's: cross-entropy over the discriminator's two softmax outputs,
taken again as logits (a double softmax, kept for fidelity). The others take one logit per
sample: ``nsgan`` (non-saturating BCE), ``hinge`` and ``wgan-gp`` (with
``gradient_penalty``). ``mode_seeking_penalty`` is the generator's extra term against
collapse within a class.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from augkit.errors import AugkitError

LOSSES = ("reference", "nsgan", "hinge", "wgan-gp")


def _targets(logits: torch.Tensor, value: int) -> torch.Tensor:
    return torch.full((logits.shape[0],), value, dtype=torch.int64, device=logits.device)


def d_loss_real(loss: str, real_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss on real images."""
    if loss == "reference":
        return F.cross_entropy(real_logits, _targets(real_logits, 1))
    if loss == "nsgan":
        return F.softplus(-real_logits).mean()
    if loss == "hinge":
        return F.relu(1 - real_logits).mean()
    return -real_logits.mean()


def d_loss_fake(loss: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """The discriminator's loss on generated images."""
    if loss == "reference":
        return F.cross_entropy(fake_logits, _targets(fake_logits, 0))
    if loss == "nsgan":
        return F.softplus(fake_logits).mean()
    if loss == "hinge":
        return F.relu(1 + fake_logits).mean()
    return fake_logits.mean()


def g_loss(loss: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """The generator's loss: make the discriminator call its images real."""
    if loss == "reference":
        return F.cross_entropy(fake_logits, _targets(fake_logits, 1))
    if loss == "nsgan":
        return F.softplus(-fake_logits).mean()
    return -fake_logits.mean()


def gradient_penalty(discriminator: Callable[..., torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, labels: torch.Tensor | None,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP: ``(|grad D(x_hat)| - 1)^2`` at random points between real and fake images."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, generator=generator).to(real.device, real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    scores = discriminator(mixed, labels)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).square().mean()


def paired_labels(labels: torch.Tensor) -> torch.Tensor:
    """Labels for a batch of the same size laid out in the pairs ``(2i, 2i + 1)`` that
    ``mode_seeking_penalty`` compares: each of the first half of ``labels`` twice."""
    n = len(labels)
    return labels[:(n + 1) // 2].repeat_interleave(2)[:n]


def mode_seeking_penalty(images: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Mode seeking (Mao et al. 2019) on pairs ``(2i, 2i + 1)`` drawn with one label
    (``paired_labels``) and two noise vectors: large when the images of a pair differ less
    than their noise does, that is when a class collapses onto one prototype. An odd last
    sample is left out."""
    pairs = 2 * (len(images) // 2)
    if pairs == 0:
        raise AugkitError("mode seeking needs at least one pair of samples")
    image_distance = (images[0:pairs:2] - images[1:pairs:2]).abs().flatten(1).mean(dim=1)
    noise_distance = (z[0:pairs:2] - z[1:pairs:2]).abs().mean(dim=1)
    return 1.0 / ((image_distance / noise_distance).mean() + 1e-5)


def check_loss(loss: str, model: str) -> str:
    """``loss`` if it fits ``model``, else a ValueError naming both."""
    if loss not in LOSSES:
        raise AugkitError(f"loss: {loss!r} is not allowed; expected one of {', '.join(LOSSES)}")
    if (loss == "reference") != (model == "reference"):
        raise AugkitError(f"loss: {loss!r} does not fit model {model!r}; the reference model "
                          "uses the 'reference' loss and only it does")
    return loss
