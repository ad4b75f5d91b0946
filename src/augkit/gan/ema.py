"""An exponential moving average of a model's weights (the generator used for sampling)."""

from __future__ import annotations

import copy

import torch
from torch import nn

from augkit.errors import AugkitError


class EMA:
    """``shadow = decay * shadow + (1 - decay) * weights`` after each step, with the decay
    warmed up as ``min(decay, (1 + n) / (10 + n))`` over the first updates so that the average
    does not drag the random initial weights along; buffers (batch-norm statistics) are
    copied.

    >>> model = nn.Linear(2, 2)
    >>> ema = EMA(model, decay=0.9)
    >>> ema.update(model)
    """

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 <= decay < 1.0:
            raise AugkitError(f"decay: {decay!r} is not allowed; expected a number in [0, 1)")
        self.decay = decay
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
            shadow.copy_(current)
