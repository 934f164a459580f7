"""The process-wide random state: one seed for NumPy draws (initializers) and the backend's generator."""

from __future__ import annotations

import random
import sys

import numpy as np

_generator = np.random.default_rng()


def numpy_generator() -> np.random.Generator:
    return _generator


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy, Lamina's initializers and the backends, for repeatable runs.

    The active backend is seeded, and so is every other backend loaded so far: a model built after
    `backend.use(...)` draws repeatably too. Each backend keeps its own generator, which this seeds.
    """
    global _generator
    if not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}.")
    random.seed(seed)
    np.random.seed(seed)
    _generator = np.random.default_rng(seed)
    from lamina import backend

    backend.impl.set_seed(seed)
    for name in backend.BACKENDS:
        loaded = sys.modules.get(f"lamina.backend.{name}")
        if loaded is not None and loaded is not backend.impl:
            loaded.set_seed(seed)
