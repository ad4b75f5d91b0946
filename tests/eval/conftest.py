"""Shared fixtures of the evaluation tests: one cache for them all, away from the user's (the
reference's features and floors are computed once per test session), the MNIST reference."""

from __future__ import annotations

import pytest

from augkit.eval import load_reference


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUGKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def mnist():
    return load_reference("mnist")
