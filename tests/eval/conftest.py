"""Shared fixtures of the evaluation tests: one cache for them all, away from the user's (the
reference's features and floors are computed once per test session), the MNIST reference
whole and cut to its first 2,000 test digits."""

from __future__ import annotations

import dataclasses

import pytest

from augkit.eval import load_reference


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUGKIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def mnist_full():
    return load_reference("mnist")


@pytest.fixture(scope="session")
def mnist(mnist_full):
    """MNIST judged on its first 2,000 test digits by the shipped net: the metrics behave as on
    the whole split at a fifth of the feature work, and no shipped floor applies to it."""
    return dataclasses.replace(
        mnist_full, name="mnist-test2000", key="mnist-test2000",
        test_images=mnist_full.test_images[:2000], test_labels=mnist_full.test_labels[:2000],
        _net=mnist_full.feature_net(progress=False), _features={})
