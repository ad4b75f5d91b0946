"""Shared fixtures of the evaluation tests: a cache private to each test module (so the
floors a module computes are computed once), the MNIST reference."""

from __future__ import annotations

import pytest

from augkit.eval import load_reference


@pytest.fixture(autouse=True, scope="module")
def _private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUGKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def mnist():
    return load_reference("mnist")
