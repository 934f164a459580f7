"""clone_model (new layers, new weights, clone_function, call_function, recursive, compile state) and
to_json / model_from_json round trips for Sequential and functional models."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lamina
from lamina import layers, models

X = np.linspace(-1.0, 1.0, 20, dtype="float32").reshape(5, 4)


def sequential() -> models.Sequential:
    return models.Sequential([layers.Input((4,), name="features"), layers.Dense(3, activation="relu", name="hidden"),
                              layers.Dropout(0.1), layers.Dense(2, name="head")], name="mlp")


def functional() -> models.Model:
    left, right = layers.Input((4,), name="left"), layers.Input((2,), name="right")
    shared = layers.Dense(3, name="shared")
    merged = layers.Concatenate()([shared(left), layers.Dense(3)(right), shared(left) * 2.0])
    outputs = layers.Dense(1, activation="sigmoid", name="out")(merged)
    return models.Model([left, right], outputs, name="two_inputs")


def inputs_of(model) -> object:
    return [X, X[:, :2]] if len(model.inputs) == 2 else X


def predictions(model) -> np.ndarray:
    return np.asarray(model.predict(inputs_of(model), verbose=0))


@pytest.mark.parametrize("make", [sequential, functional], ids=["sequential", "functional"])
def test_clone_has_new_layers_and_weights_and_same_architecture(make, training_backend):
    model = make()
    clone = models.clone_model(model)
    assert type(clone) is type(model) and clone.name == model.name
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    original_ids = {id(layer) for layer in model.layers}
    assert not any(id(layer) in original_ids for layer in clone.layers)
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert not all(np.array_equal(a, b) for a, b in zip(clone.get_weights(), model.get_weights()))
    clone.set_weights(model.get_weights())
    np.testing.assert_allclose(predictions(clone), predictions(model), rtol=1e-6)
    assert len(clone.weights) == len(model.weights)  # a layer shared in the graph stays shared in the clone


def test_clone_function_is_applied_to_each_layer(training_backend):
    seen = []

    def rename(layer):
        seen.append(layer.name)
        config = layer.get_config()
        config["name"] = f"{config['name']}_copy"
        return type(layer).from_config(config)

    clone = models.clone_model(functional(), clone_function=rename)
    assert {"shared", "out"} <= set(seen) and len(seen) == 4  # shared, the right Dense, Concatenate, out
    assert seen.count("shared") == 1
    assert {layer.name for layer in clone.layers} >= {"shared_copy", "out_copy"}
    assert {"left", "right"} <= {layer.name for layer in clone.layers}  # inputs are made anew, not passed


def test_clone_function_can_keep_a_layer_shared_with_the_original(training_backend):
    model = sequential()
    clone = models.clone_model(model, clone_function=lambda layer: layer if layer.name == "hidden" else
                               type(layer).from_config(layer.get_config()))
    assert clone.get_layer("hidden") is model.get_layer("hidden")
    assert clone.get_layer("head") is not model.get_layer("head")


def test_call_function_wraps_each_call_in_a_functional_model(training_backend):
    calls = []

    def call(layer, *args, **kwargs):
        calls.append(layer.name)
        return layer(*args, **kwargs)

    models.clone_model(functional(), call_function=call)
    assert calls.count("shared") == 2 and "out" in calls
    with pytest.raises(ValueError, match="call_function"):
        models.clone_model(sequential(), call_function=call)


def test_input_tensors_rebuild_the_model_on_new_inputs(training_backend):
    new_input = layers.Input((4,), name="fresh")
    clone = models.clone_model(sequential(), input_tensors=new_input)
    assert clone.predict(X, verbose=0).shape == (5, 2)
    with pytest.raises(ValueError, match="input"):
        models.clone_model(functional(), input_tensors=[layers.Input((4,))])


def test_recursive_clones_nested_models(training_backend):
    inner = models.Sequential([layers.Input((4,)), layers.Dense(3, name="inner_dense")], name="inner")
    outer = models.Sequential([layers.Input((4,)), inner, layers.Dense(1)], name="outer")
    seen = []

    def record(layer):
        seen.append(layer.name)
        return type(layer).from_config(layer.get_config())

    flat = models.clone_model(outer, clone_function=record)
    assert "inner" in seen and "inner_dense" not in seen
    seen.clear()
    deep = models.clone_model(outer, clone_function=record, recursive=True)
    assert "inner_dense" in seen and "inner" not in seen
    assert flat.layers[0] is not inner and deep.layers[0] is not inner
    assert deep.predict(X, verbose=0).shape == (5, 1)


def test_compiled_model_clone_is_compiled_with_fresh_state(training_backend):
    model = sequential()
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    model.optimizer.build(model.trainable_weights)
    clone = models.clone_model(model)
    assert clone.compiled and clone.optimizer is not model.optimizer and not clone.optimizer.built
    assert clone.optimizer.get_config()["learning_rate"] == pytest.approx(0.01)
    assert clone.loss == "mse"


class Subclassed(models.Model):
    def __init__(self, units=2, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = layers.Dense(units)

    def call(self, inputs):
        return self.dense(inputs)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class WithoutConfig(models.Model):
    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def call(self, inputs):
        return self.layer(inputs)


def test_subclassed_models_are_rebuilt_from_their_config(training_backend):
    model = Subclassed(units=3)
    model(X)
    clone = models.clone_model(model)
    assert type(clone) is Subclassed and clone.units == 3 and clone is not model
    assert clone(X).shape == (5, 3)
    with pytest.raises(ValueError, match="clone_function and input_tensors"):
        models.clone_model(model, clone_function=lambda layer: layer)
    with pytest.raises(ValueError, match="call_function"):
        models.clone_model(model, call_function=lambda layer, *a, **k: layer(*a, **k))


def test_subclassed_model_that_cannot_be_rebuilt_says_what_to_add(training_backend):
    model = WithoutConfig(object())
    with pytest.raises(TypeError, match="get_config"):
        models.clone_model(model)


def test_bad_arguments_are_named(training_backend):
    with pytest.raises(ValueError, match="unexpected keyword argument.*colour"):
        models.clone_model(sequential(), colour="red")
    with pytest.raises(ValueError, match="clone_function must be a callable"):
        models.clone_model(sequential(), clone_function=3)


@pytest.mark.parametrize("make", [sequential, functional], ids=["sequential", "functional"])
def test_json_round_trip(make, training_backend):
    model = make()
    text = model.to_json()
    stored = json.loads(text)
    assert {"module", "class_name", "config", "registered_name"} <= set(stored)
    assert stored["class_name"] == type(model).__name__ and stored["config"]["name"] == model.name
    assert stored["module"].startswith("keras") and "lamina" not in text  # Keras's module names: Keras reads it
    assert "weights" not in text
    rebuilt = models.model_from_json(text)
    assert type(rebuilt) is type(model)
    assert json.loads(rebuilt.to_json()) == stored
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(predictions(rebuilt), predictions(model), rtol=1e-6)


def test_json_keeps_functional_graph_layout(training_backend):
    stored = json.loads(functional().to_json())["config"]
    assert {"layers", "input_layers", "output_layers"} <= set(stored)
    assert [layer[0] for layer in stored["input_layers"]] == ["left", "right"]
    shared = next(layer for layer in stored["layers"] if layer["name"] == "shared")
    assert len(shared["inbound_nodes"]) == 2


@lamina.saving.register_keras_serializable(package="JsonTests")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


def test_json_with_custom_layers(training_backend):
    model = models.Sequential([layers.Input((4,)), Scale(3.0)])
    rebuilt = models.model_from_json(model.to_json())
    np.testing.assert_allclose(rebuilt.predict(X, verbose=0), X * 3.0, rtol=1e-6)
    other = models.Sequential([layers.Input((4,)), Unregistered(0.5)])
    with pytest.raises(ValueError, match="Unregistered"):
        models.model_from_json(other.to_json())
    rebuilt = models.model_from_json(other.to_json(), custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(rebuilt.predict(X, verbose=0), X * 0.5, rtol=1e-6)


@pytest.mark.parametrize("text", ["not json", "[1, 2]", '{"class_name": "NoSuchModel", "config": {}}', "{}"])
def test_model_from_json_refuses_bad_text_with_a_value_error(text):
    with pytest.raises(ValueError):
        models.model_from_json(text)


KERAS_JSON = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "keras3_json"


def test_json_written_by_keras_rebuilds_the_same_architecture(training_backend):
    mlp = models.model_from_json((KERAS_JSON / "sequential.json").read_text())
    assert type(mlp) is models.Sequential and mlp.name == "mlp"
    assert [type(layer).__name__ for layer in mlp.layers] == ["Dense", "Dropout", "Dense"]
    assert mlp.get_layer("hidden").units == 3 and mlp.predict(X, verbose=0).shape == (5, 1)
    two = models.model_from_json((KERAS_JSON / "functional.json").read_text())
    assert [tensor.shape for tensor in two.inputs] == [(None, 4), (None, 2)]
    assert two.predict([X, X[:, :2]], verbose=0).shape == (5, 1)
    assert two.count_params() == (4 * 3 + 3) + (5 * 1 + 1)


class TakesInputsAndOutputs(models.Model):
    def __init__(self, inputs, outputs, **kwargs):
        super().__init__(inputs, outputs, **kwargs)


class BuildsItsOwnGraph(models.Model):
    def __init__(self, units=2, **kwargs):
        inputs = layers.Input((4,))
        super().__init__(inputs, layers.Dense(units)(inputs), **kwargs)
        self.units = units

    def get_config(self):
        return {"units": self.units, "name": self.name}


def test_functional_subclasses_keep_their_class(training_backend):
    inputs = layers.Input((4,))
    model = TakesInputsAndOutputs(inputs, layers.Dense(2)(inputs), name="custom")
    clone = models.clone_model(model)
    assert isinstance(clone, TakesInputsAndOutputs) and clone.name == "custom"
    assert clone.predict(X, verbose=0).shape == (5, 2)
    own = BuildsItsOwnGraph(units=3)
    clone = models.clone_model(own)  # rebuilt from its own get_config, as Keras does
    assert isinstance(clone, BuildsItsOwnGraph) and clone.units == 3
    assert clone.layers[-1] is not own.layers[-1]
    rewired = models.clone_model(own, clone_function=lambda layer: type(layer).from_config(layer.get_config()))
    assert rewired.predict(X, verbose=0).shape == (5, 3)
