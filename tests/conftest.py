"""Shared fixtures: run a test under each training backend, with a fixed seed."""

from __future__ import annotations

from typing import Iterator

import pytest

import lamina
from lamina import backend


@pytest.fixture(params=["torch", "jax"])
def training_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test body runs with this backend active, and a seeded random state."""
    with backend.use(request.param):
        lamina.set_random_seed(1234)
        yield request.param
