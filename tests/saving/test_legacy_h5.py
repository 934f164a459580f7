"""Keras 2's HDF5 files: fixtures written by Keras's legacy writer, Lamina's own .h5 files, Keras 2 configs,
weights by order and by name, and damaged or hostile files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import BatchNormalization, Concatenate, Dense, Input, LSTM
from lamina.models import Model, Sequential
from lamina.saving import load_model

FIXTURES = Path(__file__).parent.parent / "fixtures" / "keras2"
RNG = np.random.default_rng(0)


def _numpy(value) -> np.ndarray:
    return np.asarray(backend.impl.convert_to_numpy(value))


def _weights(model) -> list[np.ndarray]:
    return [_numpy(variable) for variable in model.weights]


# --- files written by Keras ------------------------------------------------------------------------------

KERAS_FILES = {"mlp": ("categorical_crossentropy", ["accuracy"], 0.001),
               "cnn": ("mse", ["mae"], 0.01),
               "lstm": ("binary_crossentropy", ["accuracy"], 0.001)}


@pytest.mark.parametrize("name", sorted(KERAS_FILES))
def test_keras_file_loads_with_its_predictions_and_compile_state(training_backend, name):
    model = load_model(FIXTURES / f"{name}.h5")
    x, expected = np.load(FIXTURES / f"{name}.x.npy"), np.load(FIXTURES / f"{name}.y.npy")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    loss, metrics, rate = KERAS_FILES[name]
    assert model.compiled and model._compile_config["loss"] == loss and model._compile_config["metrics"] == metrics
    assert type(model.optimizer).__name__ == "Adam"
    assert float(_numpy(model.optimizer.learning_rate)) == pytest.approx(rate)
    assert int(_numpy(model.optimizer.iterations)) == 1  # one training step was saved with it


@pytest.mark.parametrize("name", sorted(KERAS_FILES))
def test_keras_file_predicts_on_numpy(name):
    with backend.use("numpy"):
        model = load_model(FIXTURES / f"{name}.h5", compile=False)
        np.testing.assert_allclose(model.predict(np.load(FIXTURES / f"{name}.x.npy"), verbose=0),
                                   np.load(FIXTURES / f"{name}.y.npy"), atol=1e-5)


def test_keras_file_loads_uncompiled_when_asked(training_backend):
    model = lamina.models.load_model(FIXTURES / "mlp.h5", compile=False)
    assert not model.compiled


@pytest.mark.parametrize("name", sorted(KERAS_FILES))
def test_keras_weights_file_loads_by_order(training_backend, name):
    model = load_model(FIXTURES / f"{name}.h5", compile=False)
    expected = _weights(model)
    for variable in model.weights:
        variable.assign(backend.impl.zeros_like(variable))
    model.load_weights(FIXTURES / f"{name}.weights_legacy.h5")
    for got, want in zip(_weights(model), expected):
        np.testing.assert_array_equal(got, want)


# --- Lamina's own files ----------------------------------------------------------------------------------


def _functional_model() -> Model:
    inputs = Input((5, 3), name="sequence")
    hidden = LSTM(4, name="lstm")(inputs)
    joined = Concatenate(name="join")([hidden, Dense(3, activation="relu", name="side")(hidden)])
    outputs = Dense(2, activation="softmax", name="head")(BatchNormalization(name="norm")(joined))
    return Model(inputs, outputs, name="two_paths")


def test_lamina_file_round_trips_from_torch_to_jax(tmp_path):
    x = RNG.normal(size=(6, 5, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[np.arange(6) % 2]
    with backend.use("torch"):
        lamina.set_random_seed(1)
        model = _functional_model()
        model.compile(optimizer=lamina.optimizers.Adam(0.005), loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=6, epochs=2, verbose=0)
        model.save(tmp_path / "m.h5")
        expected, slots = model.predict(x, verbose=0), [_numpy(v) for v in model.optimizer.variables]
    with h5py.File(tmp_path / "m.h5") as file:
        assert json.loads(file.attrs["model_config"])["class_name"] == "Functional"
        assert json.loads(file.attrs["training_config"])["optimizer_config"]["class_name"] == "Adam"
        assert "head/kernel:0" in [n.decode() for n in file["model_weights/head"].attrs["weight_names"]]
        assert "optimizer_weights" in file
    with backend.use("jax"):
        loaded = load_model(tmp_path / "m.h5")
        np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
        assert loaded._compile_config["loss"] == "categorical_crossentropy"
        for got, want in zip([_numpy(v) for v in loaded.optimizer.variables], slots):
            np.testing.assert_allclose(got, want, atol=1e-7)


def test_save_weights_and_load_by_order(training_backend, tmp_path):
    model = _functional_model()
    model.save_weights(tmp_path / "w.h5")
    other = _functional_model()
    other.load_weights(tmp_path / "w.h5")
    for got, want in zip(_weights(other), _weights(model)):
        np.testing.assert_array_equal(got, want)


def _mlp(names: tuple[str, str], units: int = 3) -> Sequential:
    return Sequential([Input((4,)), Dense(units, name=names[0]), Dense(2, name=names[1])])


def test_load_weights_by_name_and_skip_mismatch(training_backend, tmp_path):
    source = _mlp(("first", "second"))
    source.save_weights(tmp_path / "w.hdf5")
    renamed = _mlp(("other", "second"))
    before = _numpy(renamed.get_layer("other").kernel)
    renamed.load_weights(tmp_path / "w.hdf5", by_name=True)  # only "second" matches
    np.testing.assert_array_equal(_numpy(renamed.get_layer("other").kernel), before)
    np.testing.assert_array_equal(_numpy(renamed.get_layer("second").kernel), _numpy(source.get_layer("second").kernel))

    wider = _mlp(("first", "second"), units=5)  # every shape differs from the file's
    with pytest.raises(ValueError, match="w.hdf5.*shape"):
        wider.load_weights(tmp_path / "w.hdf5")
    with pytest.raises(ValueError, match="shape"):
        wider.load_weights(tmp_path / "w.hdf5", by_name=True)
    with pytest.warns(UserWarning, match="Skipping"):
        wider.load_weights(tmp_path / "w.hdf5", by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(_numpy(wider.get_layer("second").bias), _numpy(source.get_layer("second").bias))


def test_load_weights_refuses_another_structure(training_backend, tmp_path):
    _mlp(("a", "b")).save_weights(tmp_path / "w.h5")
    deeper = Sequential([Input((4,)), Dense(3), Dense(3), Dense(2)])
    with pytest.raises(ValueError, match="2 layers.*3 layers"):
        deeper.load_weights(tmp_path / "w.h5")


# --- Keras 2's configs -----------------------------------------------------------------------------------


def _write(path: Path, model_config: dict, layers: dict[str, dict[str, np.ndarray]],
           training_config: dict | None = None, optimizer: dict[str, np.ndarray] | None = None) -> None:
    """A file as Keras 2 wrote it: fixed-length byte names, weights named "layer/kernel:0"."""
    with h5py.File(path, "w") as file:
        file.attrs["keras_version"] = b"2.4.0"
        file.attrs["backend"] = b"tensorflow"
        file.attrs["model_config"] = json.dumps(model_config).encode()
        if training_config is not None:
            file.attrs["training_config"] = json.dumps(training_config).encode()
        group = file.create_group("model_weights")
        group.attrs["layer_names"] = np.array([name.encode() for name in layers])
        for name, weights in layers.items():
            layer_group = group.create_group(name)
            layer_group.attrs["weight_names"] = np.array([key.encode() for key in weights])
            for key, value in weights.items():
                layer_group.create_dataset(key, data=value)
        if optimizer is not None:
            group = file.create_group("optimizer_weights")
            group.attrs["weight_names"] = np.array([key.encode() for key in optimizer])
            for key, value in optimizer.items():
                group.create_dataset(key, data=value)


def _glorot_keras2() -> dict:
    return {"class_name": "VarianceScaling",
            "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}


def test_keras2_sequential_as_a_list_with_batch_input_shape(training_backend, tmp_path):
    kernel, bias = RNG.normal(size=(3, 2)).astype("float32"), RNG.normal(size=(2,)).astype("float32")
    config = {"class_name": "Sequential", "config": [
        {"class_name": "Dense", "config": {"name": "dense_1", "trainable": True, "batch_input_shape": [None, 3],
                                           "dtype": "float32", "units": 2, "activation": "linear",
                                           "use_bias": True, "kernel_initializer": _glorot_keras2(),
                                           "bias_initializer": {"class_name": "Zeros", "config": {}},
                                           "kernel_regularizer": None, "bias_regularizer": None,
                                           "activity_regularizer": None, "kernel_constraint": None,
                                           "bias_constraint": None}}]}
    training = {"optimizer_config": {"class_name": "Adam", "config": {"lr": 0.02, "beta_1": 0.9, "beta_2": 0.999,
                                                                      "decay": 0.0, "epsilon": 1e-07,
                                                                      "amsgrad": False}},
                "loss": "mean_squared_error", "metrics": [["accuracy"]], "sample_weight_mode": None,
                "loss_weights": None}
    _write(tmp_path / "old.h5", config, {"dense_1": {"dense_1/kernel:0": kernel, "dense_1/bias:0": bias}}, training)
    model = load_model(tmp_path / "old.h5")
    x = RNG.normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x @ kernel + bias, atol=1e-5)
    assert float(_numpy(model.optimizer.learning_rate)) == pytest.approx(0.02)
    assert model._compile_config["metrics"] == ["accuracy"]


@pytest.mark.parametrize("layout", ["keras2", "keras2.11"])
def test_keras2_optimizer_state_is_matched_by_slot_kind(training_backend, tmp_path, layout):
    shapes = {"dense/kernel": (3, 2), "dense/bias": (2,), "out/kernel": (2, 1), "out/bias": (1,)}
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "units": 2, "batch_input_shape": [None, 3]}},
        {"class_name": "Dense", "config": {"name": "out", "units": 1}}]}}
    weights = {layer: {f"{path}:0": np.ones(shape, "float32") for path, shape in shapes.items()
                       if path.startswith(layer + "/")} for layer in ("dense", "out")}
    slots = {kind: {path: RNG.normal(size=shape).astype("float32") for path, shape in shapes.items()}
             for kind in ("m", "v")}
    if layout == "keras2":  # all "m" slots, then all "v" slots
        state = {"Adam/iter:0": np.array(7, "int64"),
                 **{f"Adam/{path}/{kind}:0": value for kind in ("m", "v") for path, value in slots[kind].items()}}
    else:  # Keras 2.11's optimizers: slots interleaved, kind first
        state = {"Adam/iteration:0": np.array(7, "int64"),
                 **{f"Adam/{kind}/{path}:0": slots[kind][path] for path in shapes for kind in ("m", "v")}}
    training = {"optimizer_config": {"class_name": "Custom>Adam", "config": {"name": "Adam", "learning_rate": 0.1,
                                                                             "is_legacy_optimizer": False}},
                "loss": {"class_name": "MeanSquaredError", "config": {"reduction": "auto", "name": "mse"}},
                "metrics": None, "loss_weights": None}
    _write(tmp_path / "opt.h5", config, weights, training, state)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_model(tmp_path / "opt.h5")
    optimizer = model.optimizer
    assert int(_numpy(optimizer.iterations)) == 7
    by_path = {str(v.path): _numpy(v) for v in optimizer.variables}
    np.testing.assert_array_equal(by_path["adam/dense_kernel_momentum"], slots["m"]["dense/kernel"])
    np.testing.assert_array_equal(by_path["adam/out_bias_velocity"], slots["v"]["out/bias"])


def test_keras2_sequential_dict_with_input_dim_and_policy(training_backend, tmp_path):
    kernel = RNG.normal(size=(3, 4)).astype("float32")
    config = {"class_name": "Sequential", "config": {"name": "old", "layers": [
        {"class_name": "Dense", "config": {"name": "dense", "input_dim": 3, "units": 4, "use_bias": False,
                                           "dtype": {"class_name": "Policy", "config": {"name": "float32"}}}},
        {"class_name": "BatchNormalization", "config": {"name": "bn", "axis": [1], "fused": None,
                                                        "renorm": False, "virtual_batch_size": None,
                                                        "adjustment": None}}]}}
    stats = [np.full(4, value, "float32") for value in (2.0, 0.5, 1.0, 4.0)]
    _write(tmp_path / "old.h5", config, {
        "dense": {"dense/kernel:0": kernel},
        "bn": dict(zip(["bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"], stats))})
    model = load_model(tmp_path / "old.h5")
    x = RNG.normal(size=(2, 3)).astype("float32")
    expected = 2.0 * (x @ kernel - 1.0) / np.sqrt(4.0 + 1e-3) + 0.5
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5)
    assert not model.compiled


def test_keras2_functional_with_nested_list_nodes(training_backend, tmp_path):
    config = {"class_name": "Model", "config": {
        "name": "model", "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 2], "dtype": "float32", "sparse": False, "ragged": False,
                        "name": "input_1"}},
            {"class_name": "Dense", "name": "a", "inbound_nodes": [[["input_1", 0, 0, {}]]],
             "config": {"name": "a", "units": 2, "use_bias": False}},
            {"class_name": "Add", "name": "add", "inbound_nodes": [[["input_1", 0, 0, {}], ["a", 0, 0, {}]]],
             "config": {"name": "add"}}],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["add", 0, 0]]}}
    kernel = RNG.normal(size=(2, 2)).astype("float32")
    _write(tmp_path / "f.h5", config, {"input_1": {}, "a": {"a/kernel:0": kernel}, "add": {}})
    model = load_model(tmp_path / "f.h5")
    x = RNG.normal(size=(3, 2)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), x + x @ kernel, atol=1e-5)


# --- damaged and hostile files ---------------------------------------------------------------------------


def _valid_file(path: Path) -> Path:
    _write(path, {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 2, "batch_input_shape": [None, 2]}}]}},
           {"d": {"d/kernel:0": np.ones((2, 2), "float32"), "d/bias:0": np.zeros(2, "float32")}})
    return path


def _edit(path: Path, change) -> Path:
    with h5py.File(path, "r+") as file:
        change(file)
    return path


HOSTILE = {
    "not_hdf5": lambda path: path.write_bytes(b"this is not an HDF5 file at all" * 10),
    "empty": lambda path: path.write_bytes(b""),
    "truncated": lambda path: path.write_bytes(_valid_file(path).read_bytes()[:700]),
    "no_config": lambda path: _edit(_valid_file(path), lambda f: f.attrs.__delitem__("model_config")),
    "bad_json": lambda path: _edit(_valid_file(path), lambda f: f.attrs.__setitem__("model_config", "{[")),
    "unknown_class": lambda path: _edit(_valid_file(path), lambda f: f.attrs.__setitem__(
        "model_config", json.dumps({"class_name": "Sequential", "config": [{"class_name": "Evil", "config": {}}]}))),
    "string_weights": lambda path: _edit(_valid_file(path), lambda f: (
        f["model_weights/d/d"].__delitem__("kernel:0"),
        f["model_weights/d/d"].create_dataset("kernel:0", data=np.array([b"ab", b"cd"], dtype=object),
                                               dtype=h5py.string_dtype()))),
    "absolute_name": lambda path: _edit(_valid_file(path), lambda f: f["model_weights/d"].attrs.__setitem__(
        "weight_names", np.array([b"/model_weights/d/d/kernel:0", b"d/bias:0"]))),
    "parent_name": lambda path: _edit(_valid_file(path), lambda f: f["model_weights/d"].attrs.__setitem__(
        "weight_names", np.array([b"../d/d/kernel:0", b"d/bias:0"]))),
    "missing_dataset": lambda path: _edit(_valid_file(path), lambda f: f["model_weights/d/d"].__delitem__("bias:0")),
    "external_link": lambda path: _edit(_valid_file(path), lambda f: (
        f["model_weights/d/d"].__delitem__("bias:0"),
        f["model_weights/d/d"].__setitem__("bias:0", h5py.ExternalLink("/etc/passwd", "/x")))),
    "wrong_shape": lambda path: _edit(_valid_file(path), lambda f: (
        f["model_weights/d/d"].__delitem__("bias:0"),
        f["model_weights/d/d"].create_dataset("bias:0", data=np.zeros(7, "float32")))),
    "names_not_a_list": lambda path: _edit(_valid_file(path), lambda f: f["model_weights"].attrs.__setitem__(
        "layer_names", np.zeros((2, 2)))),
}


@pytest.mark.parametrize("fault", sorted(HOSTILE))
def test_damaged_or_hostile_file_raises_value_error_naming_it(fault, tmp_path):
    path = tmp_path / f"{fault}.h5"
    HOSTILE[fault](path)
    with pytest.raises(ValueError, match=f"{fault}.h5"):
        load_model(path)


def test_valid_hand_written_file_loads(tmp_path):
    model = load_model(_valid_file(tmp_path / "ok.h5"))
    np.testing.assert_allclose(model.predict(np.ones((1, 2), "float32"), verbose=0), [[2.0, 2.0]])


def test_weights_only_file_is_not_a_model(tmp_path):
    model = _mlp(("a", "b"))
    model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="w.h5.*weights only"):
        load_model(tmp_path / "w.h5")


def test_save_is_atomic_and_respects_overwrite(tmp_path):
    model = _mlp(("a", "b"))
    model.save(tmp_path / "m.h5")
    with pytest.raises(ValueError, match="overwrite"):
        lamina.saving.save_model(model, tmp_path / "m.h5", overwrite=False)
    model.save(tmp_path / "m.h5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_model(tmp_path / "m.h5", compile=False)


def test_mutated_files_load_or_raise_value_error(tmp_path):
    """Bit flips, overwritten bytes and truncations of a Keras file: each loads or raises ValueError."""
    data = (FIXTURES / "mlp.h5").read_bytes()
    rng = np.random.default_rng(7)
    outcomes = {"loaded": 0, "refused": 0}
    for case in range(60):
        mutated = bytearray(data)
        if case % 4 == 0:
            mutated = mutated[: int(rng.integers(0, len(data)))]
        else:
            for position in rng.integers(0, len(data), size=int(rng.integers(1, 40))):
                mutated[position] = int(rng.integers(0, 256)) if case % 2 else mutated[position] ^ 0x10
        path = tmp_path / f"case{case}.h5"
        path.write_bytes(bytes(mutated))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                load_model(path)
            outcomes["loaded"] += 1
        except ValueError as error:
            assert f"case{case}.h5" in str(error)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0


@lamina.saving.register_keras_serializable(package="LegacyTests")
class TwoDense(Model):
    """A subclassed model: rebuilt from its registered name and its saved input shape."""

    def __init__(self, hidden: int = 3, **kwargs) -> None:
        super().__init__(**kwargs)
        self.hidden = hidden
        self.first, self.second = Dense(hidden, activation="tanh"), Dense(2)

    def call(self, inputs):
        return self.second(self.first(inputs))

    def get_config(self) -> dict:
        return {**super().get_config(), "hidden": self.hidden}


def test_registered_subclassed_model_round_trips(training_backend, tmp_path):
    model = TwoDense(hidden=4)
    x = RNG.normal(size=(3, 5)).astype("float32")
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "sub.h5")
    loaded = load_model(tmp_path / "sub.h5")
    assert isinstance(loaded, TwoDense) and loaded.hidden == 4
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, atol=1e-6)
