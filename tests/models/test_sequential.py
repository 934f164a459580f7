"""Sequential as a user builds it: add, pop, deferred and explicit builds, values, configs, both backends."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import Dense, Dropout, Input, InputLayer
from lamina.models import Sequential

X = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")


def _reference(x, weights, activations=("relu", None)):
    """Dense layers in NumPy: weights as [kernel, bias, kernel, bias, ...]."""
    out = x.astype("float64")
    for (kernel, bias), activation in zip(zip(weights[::2], weights[1::2]), activations):
        out = out @ kernel + bias
        if activation == "relu":
            out = np.maximum(out, 0)
    return out


def _two_layers(**first_options):
    return Sequential([Dense(4, activation="relu", **first_options), Dense(2)])


def test_input_shape_on_the_first_layer_builds_at_once(training_backend):
    model = _two_layers(input_shape=(3,))
    assert model.built
    assert [tuple(w.shape) for w in model.weights] == [(3, 4), (4,), (4, 2), (2,)]
    assert model.outputs[0].shape == (None, 2) and model.inputs[0].shape == (None, 3)
    assert len(model.layers) == 2  # the input layer is not one of them
    np.testing.assert_allclose(model.predict(X, verbose=0), _reference(X, model.get_weights()), rtol=1e-5, atol=1e-6)


def test_input_dim_and_input_layer_and_input_tensor(training_backend):
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dense(2)])
    assert model.outputs[0].shape == (None, 2)
    for start in (InputLayer(shape=(3,)), Input(shape=(3,))):
        model = Sequential()
        model.add(start)
        model.add(Dense(4, activation="relu"))
        model.add(Dense(2))
        assert model.built and model.outputs[0].shape == (None, 2) and len(model.layers) == 2


def test_deferred_build_on_first_call(training_backend):
    model = _two_layers()
    assert not model.built and model.weights == []
    output = model(X)
    assert model.built and tuple(backend.impl.shape(output)) == (5, 2)
    np.testing.assert_allclose(backend.impl.convert_to_numpy(output), _reference(X, model.get_weights()),
                               rtol=1e-5, atol=1e-6)


def test_deferred_build_on_fit(training_backend):
    model = _two_layers()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, np.zeros((5, 2), "float32"), epochs=1, verbose=0)
    assert model.built and len(model.weights) == 4


def test_explicit_build(training_backend):
    model = _two_layers()
    model.build((None, 3))
    assert model.built and [tuple(w.shape) for w in model.weights][0] == (3, 4)
    assert model.predict(X, verbose=0).shape == (5, 2)


def test_build_without_a_shape_raises(training_backend):
    with pytest.raises(ValueError):
        _two_layers().build()


def test_pop_removes_the_last_layer(training_backend):
    model = _two_layers(input_shape=(3,))
    removed = model.pop()
    assert isinstance(removed, Dense) and removed.units == 2
    assert len(model.layers) == 1 and model.outputs[0].shape == (None, 4)
    assert model.predict(X, verbose=0).shape == (5, 4)
    model.pop()
    with pytest.raises(ValueError):
        model.pop()


def test_add_checks_what_it_is_given(training_backend):
    model = Sequential([Dense(2, input_shape=(3,), name="same_name")])
    with pytest.raises(TypeError):
        model.add("dense")
    with pytest.raises(ValueError):
        model.add(Dense(2, name="same_name"))
    with pytest.raises(ValueError):
        model.add(InputLayer(shape=(2,)))  # an input layer only comes first


def test_output_names_and_layer_lookup(training_backend):
    model = Sequential([Dense(4, input_shape=(3,), name="hidden"), Dense(2, name="last")])
    assert model.output_names == ["last"]
    assert model.get_layer("hidden") is model.layers[0]
    assert model.get_layer(index=-1) is model.layers[1]


def test_same_predictions_on_torch_and_jax():
    results, weights = {}, None
    for name in ("torch", "jax"):
        with backend.use(name):
            model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dropout(0.5), Dense(2)])
            if weights is None:
                weights = model.get_weights()
            model.set_weights(weights)
            results[name] = model.predict(X, verbose=0)
    np.testing.assert_allclose(results["torch"], results["jax"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(results["torch"], _reference(X, weights), rtol=1e-5, atol=1e-6)


def test_config_round_trip_rebuilds_the_same_model(training_backend):
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(2, use_bias=False)], name="stack")
    config = model.get_config()
    clone = Sequential.from_config(config)
    assert clone.name == "stack" and [type(layer) for layer in clone.layers] == [Dense, Dense]
    assert clone.layers[1].use_bias is False
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(clone.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert clone.get_config() == config


def test_nested_sequential_is_a_layer(training_backend):
    inner = Sequential([Dense(4, activation="relu", input_shape=(3,))])
    outer = Sequential([inner, Dense(2)])
    predictions = outer.predict(X, verbose=0)
    assert predictions.shape == (5, 2) and len(outer.weights) == 4
    np.testing.assert_allclose(predictions, _reference(X, outer.get_weights()), rtol=1e-5, atol=1e-6)
    outer.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    before = inner.get_weights()[0].copy()
    outer.fit(X, np.ones((5, 2), "float32"), epochs=2, verbose=0)
    assert np.any(inner.get_weights()[0] != before)  # the inner model's weights train with the outer one
