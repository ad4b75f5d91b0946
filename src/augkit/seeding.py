"""Seeds and random state: one way to derive a seed from others, and a guard that keeps
library code off the caller's global random state."""

from __future__ import annotations

import contextlib
import hashlib
import numbers
from collections.abc import Iterator

import torch

from augkit.errors import AugkitError


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` as a Python int when it is an integer >= 0 (numpy's and torch's integer
    scalars too); one line naming ``name`` otherwise."""
    if isinstance(seed, torch.Tensor) and seed.ndim == 0 and not seed.dtype.is_floating_point:
        seed = seed.item()
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise AugkitError(f"{name}: {seed!r} is not allowed; expected an integer >= 0")
    return int(seed)


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers (a base seed and what it is for, e.g. a rank, a
    chunk index); stable across runs and platforms."""
    digest = hashlib.blake2b(" ".join(str(int(p)) for p in parts).encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") >> 1


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global generator seeded with ``seed`` (for layer
    initialisation and dropout), and give the caller's global random state back after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


__all__ = ["check_seed", "derive_seed", "seeded"]
