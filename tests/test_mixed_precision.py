"""Mixed precision: float32 variables, computation in bfloat16 or float16, losses in float32, and the
W1 benchmark model learning under mixed_bfloat16 on the CPU, on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, layers, mixed_precision
from lamina.dtype_policies import DTypePolicy


@pytest.fixture
def global_policy():
    """Restores the global policy after the test."""
    saved = mixed_precision.global_policy()
    yield
    mixed_precision.set_global_policy(saved)


def test_policies_name_their_two_dtypes() -> None:
    mixed = DTypePolicy("mixed_bfloat16")
    assert (mixed.compute_dtype, mixed.variable_dtype) == ("bfloat16", "float32")
    assert (DTypePolicy("float16").compute_dtype, DTypePolicy("float16").variable_dtype) == ("float16", "float16")
    assert lamina.dtype_policies.get({"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}) == \
        DTypePolicy("mixed_float16")
    with pytest.raises(ValueError, match="Unknown dtype policy 'mixed_int8'"):
        DTypePolicy("mixed_int8")


def test_the_global_policy_applies_to_new_layers(global_policy) -> None:
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert lamina.config.dtype_policy().name == "mixed_bfloat16"
    dense = layers.Dense(3)
    assert (dense.compute_dtype, dense.variable_dtype, dense.dtype) == ("bfloat16", "float32", "float32")
    assert layers.Dense(3, dtype="float32").compute_dtype == "float32"
    lamina.config.set_dtype_policy("float32")
    assert layers.Dense(3).compute_dtype == "float32"


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_a_mixed_layer_keeps_float32_weights_and_computes_in_bfloat16(name: str) -> None:
    with backend.use(name) as B:
        dense = layers.Dense(4, dtype="mixed_bfloat16")
        outputs = dense(np.ones((2, 3), np.float32))
        assert B.dtype_of(outputs) == "bfloat16"
        assert [B.dtype_of(w.value) for w in dense.weights] == ["float32", "float32"]
        reference = layers.Dense(4)
        reference(np.ones((2, 3), np.float32))
        reference.set_weights(dense.get_weights())
        np.testing.assert_allclose(B.convert_to_numpy(B.cast(outputs, "float32")),
                                   B.convert_to_numpy(reference(np.ones((2, 3), np.float32))), atol=0.05, rtol=0.02)
        last = layers.Activation("softmax", dtype="float32")  # Keras's advice: the output layer in float32
        assert B.dtype_of(last(outputs)) == "float32"


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_the_w1_model_learns_in_mixed_bfloat16(name: str, global_policy) -> None:
    with backend.use(name):
        lamina.set_random_seed(5)
        mixed_precision.set_global_policy("mixed_bfloat16")
        rng = np.random.default_rng(0)
        x = rng.standard_normal((512, 784)).astype(np.float32)
        y = (x[:, :10].argmax(axis=1)).astype(np.int32)  # learnable labels
        model = lamina.Sequential([lamina.Input((784,)), layers.Dense(256, activation="relu"),
                                   layers.Dense(128, activation="relu"), layers.Dense(10),
                                   layers.Activation("softmax", dtype="float32")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=4, batch_size=64, verbose=0)
        assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
        assert history.history["accuracy"][-1] > 0.6
        assert all(backend.impl.dtype_of(w.value) == "float32" for w in model.weights)
        assert model.predict(x[:4], verbose=0).dtype == np.float32


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_mixed_float16_trains_with_loss_scaling(name: str) -> None:
    with backend.use(name):
        rng = np.random.default_rng(1)
        x = rng.standard_normal((128, 8)).astype(np.float32)
        y = x @ rng.standard_normal((8, 1)).astype(np.float32)
        model = lamina.Sequential([lamina.Input((8,)), layers.Dense(16, activation="relu", dtype="mixed_float16"),
                                   layers.Dense(1, dtype="float32")])
        model.compile(optimizer=mixed_precision.LossScaleOptimizer(lamina.optimizers.Adam(0.01)), loss="mse")
        history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
        assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_numpy_runs_a_mixed_model_for_inference(global_policy) -> None:
    with backend.use("torch"):
        mixed_precision.set_global_policy("mixed_bfloat16")
        model = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, dtype="float32"), layers.Dense(2)])
        weights = model.get_weights()
    with backend.use("numpy"):
        copy = lamina.Sequential([lamina.Input((3,)), layers.Dense(2, dtype="float32"), layers.Dense(2)])
        copy.set_weights(weights)
        outputs = copy.predict(np.ones((1, 3), np.float32), verbose=0)
        assert np.all(np.isfinite(np.asarray(outputs, np.float32)))
