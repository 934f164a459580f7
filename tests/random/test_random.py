"""lamina.random: shapes, dtypes, seeds (int: repeatable, SeedGenerator: advancing), moments, errors."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, config
from lamina import random as lr

BACKENDS = ["torch", "jax", "numpy"]


def _np(x) -> np.ndarray:
    return np.asarray(backend.impl.convert_to_numpy(x))


# name -> (draw(seed), check(values))
DRAWS = {
    "normal": (lambda s: lr.normal((4000,), mean=1.0, stddev=2.0, seed=s),
               lambda v: abs(v.mean() - 1.0) < 0.15 and abs(v.std() - 2.0) < 0.15),
    "uniform": (lambda s: lr.uniform((4000,), minval=-1.0, maxval=3.0, seed=s),
                lambda v: v.min() >= -1.0 and v.max() < 3.0 and abs(v.mean() - 1.0) < 0.1),
    "truncated_normal": (lambda s: lr.truncated_normal((4000,), mean=0.0, stddev=1.0, seed=s),
                         lambda v: np.abs(v).max() <= 2.0 + 1e-6 and abs(v.std() - 0.88) < 0.05),
    "randint": (lambda s: lr.randint((4000,), 2, 5, seed=s),
                lambda v: set(np.unique(v)) == {2, 3, 4} and v.dtype == np.int32),
    "gamma": (lambda s: lr.gamma((4000,), alpha=3.0, seed=s), lambda v: abs(v.mean() - 3.0) < 0.15 and v.min() > 0),
    "beta": (lambda s: lr.beta((4000,), alpha=2.0, beta=6.0, seed=s),
             lambda v: abs(v.mean() - 0.25) < 0.02 and 0 <= v.min() and v.max() <= 1),
    "binomial": (lambda s: lr.binomial((4000,), counts=10, probabilities=0.3, seed=s),
                 lambda v: abs(v.mean() - 3.0) < 0.15 and set(np.unique(v)) <= set(range(11))),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(DRAWS))
def test_draws_have_their_distribution_and_an_int_seed_repeats_them(backend_name: str, name: str) -> None:
    draw, check = DRAWS[name]
    with backend.use(backend_name):
        values = _np(draw(3))
        assert values.shape == (4000,) and check(values), f"{name}: unexpected values {values[:5]}"
        np.testing.assert_array_equal(values, _np(draw(3)))
        assert not np.array_equal(values, _np(draw(4)))
        assert not np.array_equal(_np(draw(None)), _np(draw(None)))


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_a_seed_generator_advances_and_repeats_from_the_same_seed(backend_name: str) -> None:
    import lamina

    with backend.use(backend_name):
        lamina.set_random_seed(0)
        generator = lr.SeedGenerator(42)
        first, second = _np(lr.normal((5,), seed=generator)), _np(lr.normal((5,), seed=generator))
        assert not np.array_equal(first, second)
        lamina.set_random_seed(0)
        again = lr.SeedGenerator(42)
        np.testing.assert_array_equal(first, _np(lr.normal((5,), seed=again)))
        assert isinstance(generator, backend.impl.SeedGenerator)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_categorical_shuffle_and_dropout(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        logits = np.log(np.array([[0.1, 0.9, 0.0 + 1e-9], [0.5, 0.25, 0.25]], "float32"))
        samples = _np(lr.categorical(logits, 2000, seed=1))
        assert samples.shape == (2, 2000) and samples.dtype == np.int32
        assert abs((samples[0] == 1).mean() - 0.9) < 0.04 and (samples[0] == 2).sum() == 0
        assert abs((samples[1] == 0).mean() - 0.5) < 0.05
        x = np.arange(12).reshape(6, 2)
        shuffled = _np(lr.shuffle(B.convert_to_tensor(x), seed=2))
        assert sorted(map(tuple, shuffled)) == sorted(map(tuple, x))  # rows kept whole, order changed
        np.testing.assert_array_equal(_np(lr.shuffle(x, axis=1, seed=5)).sum(axis=1), x.sum(axis=1))
        dropped = _np(lr.dropout(np.ones((200, 50), "float32"), 0.25, seed=3))
        assert set(np.unique(dropped)) == {0.0, np.float32(1 / 0.75)} and abs((dropped == 0).mean() - 0.25) < 0.03
        patterned = _np(lr.dropout(np.ones((20, 30), "float32"), 0.5, noise_shape=(None, 1), seed=3))
        assert np.all(patterned == patterned[:, :1])


def test_dtypes_follow_floatx() -> None:
    with backend.use("jax"):
        assert _np(lr.normal((2,), seed=1)).dtype == np.float32
        assert _np(lr.uniform((2,), dtype="float16", seed=1)).dtype == np.float16
    config.set_floatx("float64")
    try:
        with backend.use("torch"):
            assert _np(lr.normal((2,), seed=1)).dtype == np.float64
    finally:
        config.set_floatx("float32")


def test_bad_arguments_raise_naming_them() -> None:
    with pytest.raises(ValueError, match="minval < maxval"):
        lr.randint((2,), 5, 5)
    with pytest.raises(ValueError, match="seed"):
        lr.normal((2,), seed="x")
    with pytest.raises(ValueError, match="shape"):
        lr.normal((2, -1))
    with pytest.raises(ValueError, match="rate"):
        lr.dropout(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="rank 2|logits"):
        lr.categorical(np.zeros(3), 2)
    with pytest.raises(ValueError, match="alpha"):
        lr.gamma((2,), alpha=0.0)
    with pytest.raises(ValueError, match="probabilities"):
        lr.binomial((2,), 3, 1.5)
    with pytest.raises(ValueError, match="float dtype"):
        lr.uniform((2,), dtype="int32")
    with pytest.raises(ValueError, match="SeedGenerator seed"):
        lr.SeedGenerator(1.5)


def test_draws_with_a_seed_generator_run_inside_jax_jit() -> None:
    import jax

    from lamina.backend.jax.core import StateScope

    with backend.use("jax"):
        generator = lr.SeedGenerator(1)

        def step(state):
            with StateScope(generator.variables, state):
                return lr.uniform((3,), seed=generator), [v.value for v in generator.variables]

        compiled = jax.jit(step)
        first, state = compiled([v.value for v in generator.variables])
        second, _ = compiled(state)
    assert not np.array_equal(np.asarray(first), np.asarray(second))
