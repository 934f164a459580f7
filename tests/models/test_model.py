"""Model: subclassed models, layer lookup, trainable flag, weights files across backends."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import Dense, Dropout, Input
from lamina.models import Functional, Model, Sequential

X = np.random.default_rng(9).normal(size=(6, 3)).astype("float32")


class TwoLayers(Model):
    """A subclassed model: its layers are attributes, its math is `call`."""

    def __init__(self, units: int = 4, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.hidden = Dense(units, activation="relu", name="hidden")
        self.dropout = Dropout(0.5)
        self.out = Dense(2, name="out")

    def call(self, inputs, training=None):
        return self.out(self.dropout(self.hidden(inputs), training=training))

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


def _reference(model, x):
    hidden = model.get_layer("hidden").get_weights()
    out = model.get_layer("out").get_weights()
    return np.maximum(x.astype("float64") @ hidden[0] + hidden[1], 0) @ out[0] + out[1]


def test_subclassed_model_builds_from_a_shape(training_backend):
    model = TwoLayers()
    assert not model.built and model.weights == []
    model.build((None, 3))
    assert model.built
    assert [tuple(w.shape) for w in model.weights] == [(3, 4), (4,), (4, 2), (2,)]
    assert [layer.name for layer in model.layers][0] == "hidden"


def test_subclassed_model_predicts_without_dropout(training_backend):
    model = TwoLayers()
    predictions = model.predict(X, verbose=0)  # builds on first use
    np.testing.assert_allclose(predictions, _reference(model, X), rtol=1e-5, atol=1e-6)


def test_training_flag_reaches_the_layers(training_backend):
    model = TwoLayers(units=64)
    tensor = backend.impl.convert_to_tensor(X)
    inference = backend.impl.convert_to_numpy(model(tensor, training=False))
    np.testing.assert_allclose(inference, _reference(model, X), rtol=1e-5, atol=1e-6)
    training = backend.impl.convert_to_numpy(model(tensor, training=True))
    assert not np.allclose(training, inference)  # dropout is on


def test_subclassed_model_trains(training_backend):
    model = TwoLayers()
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.05), loss="mse")
    history = model.fit(X, np.ones((6, 2), "float32"), epochs=5, batch_size=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.output_names == [model.name]


def test_failed_build_leaves_the_model_unbuilt(training_backend):
    model = Sequential([lamina.layers.Reshape((5,)), Dense(1)])
    with pytest.raises(ValueError):
        model.build((None, 3))  # 3 values cannot become 5
    assert not model.built
    model.build((None, 5))
    assert model.built and model.predict(np.ones((2, 5), "float32"), verbose=0).shape == (2, 1)


def test_model_takes_keyword_arguments_only(training_backend):
    with pytest.raises(TypeError):
        Model(3)  # neither inputs and outputs nor keyword arguments


def test_get_layer(training_backend):
    model = TwoLayers()
    model.build((None, 3))
    assert model.get_layer("out") is model.out
    assert model.get_layer(index=0) is model.hidden
    with pytest.raises(ValueError):
        model.get_layer("missing")
    with pytest.raises(ValueError):
        model.get_layer(index=10)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_trainable_false_freezes_every_weight(backend_name):
    with backend.use(backend_name):
        _check_frozen_model_keeps_its_weights()


def _check_frozen_model_keeps_its_weights():
    model = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
    model.trainable = False
    assert model.trainable_weights == [] and len(model.non_trainable_weights) == 4
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    before = model.get_weights()
    model.fit(X, np.ones((6, 1), "float32"), epochs=2, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)
    model.trainable = True
    assert len(model.trainable_weights) == 4


def test_freezing_one_layer(training_backend):
    first = Dense(4, input_shape=(3,))
    model = Sequential([first, Dense(1)])
    first.trainable = False
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    frozen, free = first.get_weights()[0].copy(), model.layers[1].get_weights()[0].copy()
    model.fit(X, np.ones((6, 1), "float32"), epochs=2, verbose=0)
    np.testing.assert_array_equal(first.get_weights()[0], frozen)
    assert np.any(model.layers[1].get_weights()[0] != free)


def test_weights_file_moves_between_backends(tmp_path):
    path = str(tmp_path / "two.weights.npz")
    with backend.use("torch"):
        model = TwoLayers()
        model.build((None, 3))
        model.save_weights(path)
        expected = model.predict(X, verbose=0)
    with backend.use("jax"):
        other = TwoLayers()
        other.build((None, 3))
        other.load_weights(path)
        np.testing.assert_allclose(other.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_model_with_inputs_and_outputs_is_functional():
    inputs = Input(shape=(3,))
    model = Model(inputs=inputs, outputs=Dense(2)(inputs), name="graph")
    assert type(model) is Functional and model.name == "graph"
    assert type(TwoLayers()) is TwoLayers  # a subclass stays itself


def test_subclassed_config(training_backend):
    model = TwoLayers(units=7, name="mine")
    clone = TwoLayers.from_config(model.get_config())
    assert clone.units == 7 and clone.name == "mine"
