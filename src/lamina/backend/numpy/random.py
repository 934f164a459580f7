"""Random state of the numpy backend: one module-level np.random.Generator, reseeded by set_seed.

An int seed makes a draw stateless: it runs on a fresh generator seeded with that int. A SeedGenerator
made with a seed holds a (seed, counter) variable; each draw runs on a fresh generator seeded with it and
advances the counter. An unseeded SeedGenerator draws from the module's generator, as None does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.backend.common import generator_from_state, generator_state
from lamina.backend.numpy.core import Variable, to_numpy_dtype

_generator = np.random.default_rng()


class SeedGenerator:
    """The random state of one layer: with a seed, a (seed, counter) variable that each draw advances."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self.state = None if seed is None else Variable(
            np.array([seed, 0], np.int64), dtype="int64", trainable=False, name="seed_state",
            path="seed_generator/seed_state")

    @property
    def variables(self) -> list[Variable]:
        """The state that a step carries; empty for an unseeded generator (it uses the module's generator)."""
        return [] if self.state is None else [self.state]

    def next(self) -> np.ndarray | None:
        """The (seed, counter) of the next draw; the state moves on. None when unseeded."""
        if self.state is None:
            return None
        current = np.array(self.state.value)
        self.state.assign(current + np.array([0, 1], np.int64))
        return current


def generator() -> np.random.Generator:
    """The generator that every draw of this backend uses (replaced by set_seed)."""
    return _generator


def global_random_state() -> dict[str, np.ndarray]:
    """The state of the generator behind unseeded draws (and, on jax, the starts of unseeded generators)."""
    return {"host": generator_state(_generator)}


def set_global_random_state(state: dict[str, np.ndarray]) -> None:
    """Restore what global_random_state gave: the unseeded draws that followed it come again."""
    global _generator
    if "host" in state:
        _generator = generator_from_state(state["host"])


def set_seed(seed: int) -> None:
    global _generator
    _generator = np.random.default_rng(seed)


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, SeedGenerator):
        key = seed.next()
        return _generator if key is None else np.random.default_rng([int(k) % 2**63 for k in key])
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


def dropout_draw(x: Any, rate: float, seed: Any = None) -> np.ndarray:
    """nn's dropout: the keep mask drawn from `seed` (the module's generator when None or unseeded)."""
    x = np.asarray(x)
    if rate >= 1.0:
        return np.zeros_like(x)
    keep = _rng(seed).random(x.shape, dtype=np.float32) >= rate
    return x * keep / (1.0 - rate)
