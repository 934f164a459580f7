"""Lambda layers in saved files: a Python lambda is stored as Keras 3 stores it (bytecode) and runs again only
outside safe mode; named functions are stored by name and load in safe mode."""

from __future__ import annotations

import json
import marshal
import sys
import zipfile

import numpy as np
import pytest

import lamina
from lamina import config, layers, models
from lamina.saving import registry

X = np.linspace(-1.0, 1.0, 12, dtype="float32").reshape(4, 3)


def scaled(factor: float) -> layers.Lambda:
    return layers.Lambda(lambda x: x * factor + 1.0, name="scale")


@lamina.saving.register_keras_serializable(package="LambdaTests")
def doubled(x):
    return x * 2.0


def plain_negated(x):
    return -x


def saved(model, tmp_path, name="m.keras"):
    path = tmp_path / name
    model.save(path)
    return path


def stored_config(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def lambda_model() -> models.Model:
    return models.Sequential([layers.Input((3,)), layers.Dense(2), scaled(3.0)])


def test_lambda_is_stored_as_keras_stores_it(tmp_path, training_backend):
    path = saved(lambda_model(), tmp_path)
    function = stored_config(path)["config"]["layers"][2]["config"]["function"]
    assert function["class_name"] == "__lambda__"
    assert set(function["config"]) == {"code", "defaults", "closure"}
    assert function["config"]["closure"] == [3.0] and function["config"]["defaults"] is None
    import base64
    import types

    assert isinstance(marshal.loads(base64.b64decode(function["config"]["code"])), types.CodeType)


def test_safe_mode_refuses_a_lambda_naming_the_layer(tmp_path, training_backend, monkeypatch):
    path = saved(lambda_model(), tmp_path)
    from lamina.layers.core import lambda_layer

    class NoMarshal:
        def loads(self, *args):
            pytest.fail("a stored lambda was unmarshalled in safe mode")

    monkeypatch.setattr(lambda_layer, "marshal", NoMarshal())
    with pytest.raises(ValueError, match=r"Lambda layer 'scale'.*safe_mode=False") as caught:
        models.load_model(path)
    assert str(path) in str(caught.value) and "trust" in str(caught.value)
    with pytest.raises(ValueError, match="safe_mode=False"):
        models.load_model(path, safe_mode=True)
    assert registry.in_safe_mode()  # the scope of the failed load is gone


def test_safe_mode_false_loads_and_predicts_the_same(tmp_path, training_backend):
    model = lambda_model()
    path = saved(model, tmp_path)
    loaded = models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)
    assert registry.in_safe_mode()  # safe_mode=False lasts for that load only


def test_lambda_saved_on_one_backend_loads_on_the_other(tmp_path):
    with lamina.backend.use("torch"):
        model = lambda_model()
        expected = model.predict(X, verbose=0)
        path = saved(model, tmp_path)
    for name in ("jax", "numpy"):
        with lamina.backend.use(name):
            loaded = models.load_model(path, safe_mode=False)
            np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-6, atol=1e-6)


def test_enable_unsafe_deserialization_allows_the_default_load(tmp_path, training_backend):
    path = saved(lambda_model(), tmp_path)
    config.enable_unsafe_deserialization()
    try:
        assert not registry.in_safe_mode()
        models.load_model(path)
    finally:
        config.disable_unsafe_deserialization()
    with pytest.raises(ValueError, match="safe_mode=False"):
        models.load_model(path)


def test_lambda_output_shape_and_functional_model(tmp_path, training_backend):
    inputs = layers.Input((3,))
    outputs = layers.Lambda(doubled, output_shape=lambda shape: shape, name="twice")(layers.Dense(2)(inputs))
    model = models.Model(inputs, outputs)
    path = saved(model, tmp_path)
    with pytest.raises(ValueError, match="Lambda layer 'twice'"):
        models.load_model(path)
    loaded = models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_registered_function_is_stored_by_name_and_loads_in_safe_mode(tmp_path, training_backend):
    model = models.Sequential([layers.Input((3,)), layers.Lambda(doubled)])
    path = saved(model, tmp_path)
    function = stored_config(path)["config"]["layers"][1]["config"]["function"]
    assert function["class_name"] == "function" and function["registered_name"] == "LambdaTests>doubled"
    loaded = models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), X * 2.0)


def test_unregistered_named_function_is_stored_by_name_and_found_in_custom_objects(tmp_path, training_backend):
    model = models.Sequential([layers.Input((3,)), layers.Lambda(plain_negated)])
    path = saved(model, tmp_path)
    function = stored_config(path)["config"]["layers"][1]["config"]["function"]
    assert function == {"module": __name__, "class_name": "function", "config": "plain_negated",
                        "registered_name": "plain_negated"}
    with pytest.raises(ValueError, match="plain_negated"):
        models.load_model(path)
    loaded = models.load_model(path, custom_objects={"plain_negated": plain_negated})
    np.testing.assert_allclose(loaded.predict(X, verbose=0), -X)


def test_from_config_outside_a_load_is_safe_by_default(training_backend):
    stored = json.loads(json.dumps(scaled(2.0).get_config()))
    with pytest.raises(ValueError, match="Lambda layer 'scale'"):
        layers.Lambda.from_config(stored)
    with registry.safe_mode_scope(False):
        clone = layers.Lambda.from_config(stored)
    np.testing.assert_allclose(lamina.backend.impl.convert_to_numpy(clone(X)), X * 2.0 + 1.0, rtol=1e-6)


@pytest.mark.parametrize("code", ["not base64 !", "AAAA", None])
def test_damaged_lambda_code_is_a_value_error(code):
    stored = {"name": "broken", "function": {"class_name": "__lambda__",
                                             "config": {"code": code, "defaults": None, "closure": None}}}
    with registry.safe_mode_scope(False), pytest.raises(ValueError, match="Lambda layer 'broken'"):
        layers.Lambda.from_config(stored)


def test_a_lambda_anywhere_else_is_refused_even_outside_safe_mode(tmp_path, training_backend):
    path = saved(models.Sequential([layers.Input((3,)), layers.Dense(2, name="dense")]), tmp_path)
    stored = stored_config(path)
    lambda_config = scaled(1.0).get_config()["function"]
    stored["config"]["layers"][1]["config"]["activation"] = lambda_config
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["config.json"] = json.dumps(stored).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="Dense layer 'dense'.*safe_mode=False"):
        models.load_model(path)
    with pytest.raises(ValueError, match="lambda"):
        models.load_model(path, safe_mode=False)


def test_deserialize_keras_object_takes_safe_mode(training_backend):
    stored = lamina.saving.serialize_keras_object(scaled(2.0))
    with pytest.raises(ValueError, match="Lambda layer 'scale'"):
        lamina.saving.deserialize_keras_object(stored)
    layer = lamina.saving.deserialize_keras_object(stored, safe_mode=False)
    np.testing.assert_allclose(lamina.backend.impl.convert_to_numpy(layer(X)), X * 2.0 + 1.0, rtol=1e-6)
    assert registry.in_safe_mode()


FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "keras3_lambda"


def _fixture_python() -> str:
    return (FIXTURES / "python_version.txt").read_text().strip()


@pytest.mark.skipif(f"{sys.version_info[0]}.{sys.version_info[1]}" != _fixture_python(),
                    reason="a stored lambda is bytecode of the Python version that wrote it")
def test_lambda_file_written_by_keras(training_backend):
    path = FIXTURES / "lambda.keras"
    with pytest.raises(ValueError, match="Lambda layer 'scale'.*safe_mode=False"):
        models.load_model(path)
    model = models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(model.predict(np.load(FIXTURES / "lambda_x.npy"), verbose=0),
                               np.load(FIXTURES / "lambda_y.npy"), rtol=1e-6, atol=1e-6)


OFFSET = 0.25


def test_globals_a_lambda_reads_are_named_or_taken_from_custom_objects(tmp_path, training_backend):
    model = models.Sequential([layers.Input((3,)), layers.Lambda(lambda x: x + OFFSET * np.float32(2), name="glob")])
    path = saved(model, tmp_path)
    with pytest.raises(ValueError, match=r"Lambda layer 'glob'.*\['OFFSET', 'np'\].*custom_objects"):
        models.load_model(path, safe_mode=False)
    loaded = models.load_model(path, safe_mode=False, custom_objects={"OFFSET": OFFSET, "np": np})
    np.testing.assert_allclose(loaded.predict(X, verbose=0), X + 0.5, rtol=1e-6)
