"""Saving and loading models: round trips, the Keras file layout, atomic writes, and untrusted files."""

from __future__ import annotations

import io
import json
import marshal
import os
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lamina import ops
from lamina.layers import Activation, Dense, Dropout, Embedding, Flatten, Input, Layer, Reshape
from lamina.models import Model, Sequential
from lamina.saving import (
    custom_object_scope,
    keras_file,
    load_model,
    load_weights,
    register_lamina_serializable,
    save_weights,
)

RNG = np.random.default_rng(0)


@register_lamina_serializable(package="SavingTests")
class ScaledDense(Layer):
    """A custom layer with a trainable kernel and a non-trainable scale."""

    def __init__(self, units: int, scale: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.units, self.scale = units, scale

    def build(self, input_shape: tuple) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="kernel")
        self.factor = self.add_weight(shape=(), initializer="ones", trainable=False, name="factor")

    def call(self, inputs):
        return ops.matmul(inputs, self.kernel) * (self.scale * self.factor)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "scale": self.scale}


class UnregisteredLayer(ScaledDense):
    """The same layer, not registered: loading needs custom_objects."""


@register_lamina_serializable(package="SavingTests")
class TwoStepModel(Model):
    """A subclassed model, rebuilt from build_config."""

    def __init__(self, hidden: int = 6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hidden = hidden
        self.first = Dense(hidden, activation="relu")
        self.second = Dense(2)

    def call(self, inputs):
        return self.second(self.first(inputs))

    def get_config(self) -> dict:
        return {**super().get_config(), "hidden": self.hidden}


@register_lamina_serializable(package="SavingTests")
def halved_tanh(x):
    return ops.tanh(x) * 0.5


def unregistered_activation(x):
    return x


def data(n: int = 48, features: int = 4, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    x = RNG.normal(size=(n, features)).astype("float32")
    return x, np.eye(classes, dtype="float32")[RNG.integers(0, classes, n)]


def sequential() -> Sequential:
    return Sequential([Dense(8, activation="relu", input_dim=4), Dropout(0.2),
                       ScaledDense(5, scale=0.5), Activation("tanh"), Dense(3, activation="softmax")])


def two_in_two_out() -> Model:
    """Two inputs, two outputs, and a Dense layer shared by both branches."""
    left, right = Input((4,), name="left"), Input((4,), name="right")
    shared = Dense(6, activation="tanh")
    classes = Dense(3, activation="softmax", name="classes")(shared(left))
    value = Flatten(name="value")(Reshape((3, 2))(Dense(6)(shared(right))))
    return Model([left, right], [classes, value])


def saved(model: Model, tmp_path: Path, name: str = "model.keras") -> Path:
    path = tmp_path / name
    model.save(path)
    return path


def rewrite(path: Path, replace: dict[str, bytes | None]) -> None:
    """Rewrite a .keras file with some members replaced (None drops one)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    for name, value in replace.items():
        if value is None:
            members.pop(name, None)
        else:
            members[name] = value
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in members.items():
            archive.writestr(name, value)


def read_json(path: Path, member: str) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(member))


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def h5_arrays(path: Path) -> dict[str, np.ndarray]:
    """The datasets of a .keras file's model.weights.h5, by path."""
    import h5py

    found = {}
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as store:
        store.visititems(lambda name, obj: found.update({name: obj[()]}) if isinstance(obj, h5py.Dataset) else None)
    return found


def h5_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        for name, array in arrays.items():
            store.create_dataset(name, data=array)
    return buffer.getvalue()


# --- round trips -----------------------------------------------------------------------------------------


def test_sequential_round_trip_predicts_the_same(tmp_path):
    model = sequential()
    x, _ = data()
    loaded = load_model(saved(model, tmp_path))
    assert type(loaded) is Sequential
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_functional_round_trip_with_two_inputs_two_outputs_and_a_shared_layer(tmp_path):
    model = two_in_two_out()
    x = [RNG.normal(size=(10, 4)).astype("float32") for _ in range(2)]
    path = saved(model, tmp_path)
    loaded = load_model(path)
    assert len(loaded.inputs) == 2 and len(loaded.outputs) == 2
    for got, expected in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, expected)
    layers = {entry["name"]: entry for entry in read_json(path, "config.json")["config"]["layers"]}
    shared = next(entry for entry in layers.values() if entry["config"].get("units") == 6)
    histories = [node["args"][0]["config"]["keras_history"] for node in shared["inbound_nodes"]]
    assert histories == [["left", 0, 0], ["right", 0, 0]]
    assert len(loaded.weights) == len(model.weights)


def test_node_indices_count_only_this_models_calls(tmp_path):
    shared = Dense(3)
    other_input = Input((4,))
    Model(other_input, shared(other_input))  # node 0 of `shared` belongs to another model
    inputs = Input((4,))
    model = Model(inputs, Dense(2, name="head")(shared(inputs)))
    path = saved(model, tmp_path)
    layers = read_json(path, "config.json")["config"]["layers"]
    head = next(entry for entry in layers if entry["name"] == "head")
    assert head["inbound_nodes"][0]["args"][0]["config"]["keras_history"] == [shared.name, 0, 0]
    x = RNG.normal(size=(5, 4)).astype("float32")
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_calls_are_replayed_whatever_order_the_layers_are_listed_in(tmp_path):
    model = two_in_two_out()
    path = saved(model, tmp_path)
    config = read_json(path, "config.json")
    config["config"]["layers"].reverse()
    rewrite(path, {"config.json": json.dumps(config).encode()})
    x = [RNG.normal(size=(3, 4)).astype("float32") for _ in range(2)]
    for got, expected in zip(load_model(path).predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(got, expected)


def test_calls_that_wait_on_each_other_are_refused(tmp_path):
    inputs = Input((4,))
    model = Model(inputs, Dense(2, name="second")(Dense(4, name="first")(inputs)))
    path = saved(model, tmp_path)
    config = read_json(path, "config.json")
    first = next(entry for entry in config["config"]["layers"] if entry["name"] == "first")
    first["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["second", 0, 0]
    rewrite(path, {"config.json": json.dumps(config).encode()})
    expect_load_error(path, "cycle")


def test_dict_outputs_stay_a_dict(tmp_path):
    inputs = Input((4,))
    hidden = Dense(5)(inputs)
    model = Model(inputs, {"score": Dense(1)(hidden), "probabilities": Dense(2, activation="softmax")(hidden)})
    x = RNG.normal(size=(6, 4)).astype("float32")
    loaded = load_model(saved(model, tmp_path))
    got, expected = loaded.predict(x, verbose=0), model.predict(x, verbose=0)
    assert isinstance(got, dict) and set(got) == {"score", "probabilities"}
    for key in expected:
        np.testing.assert_array_equal(got[key], expected[key])


def test_embedding_model_with_integer_input(tmp_path):
    inputs = Input((5,), dtype="int32")
    model = Model(inputs, Dense(2)(Flatten()(Embedding(10, 3)(inputs))))
    x = RNG.integers(0, 10, size=(7, 5)).astype("int32")
    np.testing.assert_array_equal(load_model(saved(model, tmp_path)).predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_registered_subclassed_model_is_rebuilt_from_its_build_config(tmp_path):
    model = TwoStepModel(hidden=7)
    x, _ = data()
    expected = model.predict(x, verbose=0)
    path = saved(model, tmp_path)
    config = read_json(path, "config.json")
    assert config["registered_name"] == "SavingTests>TwoStepModel"
    assert config["build_config"] == {"input_shape": [None, 4]}
    loaded = load_model(path)
    assert type(loaded) is TwoStepModel and loaded.hidden == 7
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_registered_function_activation_round_trips(tmp_path):
    model = Sequential([Dense(3, activation=halved_tanh, input_dim=4)])
    path = saved(model, tmp_path)
    activation = read_json(path, "config.json")["config"]["layers"][1]["config"]["activation"]
    assert activation["class_name"] == "function" and activation["registered_name"] == "SavingTests>halved_tanh"
    x, _ = data()
    loaded = load_model(path)
    assert loaded.layers[0].activation is halved_tanh
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_unregistered_custom_layer_needs_custom_objects(tmp_path):
    model = Sequential([UnregisteredLayer(2, input_dim=4)])
    path = saved(model, tmp_path)
    with pytest.raises(ValueError, match="UnregisteredLayer.*custom_objects"):
        load_model(path)
    x, _ = data()
    expected = model.predict(x, verbose=0)
    np.testing.assert_array_equal(
        load_model(path, custom_objects={"UnregisteredLayer": UnregisteredLayer}).predict(x, verbose=0), expected)
    with custom_object_scope({"UnregisteredLayer": UnregisteredLayer}):
        np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), expected)


# --- the file layout -------------------------------------------------------------------------------------


def test_file_has_the_keras_layout(tmp_path):
    model = sequential()
    path = saved(model, tmp_path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
    keys = sorted(h5_arrays(path))
    metadata = read_json(path, "metadata.json")
    assert set(metadata) == {"keras_version", "lamina_version", "backend", "date_saved"}
    config = read_json(path, "config.json")
    assert {"module", "class_name", "config", "registered_name", "compile_config", "build_config"} <= set(config)
    assert (config["module"], config["class_name"], config["registered_name"]) == ("keras", "Sequential", None)
    assert config["compile_config"] is None and config["build_config"] == {"input_shape": [None, 4]}
    dense, custom = config["config"]["layers"][1], config["config"]["layers"][3]
    assert (dense["module"], dense["class_name"], dense["registered_name"]) == ("keras.layers", "Dense", None)
    assert (custom["class_name"], custom["registered_name"]) == ("ScaledDense", "SavingTests>ScaledDense")
    assert keys == ["layers/dense/vars/0", "layers/dense/vars/1", "layers/dense_1/vars/0", "layers/dense_1/vars/1",
                    "layers/scaled_dense/vars/0", "layers/scaled_dense/vars/1"]


def test_functional_config_has_the_keras_layout(tmp_path):
    config = read_json(saved(two_in_two_out(), tmp_path), "config.json")
    assert (config["module"], config["class_name"]) == ("keras.src.models.functional", "Functional")
    inner = config["config"]
    assert inner["input_layers"] == [["left", 0, 0], ["right", 0, 0]]
    assert inner["output_layers"] == [["classes", 0, 0], ["value", 0, 0]]
    for entry in inner["layers"]:
        assert {"module", "class_name", "config", "registered_name", "name", "inbound_nodes"} <= set(entry)
    classes = next(entry for entry in inner["layers"] if entry["name"] == "classes")
    tensor = classes["inbound_nodes"][0]["args"][0]
    assert tensor["class_name"] == "__keras_tensor__"
    assert tensor["config"]["shape"] == [None, 6] and tensor["config"]["dtype"] == "float32"
    assert classes["inbound_nodes"][0]["kwargs"] == {}


# --- compile state ---------------------------------------------------------------------------------------


def test_compile_config_and_optimizer_state_are_restored(tmp_path):
    model = Sequential([Dense(8, activation="relu", input_dim=4), ScaledDense(3), Activation("softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = data()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    loaded = load_model(saved(model, tmp_path))
    assert loaded.compiled and type(loaded.optimizer) is type(model.optimizer)
    iterations = [int(ops.convert_to_numpy(m.optimizer.iterations)) for m in (loaded, model)]
    assert iterations == [6, 6]
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)
    # the Adam moments came back too: one more epoch moves both models alike
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    loaded.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for got, expected in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_multi_output_compile_config_round_trips(tmp_path):
    model = two_in_two_out()
    model.compile(optimizer="sgd", loss={"classes": "categorical_crossentropy", "value": "mse"},
                  loss_weights={"classes": 1.0, "value": 0.5}, metrics={"classes": ["accuracy"]})
    x = [RNG.normal(size=(12, 4)).astype("float32") for _ in range(2)]
    y = [np.eye(3, dtype="float32")[RNG.integers(0, 3, 12)], RNG.normal(size=(12, 6)).astype("float32")]
    model.fit(x, y, epochs=1, verbose=0)
    loaded = load_model(saved(model, tmp_path))
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)


def test_compile_false_leaves_the_model_uncompiled(tmp_path):
    model = sequential()
    model.compile(optimizer="rmsprop", loss="mse")
    assert not load_model(saved(model, tmp_path), compile=False).compiled


def test_unsavable_compile_arguments_warn_and_keep_the_model(tmp_path):
    model = Sequential([Dense(2, input_dim=4)])
    model.compile(optimizer="sgd", loss=lambda y_true, y_pred: ops.mean(ops.square(y_true - y_pred)))
    with pytest.warns(UserWarning, match="compile"):
        path = saved(model, tmp_path)
    loaded = load_model(path)
    assert not loaded.compiled and len(loaded.weights) == 2


# --- saving refuses what it cannot store -----------------------------------------------------------------


def test_lambda_activation_cannot_be_saved(tmp_path):
    model = Sequential([Dense(2, activation=lambda x: x * 2, input_dim=4)])
    with pytest.raises(ValueError, match="lambda"):
        model.save(tmp_path / "model.keras")
    assert list(tmp_path.iterdir()) == []


def test_unregistered_function_cannot_be_saved(tmp_path):
    model = Sequential([Dense(2, activation=unregistered_activation, input_dim=4)])
    with pytest.raises(ValueError, match="unregistered_activation.*register"):
        model.save(tmp_path / "model.keras")


@pytest.mark.parametrize("name, message", [("model.zip", ".keras"), ("model.weights", ".keras")])
def test_save_needs_a_keras_path(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        sequential().save(tmp_path / name)


def test_overwrite_false_keeps_the_existing_file(tmp_path):
    path = saved(sequential(), tmp_path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="already exists"):
        sequential().save(path, overwrite=False)
    assert path.read_bytes() == before


# --- atomic writes ---------------------------------------------------------------------------------------


def test_failed_rename_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = saved(sequential(), tmp_path)
    before = path.read_bytes()

    def failing_replace(source, target):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated"):
        sequential().save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]


def test_failure_in_the_middle_of_writing_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = saved(sequential(), tmp_path)
    before = path.read_bytes()
    original = zipfile.ZipFile.writestr

    def writestr(self, name, data, *args, **kwargs):
        if str(getattr(name, "filename", name)).endswith((".npz", ".h5")):
            raise OSError("simulated disk full")
        return original(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", writestr)
    with pytest.raises(OSError, match="disk full"):
        sequential().save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.keras"]
    monkeypatch.undo()
    load_model(path)


def test_weights_file_is_written_atomically_too(tmp_path, monkeypatch):
    model = sequential()
    path = tmp_path / "model.weights.npz"
    save_weights(model, path)
    before = path.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda descriptor: (_ for _ in ()).throw(OSError("simulated fsync failure")))
    with pytest.raises(OSError, match="fsync"):
        save_weights(sequential(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.weights.npz"]


# --- untrusted files -------------------------------------------------------------------------------------


def expect_load_error(path: Path, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        load_model(path)
    assert str(path) in str(caught.value)


def test_truncated_file(tmp_path):
    path = saved(sequential(), tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    expect_load_error(path, "zip")


def test_random_bytes(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(RNG.bytes(5000))
    expect_load_error(path, "not a valid .keras file")


def test_empty_file(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"")
    expect_load_error(path, "zip")


def test_zip_without_config(tmp_path):
    path = saved(sequential(), tmp_path)
    rewrite(path, {"config.json": None})
    expect_load_error(path, "config.json")


def test_config_that_is_not_json(tmp_path):
    path = saved(sequential(), tmp_path)
    rewrite(path, {"config.json": b"{\"class_name\": \"Sequential\", "})
    expect_load_error(path, "not valid JSON")


def test_unknown_class_name(tmp_path):
    path = saved(sequential(), tmp_path)
    config = read_json(path, "config.json")
    config["config"]["layers"][1]["class_name"] = "NoSuchLayer"
    rewrite(path, {"config.json": json.dumps(config).encode()})
    expect_load_error(path, "NoSuchLayer.*custom_objects")


def test_weights_with_wrong_shapes(tmp_path):
    path = saved(sequential(), tmp_path)
    arrays = h5_arrays(path)
    arrays["layers/dense/vars/0"] = np.zeros((5, 8), "float32")
    rewrite(path, {"model.weights.h5": h5_bytes(arrays)})
    expect_load_error(path, "shape")


def test_weights_with_a_missing_entry(tmp_path):
    path = saved(sequential(), tmp_path)
    arrays = h5_arrays(path)
    del arrays["layers/dense_1/vars/1"]
    rewrite(path, {"model.weights.h5": h5_bytes(arrays)})
    expect_load_error(path, "lacks 'layers/dense_1/vars/1'")


def test_weights_that_need_pickle_are_refused(tmp_path, monkeypatch):
    path = saved(sequential(), tmp_path)
    arrays = h5_arrays(path)  # as an earlier release's file, with model.weights.npz
    arrays["layers/dense/vars/0"] = np.array([{"payload": 1}, None], dtype=object)
    rewrite(path, {"model.weights.h5": None, "model.weights.npz": npz_bytes(arrays)})
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load was called"))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads was called"))
    expect_load_error(path, "pickle")


def test_config_holding_a_lambda_is_refused(tmp_path, monkeypatch):
    path = saved(Sequential([Dense(2, input_dim=4)]), tmp_path)
    config = read_json(path, "config.json")
    code = marshal.dumps((lambda x: x).__code__).hex()
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "builtins", "class_name": "__lambda__", "config": {"code": code}, "registered_name": None}
    rewrite(path, {"config.json": json.dumps(config).encode()})
    monkeypatch.setattr(marshal, "loads", lambda *a, **k: pytest.fail("marshal.loads was called"))
    expect_load_error(path, "lambda")
    with pytest.raises(ValueError, match="lambda"):
        load_model(path, safe_mode=False)


def test_keras_written_file_with_h5_weights(tmp_path):
    path = saved(sequential(), tmp_path)
    rewrite(path, {"model.weights.npz": None, "model.weights.h5": b"\x89HDF\r\n\x1a\n"})
    expect_load_error(path, "HDF5")


def test_oversized_member_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = saved(sequential(), tmp_path)
    rewrite(path, {"config.json": b" " * 5000 + json.dumps(read_json(path, "config.json")).encode()})
    monkeypatch.setattr(keras_file, "MAX_CONFIG_BYTES", 4096)
    expect_load_error(path, "over the limit")


def test_load_never_imports_a_module_named_in_the_file(tmp_path, monkeypatch):
    probe = tmp_path / "lamina_saving_probe.py"
    probe.write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nclass Probe:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = saved(sequential(), tmp_path)
    config = read_json(path, "config.json")
    config["config"]["layers"][1].update(module="lamina_saving_probe", class_name="Probe")
    rewrite(path, {"config.json": json.dumps(config).encode()})
    expect_load_error(path, "Probe")
    assert "lamina_saving_probe" not in sys.modules
    assert not (tmp_path / "imported").exists()


def test_a_valid_file_loads_without_pickle_or_marshal(tmp_path, monkeypatch):
    model = sequential()
    model.compile(optimizer="adam", loss="mse")
    x, y = data()
    model.fit(x, y, epochs=1, verbose=0)
    path = saved(model, tmp_path)
    for module, name in ((pickle, "load"), (pickle, "loads"), (marshal, "loads"), (marshal, "load")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("unpickling or unmarshalling was attempted"))
    load_model(path)


def test_damaged_files_always_raise_value_error(tmp_path):
    model = Sequential([Dense(3, input_dim=4), Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(*data(16, 4, 2), epochs=1, verbose=0)
    good = saved(model, tmp_path).read_bytes()
    path = tmp_path / "damaged.keras"
    damaged = [good[:size] for size in range(0, len(good), max(1, len(good) // 40))]
    for position in RNG.integers(0, len(good), 40):
        flipped = bytearray(good)
        flipped[position] ^= 0xFF
        damaged.append(bytes(flipped))
    for content in damaged:
        path.write_bytes(content)
        try:
            load_model(path)
        except ValueError as error:
            assert str(path) in str(error)


def test_missing_file_and_wrong_suffix(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_model(tmp_path / "absent.keras")
    with pytest.raises(ValueError, match="HDF5"):
        load_model(tmp_path / "model.h5")


# --- weights files ---------------------------------------------------------------------------------------


def test_save_and_load_weights(tmp_path):
    model, other = two_in_two_out(), two_in_two_out()
    path = tmp_path / "model.weights.npz"
    model.save_weights(path)
    other.load_weights(path)
    for got, expected in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_load_weights_from_a_keras_file(tmp_path):
    model, other = sequential(), sequential()
    other.load_weights(saved(model, tmp_path))
    for got, expected in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_weights_of_another_model_are_refused_and_nothing_changes(tmp_path):
    path = tmp_path / "model.weights.npz"
    Sequential([Dense(8, input_dim=4), Dense(3)]).save_weights(path)
    model = Sequential([Dense(8, input_dim=4), Dense(2)])
    before = model.get_weights()
    with pytest.raises(ValueError, match="shape") as caught:
        load_weights(model, path)
    assert str(path) in str(caught.value)
    for got, expected in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name, message", [("model.npz", ".weights.npz"), ("model.weights", ".weights.h5")])
def test_weights_need_a_weights_suffix(tmp_path, name, message):
    with pytest.raises(ValueError, match=message):
        save_weights(sequential(), tmp_path / name)


def test_corrupted_weights_file(tmp_path):
    path = tmp_path / "model.weights.npz"
    path.write_bytes(b"PK\x03\x04" + RNG.bytes(300))
    with pytest.raises(ValueError, match="model.weights.npz"):
        load_weights(sequential(), path)


def test_include_optimizer_applies_to_h5_files_only(tmp_path):
    model = sequential()
    model.compile("adam", "mse")
    model.fit(np.zeros((4, 4), "float32"), np.zeros((4, 3), "float32"), verbose=0)
    model.save(tmp_path / "m.h5", include_optimizer=False)
    loaded = load_model(tmp_path / "m.h5", custom_objects={"ScaledDense": ScaledDense})
    assert loaded.optimizer is None  # as Keras 2: without the optimizer, no training config either
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="include_optimizer"):
        model.save(tmp_path / "m.keras", include_optimizer=False)
