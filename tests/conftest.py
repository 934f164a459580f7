"""Shared fixtures: run a test under each training backend, with a fixed seed."""

from __future__ import annotations

import os
from typing import Iterator

# The suite compiles hundreds of tiny jax programs: optimizing their machine code costs more than running
# them (about a fifth of the jax tests' time). Set before jax is imported; a user's XLA_FLAGS wins.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import pytest

import lamina
from lamina import backend


@pytest.fixture(params=["torch", "jax"])
def training_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test body runs with this backend active, and a seeded random state."""
    with backend.use(request.param):
        lamina.set_random_seed(1234)
        yield request.param
