"""Random state of the numpy backend: one module-level np.random.Generator, reseeded by set_seed.

An int seed makes a draw stateless: it runs on a fresh generator seeded with that int.
"""

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


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, int) and not isinstance(seed, bool):
        return np.random.default_rng(seed)
    return _generator


def _draw_dtype(dtype: Any) -> np.dtype:
    """NumPy draws only float32 and float64: draw in float64 for float64, else float32, then cast."""
    return np.dtype(np.float64) if to_numpy_dtype(dtype) == np.float64 else np.dtype(np.float32)


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = "float32",
                   seed: Any = None) -> np.ndarray:
    draws = _rng(seed).random(tuple(shape), dtype=_draw_dtype(dtype))
    return (draws * (maxval - minval) + minval).astype(to_numpy_dtype(dtype), copy=False)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                  seed: Any = None) -> np.ndarray:
    draws = _rng(seed).standard_normal(tuple(shape), dtype=_draw_dtype(dtype))
    return (draws * stddev + mean).astype(to_numpy_dtype(dtype), copy=False)


def random_truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                            seed: Any = None) -> np.ndarray:
    rng = _rng(seed)
    values = rng.standard_normal(tuple(shape))
    outside = np.abs(values) > 2.0
    while outside.any():  # redraw the few outside two standard deviations
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2.0
    return (values * stddev + mean).astype(to_numpy_dtype(dtype))


def random_randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> np.ndarray:
    return _rng(seed).integers(int(minval), int(maxval), size=tuple(shape)).astype(to_numpy_dtype(dtype))


def random_categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> np.ndarray:
    logits = np.asarray(logits, np.float64)
    cumulative = np.cumsum(np.exp(logits - logits.max(axis=-1, keepdims=True)), axis=-1)
    cumulative /= cumulative[:, -1:]
    uniform = _rng(seed).random((logits.shape[0], int(num_samples)))
    draws = np.stack([np.searchsorted(c, u, side="right") for c, u in zip(cumulative, uniform)]) \
        if logits.shape[0] else np.zeros((0, int(num_samples)), np.int64)
    return np.minimum(draws, logits.shape[-1] - 1).astype(to_numpy_dtype(dtype))


def random_shuffle(x: Any, axis: int = 0, seed: Any = None) -> np.ndarray:
    return _rng(seed).permutation(np.asarray(x), axis=axis)


def random_gamma(shape: Any, alpha: Any, dtype: Any = "float32", seed: Any = None) -> np.ndarray:
    return _rng(seed).standard_gamma(alpha, size=tuple(shape)).astype(to_numpy_dtype(dtype))


def random_beta(shape: Any, alpha: Any, beta: Any, dtype: Any = "float32", seed: Any = None) -> np.ndarray:
    return _rng(seed).beta(alpha, beta, size=tuple(shape)).astype(to_numpy_dtype(dtype))


def random_binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = "float32",
                    seed: Any = None) -> np.ndarray:
    counts = np.asarray(counts).astype(np.int64)
    return _rng(seed).binomial(counts, probabilities, size=tuple(shape)).astype(to_numpy_dtype(dtype))


def random_permutation(n: int, seed: Any = None) -> np.ndarray:
    return _rng(seed).permutation(n)
