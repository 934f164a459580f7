"""lamina.set_random_seed makes every backend's unseeded draws repeatable."""

from __future__ import annotations

import numpy as np

import lamina
from lamina import backend


def unseeded_draws() -> list[np.ndarray]:
    """Uniform and normal draws, a seed generator's first key-driven draw and a permutation, none seeded."""
    B = backend.impl
    generator = B.SeedGenerator()
    return [B.convert_to_numpy(value) for value in (
        B.random_uniform((3, 4)), B.random_normal((5,)), B.random_uniform((2,), seed=generator),
        B.random_permutation(10))]


def test_the_same_seed_repeats_the_draws_and_another_seed_changes_them(training_backend):
    lamina.set_random_seed(11)
    first = unseeded_draws()
    lamina.set_random_seed(11)
    again = unseeded_draws()
    lamina.set_random_seed(12)
    other = unseeded_draws()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_a_seed_set_under_one_backend_also_seeds_the_others_already_loaded():
    with backend.use("jax"):
        pass
    draws = []
    for _ in range(2):
        with backend.use("torch"):
            lamina.set_random_seed(5)
        with backend.use("jax"):
            draws.append(unseeded_draws())
    for a, b in zip(*draws):
        np.testing.assert_array_equal(a, b)
