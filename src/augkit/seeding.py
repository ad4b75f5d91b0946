"""Seeds and random state: one way to derive a seed from others, and a guard that keeps
library code off the caller's global random state."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator

import torch


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


__all__ = ["derive_seed", "seeded"]
