"""Shared fixtures of the evaluation tests: a private cache, the MNIST reference."""

from __future__ import annotations

import pytest

from augkit.eval import load_reference


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUGKIT_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def mnist():
    return load_reference("mnist")
