"""Where random transforms get their ``torch.Generator`` from.

A transform built with ``seed=S`` owns a CPU generator seeded with ``S``. Inside a DataLoader
worker that generator is re-seeded once per worker from ``(S, worker_info.seed)``: workers
draw different streams, a new epoch's workers draw new ones, and the whole run is
reproducible when the DataLoader's own seed is fixed (``torch.manual_seed`` or its
``generator=``). Without a seed, draws come from torch's global generator, which torch
already seeds per worker.
"""

from __future__ import annotations

import torch
from torch.utils.data import get_worker_info

from augkit.errors import AugkitError, AugkitTypeError
from augkit.seeding import check_seed, derive_seed


class RandomSource:
    """A lazily created, picklable, worker-aware ``torch.Generator``."""

    def __init__(self, seed: int | None = None, generator: torch.Generator | None = None):
        if seed is not None and generator is not None:
            raise AugkitError("seed and generator: give one or the other, not both")
        if seed is not None:
            seed = check_seed(seed)
        if generator is not None and not isinstance(generator, torch.Generator):
            raise AugkitTypeError("generator: expected a torch.Generator, got "
                                  f"{type(generator).__name__}")
        if generator is not None and generator.device.type != "cpu":
            raise AugkitError(f"generator: must be a CPU generator, got device {generator.device}")
        self.seed = seed
        self._generator = generator
        self._worker_key: tuple[int, int] | None = None

    def get(self) -> torch.Generator | None:
        """The generator to draw from now; ``None`` means torch's global generator."""
        if self.seed is None and self._generator is None:
            return None
        info = get_worker_info()
        key = None if info is None else (info.id, info.seed)
        if self._generator is None or key != self._worker_key:
            base = self.seed if self.seed is not None else self._generator.initial_seed()
            seed = base if key is None else derive_seed(base, key[1])
            self._generator = torch.Generator().manual_seed(seed)
            self._worker_key = key
        return self._generator

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        generator = state.pop("_generator")
        state["_generator_state"] = None if generator is None else generator.get_state()
        state["_generator_seed"] = None if generator is None else generator.initial_seed()
        return state

    def __setstate__(self, state: dict) -> None:
        generator_state = state.pop("_generator_state")
        generator_seed = state.pop("_generator_seed")
        self.__dict__.update(state)
        self._generator = None
        if generator_state is not None:
            self._generator = torch.Generator().manual_seed(generator_seed)
            self._generator.set_state(generator_state)
