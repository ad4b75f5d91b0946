"""An exponential moving average of a model's weights (the generator used for sampling)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from augkit.errors import AugkitError


class EMA:
    """``shadow = decay * shadow + (1 - decay) * weights`` after each step, with the decay
    warmed up as ``min(decay, (1 + n) / (10 + n))`` over the first updates so that the average
    does not drag the random initial weights along. Buffers (batch-norm statistics) are
    copied, or with ``average_buffers`` averaged like the weights: statistics copied from
    the moving model do not fit averaged weights while the learning rate is high (a
    classifier's EMA then loses up to 9 points mid-run), averaged ones do.

    >>> model = nn.Linear(2, 2)
    >>> ema = EMA(model, decay=0.9)
    >>> ema.update(model)
    """

    def __init__(self, model: nn.Module, decay: float = 0.999, average_buffers: bool = False):
        if not 0.0 <= decay < 1.0:
            raise AugkitError(f"decay: {decay!r} is not allowed; expected a number in [0, 1)")
        self.decay, self.average_buffers = decay, average_buffers
        self.updates = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        for shadow, current in zip(self.model.parameters(), model.parameters(), strict=True):
            shadow.lerp_(current.detach(), 1.0 - decay)
        for shadow, current in zip(self.model.buffers(), model.buffers(), strict=True):
            if self.average_buffers and shadow.is_floating_point():
                shadow.lerp_(current, 1.0 - decay)
            else:  # counters such as num_batches_tracked
                shadow.copy_(current)
