"""Adamax, Nadam, Adadelta, Adafactor, Ftrl, Lion, Lamb, Muon, ScheduleFreeAdamW and MultiOptimizer in fit,
by name and in configs, with state for variables added after the build, and saved with a model."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, layers, models, optimizers

NAMES = ["adamax", "nadam", "adadelta", "adafactor", "ftrl", "lion", "lamb", "muon", "schedulefreeadamw"]
# Rates at which three epochs of the small problem below visibly lower the loss.
RATES = {"adadelta": 1.0, "ftrl": 0.1, "lion": 0.01}
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 6)).astype("float32")
Y = np.tanh(X @ rng.normal(size=(6, 1))).astype("float32")


def small_model(hidden: int = 2) -> models.Sequential:
    lamina.set_random_seed(1)
    stack = [layers.Dense(8, activation="tanh", name=f"hidden_{i}") for i in range(hidden)]
    return models.Sequential([layers.Input((6,)), *stack, layers.Dense(1, name="head")])


def fit_losses(model: models.Sequential, optimizer, epochs: int = 3) -> list[float]:
    model.compile(optimizer=optimizer, loss="mse")
    return model.fit(X, Y, epochs=epochs, batch_size=16, verbose=0).history["loss"]


@pytest.mark.parametrize("name", NAMES)
def test_fit_by_name_lowers_the_loss_on_torch(name: str) -> None:
    with backend.use("torch"):
        optimizer = optimizers.get(name)
        if name in RATES:
            optimizer.learning_rate = RATES[name]
        losses = fit_losses(small_model(1), optimizer)
    assert losses[-1] < losses[0] and np.isfinite(losses).all(), losses


def every_optimizer_map() -> optimizers.OptimizerMap:
    """One optimizer per layer (a layer's kernel and bias together), so one jitted step runs them all."""
    chosen = {name: optimizers.get(name) for name in NAMES}
    for name, rate in RATES.items():
        chosen[name].learning_rate = rate
    *hidden, head = NAMES
    mapping = {f"hidden_{i}/.*": chosen[name] for i, name in enumerate(hidden)}
    return optimizers.OptimizerMap(chosen[head], mapping)


def test_fit_with_every_optimizer_at_once_on_jax() -> None:
    """Inside jax's jitted step: each optimizer's update is traceable (no host reads, no Python branches)."""
    with backend.use("jax"):
        model = small_model(len(NAMES) - 1)
        multi = optimizers.MultiOptimizer(every_optimizer_map())
        losses = fit_losses(model, multi)
        assert [type(o).__name__ for o in multi.optimizers] == ["Adamax", "Nadam", "Adadelta", "Adafactor", "Ftrl",
                                                               "Lion", "Lamb", "Muon", "ScheduleFreeAdamW"]
        steps = [int(backend.impl.convert_to_numpy(o.iterations)) for o in multi.optimizers]
        assert steps == [12] * len(NAMES) and int(backend.impl.convert_to_numpy(multi.iterations)) == 12
    assert losses[-1] < losses[0] and np.isfinite(losses).all(), losses


@pytest.mark.parametrize("name", NAMES)
def test_get_by_name_and_config_round_trip(name: str) -> None:
    optimizer = optimizers.get(name)
    assert type(optimizer).__name__.lower() == name
    config = optimizer.get_config()
    assert type(optimizer).from_config(config).get_config() == config
    again = optimizers.get(optimizers.serialize(optimizer))
    assert type(again) is type(optimizer) and again.get_config() == config


def test_keras_defaults_and_config_keys() -> None:
    expected = {
        "Adamax": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        "Nadam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        "Adadelta": dict(learning_rate=0.001, rho=0.95, epsilon=1e-7),
        "Adafactor": dict(learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                          relative_step=True),
        "Ftrl": dict(learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                     l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                     l2_shrinkage_regularization_strength=0.0, beta=0.0),
        "Lion": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.99),
        "Lamb": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
        "Muon": dict(learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004, epsilon=1e-7,
                     weight_decay=0.004, exclude_layers=[], exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750,
                     muon_c=2.0315, adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2),
        "ScheduleFreeAdamW": dict(learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0),
    }
    for class_name, values in expected.items():
        config = getattr(optimizers, class_name)().get_config()
        assert {key: config[key] for key in values} == values, class_name


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(ValueError, match="beta_1"):
        optimizers.Lion(beta_1=0.0)
    for argument in ("initial_accumulator_value", "l1_regularization_strength", "l2_regularization_strength",
                     "l2_shrinkage_regularization_strength"):
        with pytest.raises(ValueError, match=argument):
            optimizers.Ftrl(**{argument: -0.1})
    with pytest.raises(ValueError, match="learning_rate_power"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        optimizers.ScheduleFreeAdamW(warmup_steps=-1)
    with pytest.raises(TypeError, match="unexpected"):
        optimizers.Nadam(momentum=0.9)


@pytest.mark.parametrize("factory", [optimizers.Adafactor, optimizers.Muon, optimizers.Ftrl,
                                     optimizers.ScheduleFreeAdamW])
def test_variables_added_after_the_build_get_their_slots(factory) -> None:
    """As when a frozen layer is unfrozen: the new variables get slots of the shapes their roles need."""
    with backend.use("torch") as B:
        first = [B.Variable(np.ones((3, 4), "float32"), path="a/kernel"), B.Variable(np.ones(4, "float32"), path="a/b")]
        later = [B.Variable(np.full((2, 5), 2.0, "float32"), path="b/kernel"), B.Variable(np.ones(5, "float32"),
                                                                                        path="b/bias")]
        grads = [B.convert_to_tensor(np.full(tuple(v.shape), 0.1, "float32")) for v in first + later]
        starts = [B.convert_to_numpy(v).copy() for v in first + later]
        built, grown = factory(), factory()
        built.build(first + later)
        grown.build(first)
        grown.prepare(first + later)
        assert sorted(tuple(v.shape) for v in grown.variables) == sorted(tuple(v.shape) for v in built.variables)
        results = []
        for optimizer in (built, grown):
            for variable, start in zip(first + later, starts):
                variable.assign(B.convert_to_tensor(start))
            optimizer.apply(grads, first + later)
            results.append([B.convert_to_numpy(v).copy() for v in first + later])
        for a, b in zip(*results):
            np.testing.assert_allclose(a, b, atol=1e-6)
        before = results[1]
        grown.apply(grads[1:3], first[1:] + later[:1])  # a subset of the variables
        after = [B.convert_to_numpy(v) for v in first + later]
        assert np.array_equal(after[0], before[0]) and np.array_equal(after[3], before[3])
        assert not np.array_equal(after[1], before[1]) and not np.array_equal(after[2], before[2])
