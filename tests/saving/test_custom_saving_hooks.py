"""The hooks a layer or model overrides to save more than its weights, as Keras 3 calls them: its own
variables, asset files, a build that takes more than the input shape, and compile arguments of its own."""

from __future__ import annotations

import os
import zipfile

import numpy as np
import pytest

import lamina
from lamina import layers, ops
from lamina.saving import register_keras_serializable


@register_keras_serializable(package="hooks")
class ScaledDense(layers.Dense):
    """A Dense layer with an extra state vector that is not a weight, saved under a key of its own."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.scale = lamina.Variable(np.linspace(0.5, 1.5, units), name="scale", trainable=False)

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["scale"] = ops.convert_to_numpy(self.scale)

    def load_own_variables(self, store):
        self.scale.assign(store["scale"])
        for index, variable in enumerate(self.weights):
            variable.assign(store[str(index)])

    def call(self, inputs):
        return super().call(inputs) * self.scale


@register_keras_serializable(package="hooks")
class Vocabulary(layers.Dense):
    def __init__(self, vocab=None, **kwargs):
        super().__init__(**kwargs)
        self.vocab = vocab

    def save_assets(self, inner_path):
        with open(os.path.join(inner_path, "vocabulary.txt"), "w") as file:
            file.write(self.vocab)

    def load_assets(self, inner_path):
        with open(os.path.join(inner_path, "vocabulary.txt")) as file:
            self.vocab = file.read().upper()


@register_keras_serializable(package="hooks")
class InitializedLater(layers.Layer):
    """A layer whose build takes its initializer: built by hand, rebuilt from its build config."""

    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def build(self, input_shape, initializer):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer=initializer)
        self.initializer = initializer

    def get_build_config(self):
        return {**super().get_build_config(), "initializer": self.initializer}

    def build_from_config(self, config):
        self.build(config["input_shape"], config["initializer"])

    def call(self, inputs):
        return ops.matmul(inputs, self.w)


@register_keras_serializable(package="hooks")
def halved_squares(y_true, y_pred):
    return ops.mean(ops.square(y_pred - y_true), axis=-1) / 2


@register_keras_serializable(package="hooks")
class OwnCompile(lamina.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(2)

    def call(self, inputs):
        return self.dense(inputs)

    def compile(self, optimizer, loss_fn):
        super().compile(optimizer=optimizer, loss=loss_fn)
        self.loss_fn = loss_fn

    def get_compile_config(self):
        return {"optimizer": "sgd", "loss_fn": self.loss_fn}

    def compile_from_config(self, config):
        self.compile(optimizer=config["optimizer"],
                     loss_fn=lamina.saving.deserialize_keras_object(config["loss_fn"]))


X = np.random.default_rng(0).random((3, 5)).astype("float32")


def test_own_variables_and_assets_round_trip(training_backend, tmp_path):
    model = lamina.Sequential([layers.Input((5,)), ScaledDense(3), Vocabulary(vocab="a small lamb", units=2)])
    expected = model.predict(X, verbose=0)
    path = tmp_path / "hooks.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert "assets/layers/vocabulary/vocabulary.txt" in archive.namelist()
    loaded = lamina.models.load_model(path)
    np.testing.assert_allclose(ops.convert_to_numpy(loaded.layers[0].scale), np.linspace(0.5, 1.5, 3), rtol=1e-6)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert loaded.layers[1].vocab == "A SMALL LAMB"


def test_a_layer_built_by_hand_is_rebuilt_from_its_build_config(tmp_path):
    custom = InitializedLater(units=3)
    custom.build((5,), "ones")
    assert custom.built and custom.get_build_config() == {"input_shape": (5,), "initializer": "ones"}
    model = lamina.Sequential([custom, layers.Dense(1)])
    expected = model.predict(X, verbose=0)
    model.save(tmp_path / "built.keras")
    loaded = lamina.models.load_model(tmp_path / "built.keras")
    assert loaded.layers[0].initializer == "ones"
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-6)


def test_a_model_with_its_own_compile_arguments_is_compiled_again_by_them(tmp_path):
    model = OwnCompile()
    model.compile(optimizer="sgd", loss_fn=halved_squares)
    model.fit(X, X[:, :2], verbose=0)
    model.save(tmp_path / "compiled.keras")
    loaded = lamina.models.load_model(tmp_path / "compiled.keras")
    assert loaded.loss_fn is halved_squares and loaded.compiled
    assert loaded.evaluate(X, X[:, :2], verbose=0) == pytest.approx(model.evaluate(X, X[:, :2], verbose=0), rel=1e-6)


def test_an_asset_name_leaving_its_folder_is_refused(tmp_path):
    model = lamina.Sequential([layers.Input((5,)), Vocabulary(vocab="x", units=2)])
    path = tmp_path / "bad.keras"
    model.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("assets/../../escape.txt", b"x")
    with pytest.raises(ValueError, match="may not leave the assets folder"):
        lamina.models.load_model(path)
