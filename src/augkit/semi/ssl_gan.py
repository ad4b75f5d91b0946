"""A semi-supervised GAN whose discriminator is the classifier (Salimans et al. 2016).

The classifier's K logits ``l(x)`` serve both jobs. On labeled images they are trained with
cross-entropy; their log-sum-exp is the discriminator's "real" logit, so that
``D(x) = Z(x) / (Z(x) + 1)`` with ``Z(x) = sum_k exp(l_k(x))`` (the K+1-class form with the
fake class's logit fixed at 0). On the unlabeled pool D is pushed towards "real", on the
generator's images towards "fake". The generator is trained by feature matching: the mean
of the classifier's embedding on its images is pulled to the mean on pool images. Real and
generated images go through the classifier as one batch, so batch-norm statistics see both.
As in Salimans et al.'s MNIST model, every image the discriminator trains on (labeled, pool,
generated) gets Gaussian noise (``input_noise``, 0.15 in [0, 1] units); as in Dai et al. 2017,
the entropy of the class distribution on pool images is minimised (``entropy_weight``).
Each adds accuracy (the README's pool study gives the figures); with the consistency term
below, both are off by default, and so is the entropy term with one or two labeled images per
class (``NO_ENTROPY_LABELS``), where it cost accuracy.
The classifier returned is the EMA of its weights.

With ``consistency_weight`` above 0 the classifier-discriminator also takes FixMatch's term
on the pool (a combination of the two routes): a weak view of each of ``unlabeled_ratio``
pool images per labeled one gives a pseudo-label where the classifier is ``threshold`` sure,
and the strong view is trained to agree, in the same batch as the GAN's images; as in
``consistency``, the EMA classifier gives the pseudo-labels after ``ema_teacher_after`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn.functional import cross_entropy, softplus

from augkit.errors import AugkitError
from augkit.files import atomic_path
from augkit.gan.ema import EMA
from augkit.gan.models import DCGenerator
from augkit.seeding import derive_seed, seeded
from augkit.semi.consistency import (
    BatchTransform,
    check_pool,
    check_pseudo_labeling,
    pseudo_labels,
)
from augkit.semi.training import Cycler, Training

#: Labels per class at or below which the GAN alone leaves the entropy term out by default.
#: MNIST, the rest of the 60,000 training images as the pool, 8,000 steps, the input noise on:
#: 1 label per class, seeds 0 to 2: with the term 50.68, 34.59 and 32.62 % test accuracy,
#: without it 74.91, 76.76 and 85.57 %; 2 labels per class, seeds 0 and 1: with it 84.08 and
#: 71.54 %, without it 98.55 and 98.26 %.
NO_ENTROPY_LABELS = 2


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
    consistency_weight: float = 0.0  # FixMatch's term on the pool; 0 leaves it out
    unlabeled_ratio: int = 3      # pool images per labeled image in that term
    threshold: float = 0.95       # confidence that makes a pseudo-label in that term
    ema_teacher_after: int = 500  # from this step the EMA gives those pseudo-labels
    # std of the Gaussian noise on every image the discriminator trains on, in [0, 1] units
    # (Salimans et al.), and the weight of the class entropy on pool images (Dai et al.);
    # None: 0.15 and 1.0 for the GAN alone (the entropy 0 at ``NO_ENTROPY_LABELS`` labels per
    # class or fewer), 0 with the consistency term, which regularises the classifier in their
    # place
    input_noise: float | None = None
    entropy_weight: float | None = None
    labels_per_class: float | None = None  # the labeled images per class, when known
    seed: int = 0

    def __post_init__(self) -> None:
        alone = self.consistency_weight == 0
        few = self.labels_per_class is not None and self.labels_per_class <= NO_ENTROPY_LABELS
        for name, default in (("input_noise", 0.15), ("entropy_weight", 0.0 if few else 1.0)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default if alone else 0.0)
        for name in ("steps", "batch_size", "z_dim", "generator_width", "unlabeled_ratio"):
            if getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                  "integer >= 1")
        for name in ("consistency_weight", "input_noise", "entropy_weight"):
            if not getattr(self, name) >= 0:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected a "
                                  "number >= 0")
        check_pseudo_labeling(self.threshold, self.ema_teacher_after)


def _to_unit(fake: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] as the classifier's [0, 1] float input."""
    return (fake + 1.0) / 2.0


class SSLGANTraining(Training):
    """The classifier ``model`` (logits; ``model.features`` its embedding) as the
    discriminator of a GAN on uint8 labeled ``images`` and the unlabeled ``pool``, one step
    at a time, on ``device`` (noise and parameters drawn on the CPU); ``weak`` augments the
    labeled batch. ``result()`` gives the EMA classifier, the generator and the last
    losses. ``strong`` is the strong view of the consistency term (needed when the schedule
    gives it a weight)."""

    name = "gan-ssl"

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                 pool: torch.Tensor, weak: BatchTransform | None = None,
                 schedule: SSLGANSchedule = SSLGANSchedule(), device: str = "cpu",
                 strong: BatchTransform | None = None):
        check_pool(images, pool, "the semi-supervised GAN")
        if schedule.consistency_weight > 0 and (weak is None or strong is None):
            raise AugkitError("consistency_weight: the consistency term needs a weak and a "
                              "strong view")
        channels, height, width = images.shape[1:]
        if height != width or height not in (28, 32, 64):
            raise AugkitError(f"images: {height}x{width}; the semi-supervised GAN makes square "
                              "28, 32 or 64 pixel images")
        super().__init__(schedule.steps, schedule.seed)
        with seeded(derive_seed(schedule.seed, 1)):
            self.generator = DCGenerator(height, channels, schedule.z_dim,
                                         schedule.generator_width).to(device)
        self.model, self.device = model.to(device), device
        self.images, self.labels, self.pool = images.to(device), labels.to(device), \
            pool.to(device)
        self.weak, self.strong, self.schedule = weak, strong, schedule
        betas = (schedule.beta1, 0.999)
        self.opt_d = torch.optim.Adam(model.parameters(), schedule.lr, betas=betas)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), schedule.lr, betas=betas)
        self.decay_d, self.decay_g = (
            torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / schedule.steps)
            for opt in (self.opt_d, self.opt_g))
        self.ema = EMA(model, schedule.ema_decay, average_buffers=True)
        self.labeled = Cycler(len(images), self.draws)
        self.unlabeled = Cycler(len(pool), self.draws)

    def parts(self) -> dict[str, Any]:
        return {"model": self.model, "generator": self.generator, "opt_d": self.opt_d,
                "opt_g": self.opt_g, "decay_d": self.decay_d, "decay_g": self.decay_g,
                "ema": self.ema, "labeled": self.labeled, "unlabeled": self.unlabeled}

    def train_step(self) -> dict[str, float]:
        schedule, model, generator, n = self.schedule, self.model, self.generator, \
            self.schedule.batch_size
        model.train()
        generator.train()
        index = self.labeled.take(n)
        batch_l = self.images[index] if self.weak is None else self.weak(self.images[index],
                                                                         self.draws)
        batch_u = self.pool[self.unlabeled.take(n)]
        z = torch.randn(2 * n, schedule.z_dim, generator=self.draws).to(self.device)
        # D step: labeled cross-entropy, pool "real", generated "fake" (and FixMatch's term)
        with torch.no_grad():
            fake = _to_unit(generator(z[:n]))
        views = [_float(batch_l), _float(batch_u), fake]
        if schedule.consistency_weight > 0:
            batch_c = self.pool[self.unlabeled.take(n * schedule.unlabeled_ratio)]
            pseudo, mask = pseudo_labels(model, self.ema, self.step,
                                         self.weak(batch_c, self.draws), schedule.threshold,
                                         schedule.ema_teacher_after)
            views.append(_float(self.strong(batch_c, self.draws)))
        logits = model(self.noisy(torch.cat(views)))
        logits_l, logits_u, logits_f = logits[:3 * n].split(n)
        real_logit, fake_logit = logits_u.logsumexp(1), logits_f.logsumexp(1)
        loss_unsupervised = (softplus(real_logit) - real_logit).mean() \
            + softplus(fake_logit).mean()
        loss_d = cross_entropy(logits_l, self.labels[index]) \
            + schedule.unlabeled_weight * loss_unsupervised
        if schedule.entropy_weight > 0:
            loss_d = loss_d + schedule.entropy_weight * _entropy(logits_u)
        if schedule.consistency_weight > 0:
            loss_d = loss_d + schedule.consistency_weight * (
                cross_entropy(logits[3 * n:], pseudo, reduction="none") * mask).mean()
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        # G step: feature matching against the pool
        features = model.features(self.noisy(torch.cat([_float(batch_u),
                                                         _to_unit(generator(z[n:]))])))
        real_features, fake_features = features.split(n)
        loss_g = (real_features.detach().mean(0) - fake_features.mean(0)).pow(2).mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        self.decay_d.step()
        self.decay_g.step()
        self.ema.update(model)
        self.stats = {"d_loss": float(loss_d.detach()), "g_loss": float(loss_g.detach())}
        if schedule.consistency_weight > 0:
            self.stats["pseudo_labeled"] = float(mask.mean())
        return dict(self.stats)

    def noisy(self, batch: torch.Tensor) -> torch.Tensor:
        """``batch`` with the schedule's input noise (drawn on the CPU: exact resume)."""
        if self.schedule.input_noise == 0:
            return batch
        noise = torch.randn(batch.shape, generator=self.draws).to(batch.device)
        return batch + self.schedule.input_noise * noise

    def result(self) -> tuple[nn.Module, nn.Module, dict[str, float]]:
        self.model.eval()
        return self.ema.model.eval(), self.generator.eval(), dict(self.stats)


def train_ssl_gan(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                  pool: torch.Tensor, weak: BatchTransform | None = None,
                  schedule: SSLGANSchedule = SSLGANSchedule(), progress: bool = False,
                  device: str = "cpu", strong: BatchTransform | None = None
                  ) -> tuple[nn.Module, nn.Module, dict[str, float]]:
    """Train classifier ``model`` as the discriminator of a GAN on labeled ``images`` and the
    unlabeled ``pool`` (see ``SSLGANTraining``). Returns the EMA classifier, the generator
    and the last losses; ``device`` is where it trains."""
    training = SSLGANTraining(model, images, labels, pool, weak, schedule, device, strong)
    training.run(progress=progress)
    return training.result()


@torch.no_grad()
def save_generator_grid(generator: nn.Module, path: Path, seed: int) -> None:
    """An 8x8 grid of ``generator``'s images from a fixed noise batch, written atomically."""
    from PIL import Image

    from augkit.data import to_nhwc
    from augkit.gan.trainer import images_from_model
    from augkit.visualize import grid

    noise = torch.randn(64, generator.z_dim,
                        generator=torch.Generator().manual_seed(derive_seed(seed, 2)))
    noise = noise.to(next(generator.parameters()).device)
    tiles = [Image.fromarray(image) for image in to_nhwc(images_from_model(generator(noise)))]
    picture = grid([tiles[i:i + 8] for i in range(0, 64, 8)], gap=2, scale=2, background=40)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        picture.save(tmp, format="PNG")


def _entropy(logits: torch.Tensor) -> torch.Tensor:
    """The mean entropy of the class distributions that ``logits`` give."""
    return -(logits.softmax(1) * logits.log_softmax(1)).sum(1).mean()


def _float(batch: torch.Tensor) -> torch.Tensor:
    return batch.to(torch.float32) / 255.0 if batch.dtype == torch.uint8 else batch


__all__ = ["NO_ENTROPY_LABELS", "SSLGANSchedule", "SSLGANTraining", "save_generator_grid",
           "train_ssl_gan"]
