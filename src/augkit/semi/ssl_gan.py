"""A semi-supervised GAN whose discriminator is the classifier (Salimans et al. 2016).

The classifier's K logits ``l(x)`` serve both jobs. On labeled images they are trained with
cross-entropy; their log-sum-exp is the discriminator's "real" logit, so that
``D(x) = Z(x) / (Z(x) + 1)`` with ``Z(x) = sum_k exp(l_k(x))`` (the K+1-class form with the
fake class's logit fixed at 0). On the unlabeled pool D is pushed towards "real", on the
generator's images towards "fake". The generator is trained by feature matching: the mean
of the classifier's embedding on its images is pulled to the mean on pool images. Real and
generated images go through the classifier as one batch, so batch-norm statistics see both.
The classifier returned is the EMA of its weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.functional import cross_entropy, softplus

from augkit.errors import AugkitError
from augkit.gan.ema import EMA
from augkit.gan.models import DCGenerator
from augkit.progress import progress_bar
from augkit.seeding import derive_seed, seeded
from augkit.semi.consistency import BatchTransform, Cycler


@dataclass(frozen=True)
class SSLGANSchedule:
    """How the classifier-discriminator and its generator are trained."""

    steps: int = 3000
    batch_size: int = 64          # labeled images per step; as many pool and generated
    lr: float = 1e-3              # Adam for both nets (Salimans et al.: 3e-3)
    beta1: float = 0.5
    unlabeled_weight: float = 1.0
    z_dim: int = 100
    generator_width: int = 32
    ema_decay: float = 0.999
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "z_dim", "generator_width"):
            if getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                  "integer >= 1")


def _to_unit(fake: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] as the classifier's [0, 1] float input."""
    return (fake + 1.0) / 2.0


def train_ssl_gan(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                  pool: torch.Tensor, weak: BatchTransform | None = None,
                  schedule: SSLGANSchedule = SSLGANSchedule(), progress: bool = False
                  ) -> tuple[nn.Module, nn.Module, dict[str, float]]:
    """Train classifier ``model`` (logits; ``model.features`` its embedding) as the
    discriminator of a GAN on uint8 labeled ``images`` and the unlabeled ``pool``; ``weak``
    augments the labeled batch. Returns the EMA classifier, the generator and the last
    losses."""
    if len(images) == 0 or len(pool) == 0:
        raise AugkitError("images / pool: the semi-supervised GAN needs labeled images and "
                          "a non-empty unlabeled pool")
    channels, height, width = images.shape[1:]
    if height != width or height not in (28, 32, 64):
        raise AugkitError(f"images: {height}x{width}; the semi-supervised GAN makes square "
                          "28, 32 or 64 pixel images")
    with seeded(derive_seed(schedule.seed, 1)):
        generator = DCGenerator(height, channels, schedule.z_dim, schedule.generator_width)
    draws = torch.Generator().manual_seed(schedule.seed)
    with seeded(schedule.seed):
        return _fit(model, generator, images, labels, pool, weak, schedule, draws, progress)


def _fit(model: nn.Module, generator: nn.Module, images: torch.Tensor, labels: torch.Tensor,
         pool: torch.Tensor, weak: BatchTransform | None, schedule: SSLGANSchedule,
         draws: torch.Generator, progress: bool) -> tuple[nn.Module, nn.Module, dict]:
    betas = (schedule.beta1, 0.999)
    opt_d = torch.optim.Adam(model.parameters(), schedule.lr, betas=betas)
    opt_g = torch.optim.Adam(generator.parameters(), schedule.lr, betas=betas)
    decay = [torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / schedule.steps)
             for opt in (opt_d, opt_g)]
    ema = EMA(model, schedule.ema_decay)
    labeled, unlabeled = Cycler(len(images), draws), Cycler(len(pool), draws)
    n = schedule.batch_size
    model.train()
    generator.train()
    losses: dict[str, float] = {}
    for _ in progress_bar(range(schedule.steps), desc="gan-ssl", unit="step",
                          disable=not progress):
        index = labeled.take(n)
        batch_l = images[index] if weak is None else weak(images[index], draws)
        batch_u = pool[unlabeled.take(n)]
        z = torch.randn(2 * n, schedule.z_dim, generator=draws)
        # D step: labeled cross-entropy, pool "real", generated "fake"
        with torch.no_grad():
            fake = _to_unit(generator(z[:n]))
        logits_l, logits_u, logits_f = model(
            torch.cat([_float(batch_l), _float(batch_u), fake])).split(n)
        real_logit, fake_logit = logits_u.logsumexp(1), logits_f.logsumexp(1)
        loss_unsupervised = (softplus(real_logit) - real_logit).mean() \
            + softplus(fake_logit).mean()
        loss_d = cross_entropy(logits_l, labels[index]) \
            + schedule.unlabeled_weight * loss_unsupervised
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        # G step: feature matching against the pool
        features = model.features(torch.cat([_float(batch_u), _to_unit(generator(z[n:]))]))
        real_features, fake_features = features.split(n)
        loss_g = (real_features.detach().mean(0) - fake_features.mean(0)).pow(2).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for scheduler in decay:
            scheduler.step()
        ema.update(model)
        losses = {"d_loss": float(loss_d.detach()), "g_loss": float(loss_g.detach())}
    model.eval()
    return ema.model.eval(), generator.eval(), losses


def _float(batch: torch.Tensor) -> torch.Tensor:
    return batch.to(torch.float32) / 255.0 if batch.dtype == torch.uint8 else batch


__all__ = ["SSLGANSchedule", "train_ssl_gan"]
