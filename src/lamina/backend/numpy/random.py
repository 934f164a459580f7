"""Random state of the numpy backend: one module-level np.random.Generator, reseeded by set_seed."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.backend.common import StatelessSeedGenerator
from lamina.backend.numpy.core import to_numpy_dtype

_generator = np.random.default_rng()

SeedGenerator = StatelessSeedGenerator


def generator() -> np.random.Generator:
    """The generator that every draw of this backend uses (replaced by set_seed)."""
    return _generator


def set_seed(seed: int) -> None:
    global _generator
    _generator = np.random.default_rng(seed)


def _draw_dtype(dtype: Any) -> np.dtype:
    """NumPy draws only float32 and float64: draw in float64 for float64, else float32, then cast."""
    return np.dtype(np.float64) if to_numpy_dtype(dtype) == np.float64 else np.dtype(np.float32)


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = "float32",
                   seed: Any = None) -> np.ndarray:
    draws = _generator.random(tuple(shape), dtype=_draw_dtype(dtype))
    return (draws * (maxval - minval) + minval).astype(to_numpy_dtype(dtype), copy=False)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                  seed: Any = None) -> np.ndarray:
    draws = _generator.standard_normal(tuple(shape), dtype=_draw_dtype(dtype))
    return (draws * stddev + mean).astype(to_numpy_dtype(dtype), copy=False)


def random_permutation(n: int, seed: Any = None) -> np.ndarray:
    return _generator.permutation(n)
