"""Building applications fast: weights start as zeros (no random draws) where only their shapes matter."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest

from lamina import backend
from lamina.layers import layer as layer_module


class _ZerosOnly:
    @staticmethod
    def get(identifier: object) -> object:
        return lambda shape, dtype=None: np.zeros(shape, dtype)


@pytest.fixture
def zero_init(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Layers created in the test get all-zero weights, which numpy allocates lazily."""
    monkeypatch.setattr(layer_module, "initializers", _ZerosOnly)
    with backend.use("numpy"):
        yield


@pytest.fixture
def zero_init_abstract(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As zero_init, on jax: building infers shapes without computing (the numpy backend computes its
    symbolic passes on placeholder data, slow for ConvNeXt's dense layers on 4D inputs)."""
    monkeypatch.setattr(layer_module, "initializers", _ZerosOnly)
    with backend.use("jax"):
        yield


@pytest.fixture(params=["numpy", "torch", "jax"])
def any_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    with backend.use(request.param):
        yield request.param
