"""Random draws by keras.random's names, on the active backend.

`seed` is None (the backend's global state: repeatable after lamina.utils.set_random_seed), an int (a
stateless draw: the same int gives the same values again) or a SeedGenerator (each draw advances it; the
form to use inside layers and jitted steps).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from lamina import backend, config

__all__ = ["SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
           "truncated_normal", "uniform"]


class SeedGenerator:
    """The random state of one layer or loop: `SeedGenerator(seed)` makes the active backend's generator.

    On jax its state is a variable that jitted steps carry; on torch and numpy it draws from the backend's
    global generator (seeded by lamina.utils.set_random_seed).
    """

    def __new__(cls, seed: int | None = None, name: str | None = None, **kwargs: Any) -> Any:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"SeedGenerator seed must be an int or None, got {seed!r}.")
        if kwargs:
            raise TypeError(f"SeedGenerator got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        return backend.impl.SeedGenerator(seed)


def _seed(seed: Any) -> Any:
    if seed is None or isinstance(seed, backend.impl.SeedGenerator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be None, an int or a SeedGenerator, got {seed!r}.")
    return int(seed)


def _shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    try:
        shape = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a tuple of non-negative ints, got {shape!r}.") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"shape must be a tuple of non-negative ints, got {shape!r}.")
    return shape


def _float(dtype: Any) -> str:
    return dtype if dtype is not None else config.floatx()


def normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None) -> Any:
    """Draws from a normal distribution."""
    return backend.impl.random_normal(_shape(shape), mean, stddev, _float(dtype), _seed(seed))


def uniform(shape: Sequence[int], minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Any:
    """Draws from the uniform distribution on [minval, maxval)."""
    if dtype is not None and not str(dtype).startswith(("float", "bfloat")):
        raise ValueError(f"uniform draws floats: dtype must be a float dtype, got {dtype!r}. Use randint for ints.")
    return backend.impl.random_uniform(_shape(shape), minval, maxval, _float(dtype), _seed(seed))


def truncated_normal(shape: Sequence[int], mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> Any:
    """Normal draws, redrawn when further than two standard deviations from the mean."""
    return backend.impl.random_truncated_normal(_shape(shape), mean, stddev, _float(dtype), _seed(seed))


def randint(shape: Sequence[int], minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> Any:
    """Integers drawn uniformly from [minval, maxval)."""
    if not minval < maxval:
        raise ValueError(f"randint needs minval < maxval, got minval={minval!r}, maxval={maxval!r}.")
    return backend.impl.random_randint(_shape(shape), minval, maxval, dtype, _seed(seed))


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Any:
    """`num_samples` class indices per row of the (batch, classes) logits, as a (batch, num_samples) tensor."""
    rank = len(backend.impl.shape(logits))
    if rank != 2:
        raise ValueError(f"categorical expects logits of shape (batch_size, num_classes), got rank {rank}.")
    return backend.impl.random_categorical(logits, int(num_samples), dtype, _seed(seed))


def dropout(inputs: Any, rate: float, noise_shape: Sequence[int | None] | None = None, seed: Any = None) -> Any:
    """inputs with a fraction `rate` set to zero and the rest scaled by 1 / (1 - rate).

    noise_shape: the shape of the keep/drop pattern, broadcast over the inputs (None entries take the inputs'
    size).
    """
    B = backend.impl
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout rate must be in [0, 1], got {rate!r}.")
    inputs = B.convert_to_tensor(inputs)
    if rate == 1.0:
        return B.zeros_like(inputs)
    shape = tuple(B.shape(inputs))
    if noise_shape is None:
        noise = shape
    else:
        if len(noise_shape) != len(shape):
            raise ValueError(f"dropout noise_shape {tuple(noise_shape)} must have the rank of the inputs {shape}.")
        noise = tuple(s if d is None else int(d) for d, s in zip(noise_shape, shape))
    keep = B.greater_equal(B.random_uniform(noise, 0.0, 1.0, B.dtype_of(inputs), _seed(seed)), rate)
    return B.where(keep, B.divide(inputs, 1.0 - rate), B.zeros_like(inputs))


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Any:
    """x in a random order along `axis`."""
    return backend.impl.random_shuffle(x, axis, _seed(seed))


def _positive(value: Any, name: str) -> None:
    if isinstance(value, numbers.Real) and not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}.")


def gamma(shape: Sequence[int], alpha: float, dtype: Any = None, seed: Any = None) -> Any:
    """Gamma draws of concentration `alpha` (scale 1)."""
    _positive(alpha, "alpha")
    return backend.impl.random_gamma(_shape(shape), alpha, _float(dtype), _seed(seed))


def beta(shape: Sequence[int], alpha: float, beta: float, dtype: Any = None, seed: Any = None) -> Any:
    """Beta(alpha, beta) draws in [0, 1]."""
    _positive(alpha, "alpha")
    _positive(beta, "beta")
    return backend.impl.random_beta(_shape(shape), alpha, beta, _float(dtype), _seed(seed))


def binomial(shape: Sequence[int], counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None) -> Any:
    """The number of successes among `counts` trials, each succeeding with `probabilities`."""
    if isinstance(probabilities, numbers.Real) and not 0.0 <= probabilities <= 1.0:
        raise ValueError(f"probabilities must be in [0, 1], got {probabilities!r}.")
    if isinstance(counts, numbers.Real) and (counts < 0 or not math.isfinite(counts)):
        raise ValueError(f"counts must be a non-negative number, got {counts!r}.")
    return backend.impl.random_binomial(_shape(shape), counts, probabilities, _float(dtype), _seed(seed))
