"""A training loop that can stop after any step and continue exactly.

Every random draw comes from the loop's own ``torch.Generator`` (batches, augmentation,
noise) or from torch's global generator inside the loop (dropout), whose state the loop
keeps apart from the caller's. ``state_dict`` holds all of it with the weights, optimizer
moments, schedules, the EMA and the batch order, so a loop rebuilt from it continues as if
it had never stopped.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch

from augkit.gan.ema import EMA
from augkit.progress import progress_bar


class Cycler:
    """Indices into ``n`` items, a fresh permutation each pass."""

    def __init__(self, n: int, generator: torch.Generator):
        self.n, self.generator = n, generator
        self.order, self.position = torch.randperm(n, generator=generator), 0

    def take(self, count: int) -> torch.Tensor:
        parts = []
        while count > 0:
            if self.position == self.n:
                self.order, self.position = torch.randperm(self.n, generator=self.generator), 0
            part = self.order[self.position:self.position + count]
            self.position += len(part)
            count -= len(part)
            parts.append(part)
        return torch.cat(parts)

    def state_dict(self) -> dict[str, Any]:
        return {"order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.order, self.position = state["order"].clone(), int(state["position"])


class Training(ABC):
    """Subclasses build their parts in ``__init__`` (after calling this one's) and define
    ``train_step``; ``parts`` names what ``state_dict`` saves."""

    name = "training"

    def __init__(self, steps: int, seed: int):
        self.steps, self.step = steps, 0
        self.draws = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.global_rng = torch.get_rng_state()
        self.stats: dict[str, float] = {}

    @abstractmethod
    def train_step(self) -> dict[str, float]:
        """One step; returns the numbers worth logging."""

    @abstractmethod
    def parts(self) -> dict[str, Any]:
        """Modules, optimizers, schedulers, EMAs and cyclers by name."""

    def run(self, until: int | None = None, progress: bool = False,
            on_step: Any = None) -> None:
        """Train up to step ``until`` (default: the end); ``on_step(self, numbers)`` after
        each step, e.g. to log or checkpoint."""
        until = self.steps if until is None else min(until, self.steps)
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(self.global_rng)
            for _ in progress_bar(range(self.step, until), desc=self.name, unit="step",
                                  disable=not progress):
                numbers = self.train_step()
                self.step += 1
                self.global_rng = torch.get_rng_state()
                if on_step is not None:
                    on_step(self, numbers)

    def state_dict(self) -> dict[str, Any]:
        state = {"step": self.step, "draws": self.draws.get_state(),
                 "global_rng": self.global_rng.clone(), "stats": dict(self.stats)}
        for key, part in self.parts().items():
            state[key] = ({"updates": part.updates, "model": part.model.state_dict()}
                          if isinstance(part, EMA) else part.state_dict())
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])
        self.draws.set_state(state["draws"])
        self.global_rng = state["global_rng"].clone()
        self.stats = dict(state["stats"])
        for key, part in self.parts().items():
            if isinstance(part, EMA):
                part.updates = int(state[key]["updates"])
                part.model.load_state_dict(state[key]["model"])
            else:
                part.load_state_dict(state[key])
