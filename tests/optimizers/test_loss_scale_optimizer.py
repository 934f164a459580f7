"""LossScaleOptimizer: unscaled updates equal the inner optimizer's, non-finite steps change nothing but the scale."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.optimizers import SGD, Adam, LossScaleOptimizer

BACKENDS = ["torch", "jax"]


def variables(B):
    return [B.Variable(np.array([1.0, -2.0], np.float32), name="w"), B.Variable(np.array(0.5, np.float32), name="b")]


@pytest.mark.parametrize("name", BACKENDS)
def test_scaled_gradients_give_the_inner_optimizers_update(name: str) -> None:
    with backend.use(name) as B:
        plain, scaled = variables(B), variables(B)
        inner, wrapped = Adam(0.1), LossScaleOptimizer(Adam(0.1), initial_scale=8.0)
        grads = [np.array([0.3, -0.1], np.float32), np.array(0.2, np.float32)]
        for _ in range(3):
            inner.apply([B.convert_to_tensor(g) for g in grads], plain)
            scale = float(B.convert_to_numpy(wrapped.dynamic_scale)) if wrapped.built else 8.0
            wrapped.apply([B.convert_to_tensor(g * scale) for g in grads], scaled)
        for a, b in zip(plain, scaled):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
        assert int(B.convert_to_numpy(wrapped.iterations)) == 3


@pytest.mark.parametrize("name", BACKENDS)
def test_a_non_finite_gradient_skips_the_step_and_halves_the_scale(name: str) -> None:
    with backend.use(name) as B:
        weights = variables(B)
        optimizer = LossScaleOptimizer(SGD(0.1, momentum=0.9), initial_scale=4.0)
        optimizer.apply([B.convert_to_tensor(np.array([4.0, 4.0], np.float32)),
                         B.convert_to_tensor(np.array(4.0, np.float32))], weights)
        after_one = [w.numpy().copy() for w in weights]
        slots = [v.numpy().copy() for v in optimizer.inner_optimizer.variables]
        optimizer.apply([B.convert_to_tensor(np.array([np.inf, 1.0], np.float32)),
                         B.convert_to_tensor(np.array(np.nan, np.float32))], weights)
        for w, before in zip(weights, after_one):
            np.testing.assert_array_equal(w.numpy(), before)
        for v, before in zip(optimizer.inner_optimizer.variables, slots):
            np.testing.assert_array_equal(v.numpy(), before)
        assert float(optimizer.dynamic_scale.numpy()) == 2.0


@pytest.mark.parametrize("name", BACKENDS)
def test_the_scale_doubles_after_the_growth_steps(name: str) -> None:
    with backend.use(name) as B:
        weights = variables(B)
        optimizer = LossScaleOptimizer(SGD(0.01), initial_scale=2.0, dynamic_growth_steps=2)
        grads = [B.convert_to_tensor(np.ones(2, np.float32)), B.convert_to_tensor(np.float32(1.0))]
        scales = []
        for _ in range(4):
            optimizer.apply(grads, weights)
            scales.append(float(optimizer.dynamic_scale.numpy()))
        assert scales == [2.0, 4.0, 4.0, 8.0]


@pytest.mark.parametrize("name", BACKENDS)
def test_fit_with_a_loss_scale_optimizer_learns(name: str) -> None:
    with backend.use(name):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 4)).astype(np.float32)
        y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)
        model = lamina.Sequential([lamina.Input((4,)), lamina.layers.Dense(1)])
        model.compile(optimizer=LossScaleOptimizer(SGD(0.05)), loss="mse")
        history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
        assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
        assert float(model.optimizer.dynamic_scale.numpy()) == 2.0**15


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="inner_optimizer must be an Optimizer"):
        LossScaleOptimizer("adam")
    with pytest.raises(ValueError, match="initial_scale"):
        LossScaleOptimizer(SGD(), initial_scale=0)
