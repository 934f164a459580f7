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


def pytest_configure(config: pytest.Config) -> None:
    # Each xdist worker has a core: torch's own thread pool on top makes the workers spin against each other
    # (the torch tests ran 2-3x slower with it).
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(int(os.environ.get("LAMINA_TEST_TORCH_THREADS", "1")))
