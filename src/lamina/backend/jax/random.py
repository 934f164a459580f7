"""Random state of the jax backend: explicit keys, kept in a variable so jitted steps carry them.

Draws without a seed start from keys that this module's NumPy generator picks; set_seed reseeds it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from lamina.backend.jax.core import Variable, to_jax_dtype

_generator = np.random.default_rng()


def _fresh_seed() -> int:
    return int(_generator.integers(0, 2**31 - 1))


class SeedGenerator:
    """Hands out a fresh key per draw; its state is a variable, threaded through jitted steps."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        start = seed if seed is not None else _fresh_seed()
        with jax.ensure_compile_time_eval():
            key = np.asarray(jax.random.key_data(jax.random.PRNGKey(start)))
        self.state = Variable(key, dtype="uint32", trainable=False, name="seed_state",
                              path="seed_generator/seed_state")

    @property
    def variables(self) -> list[Variable]:
        """The state that a jitted step carries in and out."""
        return [self.state]

    def next(self) -> Any:
        key, new_state = jax.random.split(self.state.value)
        self.state.assign(new_state)
        return key


def set_seed(seed: int) -> None:
    """Make the keys of unseeded draws, seed generators and permutations repeatable."""
    global _generator
    _generator = np.random.default_rng(seed)


def _key(seed: Any) -> Any:
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        seed = _fresh_seed()
    return jax.random.PRNGKey(seed)


def random_uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = "float32",
                   seed: Any = None) -> Any:
    return jax.random.uniform(_key(seed), tuple(shape), to_jax_dtype(dtype), minval, maxval)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                  seed: Any = None) -> Any:
    return mean + stddev * jax.random.normal(_key(seed), tuple(shape), to_jax_dtype(dtype))


def random_permutation(n: int, seed: Any = None) -> Any:
    return jnp.asarray(_generator.permutation(n).astype(np.int32))
