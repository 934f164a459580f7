"""Random state of the jax backend: explicit keys, kept in a variable so jitted steps carry them.

Draws without a seed start from keys that this module's NumPy generator picks; set_seed reseeds it.
An int seed is a stateless draw from the key of that int.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from lamina.backend.common import generator_from_state, generator_state
from lamina.backend.jax.core import Variable, convert_to_tensor, to_jax_dtype

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


def global_random_state() -> dict[str, np.ndarray]:
    """The state of the generator behind unseeded draws (and, on jax, the starts of unseeded generators)."""
    return {"host": generator_state(_generator)}


def set_global_random_state(state: dict[str, np.ndarray]) -> None:
    """Restore what global_random_state gave: the unseeded draws that followed it come again."""
    global _generator
    if "host" in state:
        _generator = generator_from_state(state["host"])


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


def random_truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                            seed: Any = None) -> Any:
    unit = jax.random.truncated_normal(_key(seed), -2.0, 2.0, tuple(shape), to_jax_dtype(dtype))
    return mean + stddev * unit


def random_randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> Any:
    return jax.random.randint(_key(seed), tuple(shape), minval, maxval, to_jax_dtype(dtype))


def random_categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Any:
    logits = convert_to_tensor(logits)
    draws = jax.random.categorical(_key(seed), logits, axis=-1, shape=(int(num_samples), logits.shape[0]))
    return jnp.transpose(draws).astype(to_jax_dtype(dtype))


def random_shuffle(x: Any, axis: int = 0, seed: Any = None) -> Any:
    return jax.random.permutation(_key(seed), convert_to_tensor(x), axis=axis, independent=False)


def random_gamma(shape: Any, alpha: Any, dtype: Any = "float32", seed: Any = None) -> Any:
    return jax.random.gamma(_key(seed), jnp.asarray(alpha, jnp.float32), tuple(shape)).astype(to_jax_dtype(dtype))


def random_beta(shape: Any, alpha: Any, beta: Any, dtype: Any = "float32", seed: Any = None) -> Any:
    draws = jax.random.beta(_key(seed), jnp.asarray(alpha, jnp.float32), jnp.asarray(beta, jnp.float32),
                            tuple(shape))
    return draws.astype(to_jax_dtype(dtype))


def random_binomial(shape: Any, counts: Any, probabilities: Any, dtype: Any = "float32", seed: Any = None) -> Any:
    draws = jax.random.binomial(_key(seed), jnp.asarray(counts, jnp.float32),
                                jnp.asarray(probabilities, jnp.float32), tuple(shape))
    return draws.astype(to_jax_dtype(dtype))


def random_permutation(n: int, seed: Any = None) -> Any:
    if seed is None:
        return jnp.asarray(_generator.permutation(n).astype(np.int32))
    return jax.random.permutation(_key(seed), n)
