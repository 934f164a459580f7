"""Functional models: graphs of layer calls with several inputs and outputs, values, errors, configs, backends."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import Add, Concatenate, Dense, Input
from lamina.models import Functional, Model

rng = np.random.default_rng(8)
A = rng.normal(size=(5, 3)).astype("float32")
B = rng.normal(size=(5, 2)).astype("float32")


def _dense(x, layer, relu=False):
    kernel, bias = layer.get_weights()
    out = x.astype("float64") @ kernel + bias
    return np.maximum(out, 0) if relu else out


def _two_inputs_two_outputs():
    """a (3) and b (2) -> hidden = relu(dense(concat(a, b))) -> 'sum' = dense(hidden), 'skip' = dense(a) + dense(b)."""
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    hidden = Dense(4, activation="relu", name="hidden")(Concatenate()([a, b]))
    summed = Dense(1, name="sum")(hidden)
    skip = Add(name="skip")([Dense(2, name="from_a")(a), Dense(2, name="from_b")(b)])
    return Model(inputs=[a, b], outputs=[summed, skip])


def _expected(model):
    hidden = _dense(np.concatenate([A, B], axis=1), model.get_layer("hidden"), relu=True)
    return [_dense(hidden, model.get_layer("sum")),
            _dense(A, model.get_layer("from_a")) + _dense(B, model.get_layer("from_b"))]


def test_model_of_inputs_and_outputs_is_functional(training_backend):
    model = _two_inputs_two_outputs()
    assert isinstance(model, Functional) and isinstance(model, Model) and model.built
    assert model.input_names == ["a", "b"] and model.output_names == ["sum", "skip"]
    assert model.input_shapes == [(None, 3), (None, 2)]
    assert [t.shape for t in model.outputs] == [(None, 1), (None, 2)]
    assert len(model.weights) == 8


def test_predictions_match_numpy(training_backend):
    model = _two_inputs_two_outputs()
    predictions = model.predict([A, B], verbose=0)
    assert isinstance(predictions, list) and len(predictions) == 2
    for actual, expected in zip(predictions, _expected(model)):
        np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    # a direct call gives the same numbers
    direct = model([backend.impl.convert_to_tensor(A), backend.impl.convert_to_tensor(B)])
    np.testing.assert_allclose(backend.impl.convert_to_numpy(direct[1]), predictions[1], rtol=1e-6)


def test_dict_of_inputs_by_name(training_backend):
    model = _two_inputs_two_outputs()
    by_position = model.predict([A, B], verbose=0)
    by_name = model.predict({"b": B, "a": A}, verbose=0)  # the keys' order does not matter
    for x, y in zip(by_position, by_name):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_dict_inputs_and_outputs(training_backend):
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    model = Model(inputs={"b": b, "a": a}, outputs={"y": Dense(1, name="y")(a), "z": Dense(1, name="z")(b)})
    assert model.output_names == ["y", "z"]
    predictions = model.predict({"a": A, "b": B}, verbose=0)
    assert set(predictions) == {"y", "z"}
    np.testing.assert_allclose(predictions["y"], _dense(A, model.get_layer("y")), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predictions["z"], _dense(B, model.get_layer("z")), rtol=1e-5, atol=1e-6)


def test_single_output_is_not_wrapped_in_a_list(training_backend):
    a = Input(shape=(3,))
    model = Model(a, Dense(2)(a))
    assert model.predict(A, verbose=0).shape == (5, 2)
    listed = Model([a], [Dense(2)(a)])
    assert isinstance(listed.predict(A, verbose=0), list)


def test_a_diamond_runs_each_layer_once_per_call(training_backend):
    calls = []

    class Counting(Dense):
        def call(self, inputs):
            calls.append(self.name)
            return super().call(inputs)

    x = Input(shape=(3,))
    trunk = Counting(4, name="trunk")(x)
    model = Model(x, Add()([Dense(2, name="left")(trunk), Dense(2, name="right")(trunk)]))
    calls.clear()
    model(backend.impl.convert_to_tensor(A))
    assert calls == ["trunk"]


def test_shared_layer_and_nested_model(training_backend):
    inner_input = Input(shape=(3,))
    inner = Model(inner_input, Dense(2, activation="relu", name="inner_dense")(inner_input), name="inner")
    x, y = Input(shape=(3,)), Input(shape=(3,))
    model = Model([x, y], Add()([inner(x), inner(y)]))
    assert len(model.weights) == 2  # the inner model is one set of weights, used twice
    expected = _dense(A, inner.get_layer("inner_dense"), relu=True) + _dense(-A, inner.get_layer("inner_dense"),
                                                                            relu=True)
    np.testing.assert_allclose(model.predict([A, -A], verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_trains_on_every_output(training_backend):
    model = _two_inputs_two_outputs()
    model.compile(optimizer="adam", loss=["mse", "mse"])
    history = model.fit([A, B], [np.ones((5, 1)), np.zeros((5, 2))], epochs=3, verbose=0)
    assert {"loss", "sum_loss", "skip_loss"} <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_same_numbers_on_torch_and_jax():
    results, weights = {}, None
    for name in ("torch", "jax"):
        with backend.use(name):
            model = _two_inputs_two_outputs()
            if weights is None:
                weights = model.get_weights()
            model.set_weights(weights)
            results[name] = model.predict([A, B], verbose=0)
    for t, j in zip(results["torch"], results["jax"]):
        np.testing.assert_allclose(t, j, rtol=1e-5, atol=1e-6)


def test_config_round_trip(training_backend):
    model = _two_inputs_two_outputs()
    clone = Model.from_config(model.get_config())
    assert isinstance(clone, Functional)
    assert clone.input_names == model.input_names and clone.output_names == model.output_names
    clone.set_weights(model.get_weights())
    for x, y in zip(clone.predict([A, B], verbose=0), model.predict([A, B], verbose=0)):
        np.testing.assert_allclose(x, y, rtol=1e-6)


def test_outputs_must_come_from_inputs_through_layers(training_backend):
    a, b = Input(shape=(3,)), Input(shape=(3,))
    with pytest.raises(ValueError):
        Model(a, Dense(1)(b))  # the output depends on an input that is not given
    with pytest.raises(ValueError):
        Model([a, b], Dense(1)(a))  # b reaches no output
    from lamina.ops.symbolic import KerasTensor

    with pytest.raises(ValueError):
        Model(a, KerasTensor((None, 1)))  # made by no layer


def test_wrong_number_of_inputs_raises(training_backend):
    model = _two_inputs_two_outputs()
    with pytest.raises(ValueError):
        model.predict(A, verbose=0)
    with pytest.raises(ValueError):
        model.predict([A, B, B], verbose=0)


def test_inputs_one_axis_short_or_long_are_adjusted_as_keras_does(training_backend):
    """x of shape (n,) trains a model declared with Input((1,)); (n, 5, 1) feeds Input((5,))."""
    sequential = lamina.Sequential([lamina.Input((1,)), lamina.layers.Dense(1)])
    sequential.compile(optimizer="sgd", loss="mse")
    x = np.arange(8, dtype="float32") / 8
    history = sequential.fit(x, 2 * x, epochs=2, verbose=0).history
    assert len(history["loss"]) == 2
    assert sequential.predict(x, verbose=0).shape == (8, 1)
    inputs = lamina.Input((5,))
    functional = lamina.Model(inputs, lamina.layers.Dense(2)(inputs))
    column = np.ones((3, 5, 1), "float32")
    np.testing.assert_allclose(functional.predict(column, verbose=0), functional.predict(column[..., 0], verbose=0))
    with pytest.raises(ValueError, match="rank"):
        functional.predict(np.ones((3, 5, 2), "float32"), verbose=0)


class _Watched(lamina.layers.Layer):
    """Doubles its input and keeps a weak reference to what it returned, to tell when that is freed."""

    def call(self, x):
        import weakref

        output = x * 2.0
        self.output_ref = weakref.ref(output)
        return output


class _Probe(lamina.layers.Layer):
    """Records, while it runs, whether the watched layer's output still exists."""

    def __init__(self, watched, **kwargs):
        super().__init__(**kwargs)
        self.watched, self.seen_alive = watched, []

    def call(self, x):
        self.seen_alive.append(self.watched.output_ref() is not None)
        return x + 1.0


def test_an_intermediate_value_is_freed_once_no_later_layer_reads_it():
    """Outside autograd, a deep model's activations do not all stay alive until the call ends."""
    import torch

    with backend.use("torch"):
        inputs = Input(shape=(3,))
        watched = _Watched()
        probe = _Probe(watched)
        hidden = watched(inputs)
        output = probe(Dense(2)(hidden))  # `hidden` is read by the Dense only
        model = Model(inputs, output)
        x = rng.normal(size=(4, 3)).astype("float32")
        probe.seen_alive.clear()  # building the graph called it symbolically
        with torch.no_grad():
            model(x)
        assert probe.seen_alive == [False]
        # a value read again later is kept until then, and the model's outputs are returned
        skip = Add()([probe(Dense(3)(watched(inputs))), watched(inputs)])
        both = Model(inputs, [skip, watched(inputs)])
        first, second = both(x)
        np.testing.assert_allclose(backend.impl.convert_to_numpy(second), 2 * x, rtol=1e-6)
