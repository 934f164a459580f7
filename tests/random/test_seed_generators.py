"""A SeedGenerator made with a seed owns its random state on every backend: same seed, same draws."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina import random as lr
from lamina.layers import Dense, Dropout, GaussianNoise
from lamina.models import Sequential

STATEFUL = ["torch", "numpy"]  # the backends whose seed generators were stateless before

DRAWS = {
    "uniform": lambda s: lr.uniform((40,), seed=s),
    "normal": lambda s: lr.normal((41,), seed=s),
    "truncated_normal": lambda s: lr.truncated_normal((40,), seed=s),
    "randint": lambda s: lr.randint((40,), 0, 1000, seed=s),
    "categorical": lambda s: lr.categorical(np.zeros((2, 50), "float32"), 20, seed=s),
    "dropout": lambda s: lr.dropout(np.ones((40,), "float32"), 0.5, seed=s),
    "shuffle": lambda s: lr.shuffle(np.arange(40), seed=s),
    "gamma": lambda s: lr.gamma((40,), 0.7, seed=s),
    "beta": lambda s: lr.beta((40,), 2.0, 3.0, seed=s),
    "binomial": lambda s: lr.binomial((40,), 50, 0.5, seed=s),
}


def _numpy(x) -> np.ndarray:
    return np.asarray(backend.impl.convert_to_numpy(x))


@pytest.mark.parametrize("name", STATEFUL)
@pytest.mark.parametrize("draw", sorted(DRAWS))
def test_generators_with_one_seed_repeat_each_others_draws(name: str, draw: str) -> None:
    with backend.use(name):
        first, second, other = lr.SeedGenerator(5), lr.SeedGenerator(5), lr.SeedGenerator(6)
        a1, a2 = _numpy(DRAWS[draw](first)), _numpy(DRAWS[draw](first))
        b1, b2 = _numpy(DRAWS[draw](second)), _numpy(DRAWS[draw](second))
        np.testing.assert_array_equal(a1, b1)
        np.testing.assert_array_equal(a2, b2)
        assert not np.array_equal(a1, a2)  # each draw moves the state on
        assert not np.array_equal(a1, _numpy(DRAWS[draw](other)))
        np.testing.assert_array_equal(_numpy(DRAWS[draw](9)), _numpy(DRAWS[draw](9)))  # an int: stateless


@pytest.mark.parametrize("name", STATEFUL)
def test_seeded_draws_follow_their_distributions(name: str) -> None:
    with backend.use(name):
        seed = lr.SeedGenerator(11)
        uniform = _numpy(lr.uniform((20000,), -1.0, 3.0, seed=seed))
        assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.05
        normal = _numpy(lr.normal((20001,), 2.0, 0.5, seed=seed))
        assert abs(normal.mean() - 2.0) < 0.02 and abs(normal.std() - 0.5) < 0.02
        truncated = _numpy(lr.truncated_normal((20000,), seed=seed))
        assert np.abs(truncated).max() <= 2.0 and abs(truncated.std() - 0.88) < 0.03
        ints = _numpy(lr.randint((20000,), -3, 5, seed=seed))
        np.testing.assert_array_equal(np.unique(ints), np.arange(-3, 5))
        for alpha in (0.5, 4.0):
            gamma = _numpy(lr.gamma((20000,), alpha, seed=seed))
            assert abs(gamma.mean() - alpha) < 0.05 * alpha + 0.02 and abs(gamma.var() - alpha) < 0.1 * alpha
        beta = _numpy(lr.beta((20000,), 2.0, 3.0, seed=seed))
        assert abs(beta.mean() - 0.4) < 0.01 and abs(beta.std() - 0.2) < 0.01
        classes = _numpy(lr.categorical(np.log([[0.2, 0.8]]), 20000, seed=seed))
        assert abs(classes.mean() - 0.8) < 0.02
        kept = _numpy(lr.dropout(np.ones((20000,), "float32"), 0.3, seed=seed))
        assert abs((kept > 0).mean() - 0.7) < 0.02 and np.allclose(kept[kept > 0], 1 / 0.7)
        assert sorted(_numpy(lr.shuffle(np.arange(100), seed=seed)).tolist()) == list(range(100))


@pytest.mark.parametrize("name", STATEFUL)
def test_restoring_the_state_variable_repeats_the_draws(name: str) -> None:
    with backend.use(name):
        seed = lr.SeedGenerator(3)
        assert len(seed.variables) == 1
        lr.normal((4,), seed=seed)
        saved = seed.variables[0].numpy().copy()
        first = _numpy(lr.normal((4,), seed=seed))
        seed.variables[0].assign(saved)
        np.testing.assert_array_equal(_numpy(lr.normal((4,), seed=seed)), first)


@pytest.mark.parametrize("name", STATEFUL)
def test_an_unseeded_generator_draws_from_the_global_generator(name: str) -> None:
    with backend.use(name):
        seed = lr.SeedGenerator()
        assert list(seed.variables) == []
        lamina.utils.set_random_seed(4)
        first = _numpy(lr.uniform((5,), seed=seed))
        lamina.utils.set_random_seed(4)
        np.testing.assert_array_equal(_numpy(lr.uniform((5,), seed=seed)), first)
        assert not np.array_equal(_numpy(lr.uniform((5,), seed=seed)), first)


@pytest.mark.parametrize("name", STATEFUL)
@pytest.mark.parametrize("make", [lambda: Dropout(0.5, seed=7), lambda: GaussianNoise(1.0, seed=7)])
def test_a_seeded_layer_draws_the_same_noise_in_two_fresh_models(name: str, make) -> None:
    with backend.use(name):
        x = np.ones((4, 16), "float32")
        outputs = []
        for global_seed in (1, 2):  # the global generator must not matter
            lamina.utils.set_random_seed(global_seed)
            layer = make()
            outputs.append([_numpy(layer(x, training=True)) for _ in range(2)])
        np.testing.assert_array_equal(outputs[0][0], outputs[1][0])
        np.testing.assert_array_equal(outputs[0][1], outputs[1][1])
        assert not np.array_equal(outputs[0][0], outputs[0][1])


def _fit(global_seed: int, jit_compile: bool = False, epochs: int = 2) -> tuple[list, list]:
    """Weights after fit, and the dropout state at the end of each epoch."""
    lamina.utils.set_random_seed(global_seed)
    dropout = Dropout(0.5, seed=3)
    model = Sequential([Dense(8, kernel_initializer="ones", input_shape=(4,)), dropout,
                        Dense(1, kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="mse", jit_compile=jit_compile)
    states = []
    callback = lamina.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: states.append(dropout.seed_generator.variables[0].numpy().copy()))
    x = np.linspace(-1, 1, 32, dtype="float32").reshape(8, 4)
    y = np.linspace(0, 1, 8, dtype="float32").reshape(8, 1)
    model.fit(x, y, epochs=epochs, batch_size=4, shuffle=False, verbose=0, callbacks=[callback])
    return model.get_weights(), states


def test_fit_with_a_seeded_dropout_is_reproducible_and_advances_the_state() -> None:
    with backend.use("torch"):
        first, states = _fit(1)
        again, _ = _fit(2)  # another global seed: the layer's own seed decides the masks
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(states[0], states[1])  # two steps an epoch move the state on
        masks = []
        for state in states:
            seed = lr.SeedGenerator(3)
            seed.variables[0].assign(state)
            masks.append(_numpy(lr.dropout(np.ones((64,), "float32"), 0.5, seed=seed)))
        assert not np.array_equal(masks[0], masks[1])


def test_a_compiled_torch_step_draws_the_eager_masks(monkeypatch) -> None:
    from lamina.backend.torch import trainer as torch_trainer

    monkeypatch.setattr(torch_trainer, "COMPILE_BACKEND", "aot_eager")  # the capture is what is tested
    with backend.use("torch"):
        eager, eager_states = _fit(1, epochs=1)
        compiled, compiled_states = _fit(1, jit_compile=True, epochs=1)
    np.testing.assert_array_equal(eager_states[0], compiled_states[0])
    for a, b in zip(eager, compiled):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_restoring_the_global_random_state_repeats_unseeded_draws(name: str) -> None:
    """What BackupAndRestore stores besides the variables: the generators behind draws without a seed."""
    with backend.use(name) as B:
        state = B.global_random_state()
        assert state and all(np.asarray(value).dtype == np.uint8 for value in state.values())
        first = B.convert_to_numpy(lr.normal((20,)))
        assert not np.array_equal(B.convert_to_numpy(lr.normal((20,))), first)
        B.set_global_random_state(state)
        np.testing.assert_array_equal(B.convert_to_numpy(lr.normal((20,))), first)
        with pytest.raises(ValueError, match="random"):
            B.set_global_random_state({key: np.zeros(3, np.uint8) for key in state})
