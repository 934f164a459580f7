"""Damaged files load identically on numpy, torch and jax, or are refused with the same message; a declared
size over the loading budget is refused before anything is allocated, naming the config path and the budget."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

import h5py
import numpy as np
import pytest

import lamina
from lamina import backend, layers, models

BACKENDS = ("numpy", "torch", "jax")


def _mlp() -> Any:
    return models.Sequential([layers.Input((4,), name="x"), layers.Dense(3, activation="relu", name="hidden"),
                              layers.Dense(2, name="out")])


def _cnn() -> Any:
    inputs = layers.Input((6, 6, 1), name="image")
    features = layers.Flatten(name="flat")(layers.Conv2D(2, 3, name="conv")(inputs))
    return models.Model(inputs, layers.Dense(2, name="head")(features))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    files = {}
    with backend.use("numpy"):
        lamina.set_random_seed(3)
        for name, make in (("mlp", _mlp), ("cnn", _cnn)):
            make().save(folder / f"{name}.keras")
            files[name] = (folder / f"{name}.keras").read_bytes()
    return files


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def edit_config(edit: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        members = _members(data)
        config = json.loads(members["config.json"])
        edit(config)
        members["config.json"] = json.dumps(config).encode()
        return _zipped(members)

    return damage


def edit_weights(edit: Callable[[h5py.File], None]) -> Callable[[bytes], bytes]:
    def damage(data: bytes) -> bytes:
        members = _members(data)
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "r+") as file:
            edit(file)
        members["model.weights.h5"] = buffer.getvalue()
        return _zipped(members)

    return damage


def _layer(config: dict, index: int) -> dict:
    return config["config"]["layers"][index]["config"]


def _set(index: int, key: str, value: Any) -> Callable[[dict], None]:
    return lambda config: _layer(config, index).__setitem__(key, value)


def _replace_dataset(path: str, value: np.ndarray) -> Callable[[h5py.File], None]:
    def edit(file: h5py.File) -> None:
        del file[path]
        file.create_dataset(path, data=value)

    return edit


# (seed, damage, expected: None when the damaged file still loads, else words its error must hold)
CASES = {
    "units as a string": ("mlp", edit_config(_set(1, "units", "x")), ["config.json: config.layers[1].config.units"]),
    "units deleted": ("mlp", edit_config(lambda c: _layer(c, 1).pop("units")),
                      ["config.json: config.layers[1].config has no key 'units'"]),
    "negative units": ("mlp", edit_config(_set(2, "units", -2)), ["config.json: config.layers[2].config.units"]),
    "unknown activation": ("mlp", edit_config(_set(1, "activation", "no_such_activation")),
                           ["config.json: config.layers[1].config", "no_such_activation"]),
    "unknown class": ("mlp", edit_config(lambda c: c["config"]["layers"][2].__setitem__("class_name", "Nope")),
                      ["config.json: config.layers[2].class_name: Unknown class 'Nope'"]),
    "layers deleted": ("mlp", edit_config(lambda c: c["config"].pop("layers")),
                       ["config.json: config has no key 'layers'"]),
    "a weight reshaped": ("mlp", edit_weights(_replace_dataset("layers/dense/vars/0", np.ones((3, 4), "float32"))),
                          ["model.weights.h5", "layers/dense/vars/0", "(3, 4)"]),
    "a weight removed": ("mlp", edit_weights(lambda f: f.__delitem__("layers/dense_1/vars/1")),
                         ["model.weights.h5", "layers/dense_1/vars/1"]),
    "a weight as float64": ("mlp", edit_weights(_replace_dataset("layers/dense/vars/1", np.full(3, 0.5))), None),
    "a weight as text": ("mlp", edit_weights(_replace_dataset("layers/dense/vars/1", np.array([b"a", b"b", b"c"]))),
                         ["model.weights.h5", "layers/dense/vars/1"]),
    "kernel size as a float": ("cnn", edit_config(_set(1, "kernel_size", [2.5, 3])),
                               ["config.json: config.layers[1].config.kernel_size"]),
    "history naming no layer": ("cnn", edit_config(
        lambda c: c["config"]["layers"][2]["inbound_nodes"][0]["args"][0]["config"].__setitem__(
            "keras_history", ["ghost", 0, 0])), ["config.json", "ghost"]),
    "truncated": ("cnn", lambda data: data[: len(data) // 2], ["zip"]),
}


def _outcome(path: Path, name: str) -> tuple[str, Any]:
    with backend.use(name):
        try:
            model = models.load_model(path)
        except ValueError as error:
            return "refused", str(error)
        x = np.linspace(-1.0, 1.0, int(np.prod(model.inputs[0].shape[1:]))).reshape(1, *model.inputs[0].shape[1:])
        return "loaded", np.asarray(model.predict(x.astype("float32"), verbose=0))


@pytest.mark.parametrize("case", sorted(CASES))
def test_damaged_files_load_or_fail_alike_on_every_backend(seeds: dict, tmp_path: Path, case: str) -> None:
    seed, damage, expected = CASES[case]
    path = tmp_path / "damaged.keras"
    path.write_bytes(damage(seeds[seed]))
    outcomes = {name: _outcome(path, name) for name in BACKENDS}
    kind, first = outcomes["numpy"]
    assert kind == ("loaded" if expected is None else "refused"), (case, first)
    for name in BACKENDS[1:]:
        other_kind, other = outcomes[name]
        assert other_kind == kind, (case, name, other)
        if kind == "loaded":
            np.testing.assert_allclose(other, first, atol=1e-6)
        else:
            assert other == first, (case, name)
    if expected is not None:
        for words in expected:
            assert words in first, (case, first)


@pytest.mark.parametrize("key, value", [("units", 10**9), ("units", 2**40)])
def test_huge_declared_sizes_are_refused_before_allocating(seeds: dict, tmp_path: Path, key: str,
                                                           value: int) -> None:
    path = tmp_path / "huge.keras"
    path.write_bytes(edit_config(_set(1, key, value))(seeds["mlp"]))
    started = time.perf_counter()
    with backend.use("numpy"), pytest.raises(ValueError) as caught:
        models.load_model(path)
    message = str(caught.value)
    assert f"config.json: config.layers[1].config.{key}" in message
    assert "loading budget of 268435456 bytes" in message
    assert time.perf_counter() - started < 2.0


def test_huge_declared_input_shape_is_refused(seeds: dict, tmp_path: Path) -> None:
    path = tmp_path / "wide.keras"
    path.write_bytes(edit_config(_set(0, "batch_shape", [None, 10**9]))(seeds["mlp"]))
    with backend.use("numpy"), pytest.raises(ValueError, match=r"config\.layers\[0\]\.config\.batch_shape .*budget"):
        models.load_model(path)


def test_weights_declaring_more_than_the_file_could_hold_are_refused(seeds: dict, tmp_path: Path) -> None:
    def huge(file: h5py.File) -> None:
        del file["layers/dense/vars/0"]
        file.create_dataset("layers/dense/vars/0", shape=(2**16, 2**12), dtype="float32", chunks=True,
                            compression="gzip")  # 1 GiB declared, a few KB stored

    path = tmp_path / "inflating.keras"
    path.write_bytes(edit_weights(huge)(seeds["mlp"]))
    with backend.use("numpy"), pytest.raises(ValueError, match=r"model\.weights\.h5: .*layers/dense/vars/0"):
        models.load_model(path)


def test_keras2_file_with_huge_units_is_refused_naming_model_config(tmp_path: Path) -> None:
    path = tmp_path / "huge.h5"
    with backend.use("numpy"):
        _mlp().save(path)
        with h5py.File(path, "r+") as file:
            config = json.loads(file.attrs["model_config"])
            config["config"]["layers"][1]["config"]["units"] = 10**9
            file.attrs["model_config"] = json.dumps(config)
        with pytest.raises(ValueError, match=r"model_config: config\.layers\[1\]\.config\.units .*loading budget"):
            models.load_model(path)
