"""Consistency training on an unlabeled pool (FixMatch, Sohn et al. 2020), with augkit's ops.

Each step takes a batch of labeled images and ``unlabeled_ratio`` times as many pool images.
A weakly augmented view of each pool image gives a pseudo-label where the classifier is at
least ``threshold`` sure; a strongly augmented view of the same image is trained to agree.
The weak views go through the network without a gradient (their pseudo-labels take none, and
sparing their graph makes a step about 1.3x faster); the labeled and strong views go through as
one batch, so batch-norm statistics see them together. The classifier returned is the EMA
of the weights.

FixMatch's recipe is the start: threshold 0.95, 7 unlabeled per labeled image, unlabeled
weight 1, EMA 0.999. What differs: AdamW with a one-cycle schedule instead of SGD with
Nesterov momentum and cosine decay (the same optimiser as every other arm of the study, and
it converges in the few thousand steps a CPU affords), augmentation built for digits (no
flips; ``presets.small_jitter`` as the weak view, ``presets.strong`` as the strong one,
which has neither cutout nor a large turn, since both can change the digit a view shows), and
in the study 3 unlabeled images per labeled one by default, which halves the cost of a step,
and after ``ema_teacher_after`` steps (500 by default) the pseudo-labels come from the EMA
classifier rather than the moving one (a mean teacher, Tarvainen & Valpola 2017): its
labels drift less from step to step (0.2 points more on one MNIST subset of 10 labels per
class, at no cost).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from augkit.errors import AugkitError
from augkit.gan.ema import EMA
from augkit.semi.training import Cycler, Training

BatchTransform = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


@dataclass(frozen=True)
class ConsistencySchedule:
    """How a classifier is trained on labeled images plus an unlabeled pool."""

    steps: int = 3000
    batch_size: int = 64          # labeled images per step
    unlabeled_ratio: int = 7      # pool images per labeled image in a step (FixMatch's mu)
    threshold: float = 0.95       # confidence that makes a pseudo-label (FixMatch's tau)
    unlabeled_weight: float = 1.0
    lr: float = 2e-3
    weight_decay: float = 5e-4
    ema_decay: float = 0.999
    ema_teacher_after: int = 500  # from this step the EMA gives the pseudo-labels
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "unlabeled_ratio"):
            if getattr(self, name) < 1:
                raise AugkitError(f"{name}: {getattr(self, name)} is not allowed; expected an "
                                  "integer >= 1")
        check_pseudo_labeling(self.threshold, self.ema_teacher_after)


def check_pseudo_labeling(threshold: float, ema_teacher_after: int) -> None:
    """One-line errors for the pseudo-label settings of a schedule or a config."""
    if not 0 < threshold < 1:
        raise AugkitError(f"threshold: {threshold} is not allowed; expected (0, 1)")
    if ema_teacher_after < 0:
        raise AugkitError(f"ema_teacher_after: {ema_teacher_after} is not allowed; expected "
                          "an integer >= 0 (the number of steps or more keeps the moving "
                          "classifier as teacher)")


@torch.no_grad()  # no gradient flows through the pseudo-labels: spare the graph
def pseudo_labels(model: nn.Module, ema: EMA, step: int, weak_views: torch.Tensor,
                  threshold: float, ema_teacher_after: int
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's class for each weak view and a 0/1 mask of those it is ``threshold``
    sure of. The teacher is the moving classifier (in training mode, as FixMatch has it)
    until step ``ema_teacher_after``, then the EMA classifier in eval mode."""
    teacher = ema.model.eval() if step >= ema_teacher_after else model
    confidence, guess = torch.softmax(teacher(weak_views).float(), dim=1).max(dim=1)
    return guess, (confidence >= threshold).float()


def pipeline_transform(pipeline: object) -> BatchTransform:
    """An augkit pipeline as a batch augmentation with per-sample parameters."""
    def transform(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return pipeline(batch, params=pipeline.draw(batch.shape[0], generator))
    return transform


class ConsistencyTraining(Training):
    """FixMatch on labeled uint8 ``images`` (N, C, H, W) and an unlabeled ``pool``, one step
    at a time, on ``device`` (the images and the pool are moved there once; the parameters
    are drawn on the CPU); ``result()`` gives the EMA classifier and the share of pool images
    that got a pseudo-label."""

    name = "consistency"

    def __init__(self, model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                 pool: torch.Tensor, weak: BatchTransform, strong: BatchTransform,
                 schedule: ConsistencySchedule = ConsistencySchedule(), device: str = "cpu"):
        check_pool(images, pool, "consistency training")
        super().__init__(schedule.steps, schedule.seed)
        self.model = model.to(device)
        self.images, self.labels, self.pool = images.to(device), labels.to(device), \
            pool.to(device)
        self.weak, self.strong, self.schedule = weak, strong, schedule
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=schedule.lr,
                                           weight_decay=schedule.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(self.optimizer, schedule.lr,
                                                             total_steps=schedule.steps)
        self.ema = EMA(model, schedule.ema_decay, average_buffers=True)
        self.labeled = Cycler(len(images), self.draws)
        self.unlabeled = Cycler(len(pool), self.draws)
        self.stats = {"masked": 0.0}

    def parts(self) -> dict[str, Any]:
        return {"model": self.model, "optimizer": self.optimizer, "scheduler": self.scheduler,
                "ema": self.ema, "labeled": self.labeled, "unlabeled": self.unlabeled}

    def train_step(self) -> dict[str, float]:
        schedule, draws = self.schedule, self.draws
        self.model.train()
        index = self.labeled.take(schedule.batch_size)
        batch = self.pool[self.unlabeled.take(schedule.batch_size * schedule.unlabeled_ratio)]
        weak_l, weak_u = self.weak(self.images[index], draws), self.weak(batch, draws)
        strong_u = self.strong(batch, draws)
        pseudo, mask = pseudo_labels(self.model, self.ema, self.step, weak_u,
                                     schedule.threshold, schedule.ema_teacher_after)
        logits_l, logits_strong = self.model(torch.cat([weak_l, strong_u])).split(
            [len(index), len(batch)])
        loss_u = (nn.functional.cross_entropy(logits_strong, pseudo, reduction="none")
                  * mask).mean()
        loss = nn.functional.cross_entropy(logits_l, self.labels[index]) \
            + schedule.unlabeled_weight * loss_u
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.ema.update(self.model)
        self.stats["masked"] += float(mask.mean())
        return {"loss": float(loss.detach()), "pseudo_labeled": float(mask.mean())}

    def result(self) -> tuple[nn.Module, dict[str, float]]:
        self.model.eval()
        share = self.stats["masked"] / max(self.step, 1)
        return self.ema.model.eval(), {"pseudo_labeled_share": share}


def check_pool(images: torch.Tensor, pool: torch.Tensor, what: str) -> None:
    """One-line errors for an empty set or a pool of another image shape."""
    if len(images) == 0 or len(pool) == 0:
        raise AugkitError(f"images / pool: {what} needs labeled images and a non-empty "
                          "unlabeled pool")
    if pool.shape[1:] != images.shape[1:]:
        raise AugkitError(f"pool: images of shape {tuple(pool.shape[1:])}; the labeled images "
                          f"are {tuple(images.shape[1:])}")


def train_consistency(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                      pool: torch.Tensor, weak: BatchTransform, strong: BatchTransform,
                      schedule: ConsistencySchedule = ConsistencySchedule(),
                      progress: bool = False, device: str = "cpu"
                      ) -> tuple[nn.Module, dict[str, float]]:
    """Train ``model`` on labeled uint8 ``images`` (N, C, H, W) and the unlabeled ``pool`` on
    ``device``; returns the EMA classifier (left there) and the share of pool images that got
    a pseudo-label."""
    training = ConsistencyTraining(model, images, labels, pool, weak, strong, schedule, device)
    training.run(progress=progress)
    return training.result()


__all__ = ["ConsistencySchedule", "ConsistencyTraining", "check_pool", "check_pseudo_labeling",
           "pipeline_transform", "pseudo_labels", "train_consistency"]
