"""Deployment exports: ONNX files run in ONNX Runtime, torch.export programs run without Lamina, ExportArchive.

Exporting is slow (each capture traces the model with torch.export), so every exported file is made once per
module and shared by the tests that check it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina import layers as L
from lamina.export import ExportArchive
from lamina.models import Model, Sequential

ort = pytest.importorskip("onnxruntime")
SOURCE = Path(lamina.__file__).resolve().parent.parent
RNG = np.random.default_rng(0)


def mlp() -> tuple:
    model = Sequential([L.Dense(16, activation="relu", input_shape=(10,)), L.Dense(3, activation="softmax")])
    return model, RNG.normal(size=(5, 10)).astype("float32")


def cnn() -> tuple:
    model = Sequential([L.Conv2D(4, 3, activation="relu", input_shape=(10, 10, 3)), L.MaxPooling2D(),
                        L.BatchNormalization(), L.Flatten(), L.Dense(5)])
    model.layers[2].set_weights([RNG.uniform(0.5, 2, 4), RNG.normal(size=4), RNG.normal(size=4),
                                 RNG.uniform(0.5, 2, 4)])  # moving statistics that are not 0 and 1
    return model, RNG.random((5, 10, 10, 3)).astype("float32")


def lstm() -> tuple:
    model = Sequential([L.Input(shape=(6,), dtype="int32"), L.Embedding(40, 8), L.LSTM(5),
                        L.Dense(1, activation="sigmoid")])
    return model, RNG.integers(0, 40, (5, 6)).astype("int32")


def transformer() -> tuple:
    inputs = L.Input(shape=(6, 8))
    attended = L.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    hidden = L.LayerNormalization()(inputs + attended)
    hidden = L.LayerNormalization()(hidden + L.Dense(8)(L.Dense(16, activation="relu")(hidden)))
    outputs = L.Dense(2)(L.GlobalAveragePooling1D()(hidden))
    return Model(inputs, outputs), RNG.normal(size=(5, 6, 8)).astype("float32")


def two_inputs() -> tuple:
    left, right = L.Input(shape=(3,), name="left"), L.Input(shape=(2,), name="right")
    outputs = L.Dense(2)(L.Concatenate()([left, L.Dense(4)(right)]))
    return Model([left, right], outputs), [RNG.normal(size=(5, 3)).astype("float32"),
                                           RNG.normal(size=(5, 2)).astype("float32")]


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "transformer": transformer, "two_inputs": two_inputs}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def onnx_export(request, tmp_path_factory) -> tuple:
    """(name, ONNX file, inputs, Lamina's predictions) of one model, exported once on torch; the two-input model
    goes into a folder given with a trailing separator."""
    folder = tmp_path_factory.mktemp(request.param)
    with backend.use("torch"):
        lamina.set_random_seed(7)
        model, x = BUILDERS[request.param]()
        expected = model.predict(x, verbose=0)
        target = str(folder) + os.sep if request.param == "two_inputs" else folder / f"{request.param}.onnx"
        model.export(target, format="onnx", verbose=False)
    (path,) = folder.iterdir()  # the file alone: no temporary file left beside it
    return request.param, path, x if isinstance(x, list) else [x], expected


def test_onnx_runtime_predicts_as_lamina_for_other_batch_sizes(onnx_export):
    name, path, inputs, expected = onnx_export
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    given = session.get_inputs()
    assert [i.shape[0] for i in given] == ["batch"] * len(inputs)
    if name == "two_inputs":
        assert path.name == "model.onnx" and [i.name for i in given] == ["left", "right"]
    for rows in (5, 1):  # the export traced a batch of 2
        (output,) = session.run(None, {i.name: x[:rows] for i, x in zip(given, inputs)})
        np.testing.assert_allclose(output, expected[:rows], atol=1e-5, rtol=1e-5)


# --- format="torch" and ExportArchive, loaded by torch alone ------------------------------------------------


@pytest.fixture()
def torch_exports(tmp_path_factory) -> dict:
    """A CNN exported with format="torch", and an archive with two endpoints and a variable collection."""
    folder = tmp_path_factory.mktemp("torch")
    with backend.use("torch"):
        lamina.set_random_seed(8)
        model, x = cnn()
        expected = model.predict(x, verbose=0)
        model.export(folder, format="torch", verbose=False)  # an existing folder receives model.pt2

        dense, dense_x = mlp()
        archive = ExportArchive()
        archive.track(dense)
        archive.add_endpoint("serve", dense.call, input_signature=[L.Input(shape=(10,))])
        hidden = dense.layers[0]
        archive.add_endpoint("hidden", lambda v: hidden(v) * 2.0, input_signature=[np.zeros((1, 10), "float32")])
        archive.add_variable_collection("weights", dense.weights)
        (folder / "archive").mkdir()
        (folder / "archive" / "archive.json").write_text("{}")  # an earlier archive there is replaced
        (folder / "archive" / "old.pt2").write_text("")
        archive.write_out(folder / "archive", verbose=False)
        archive.write_out(folder / "archive_onnx", format="onnx", verbose=False)
        served = {"serve": dense.predict(dense_x, verbose=0),
                  "hidden": backend.impl.convert_to_numpy(hidden(dense_x)) * 2.0}
    return {"folder": folder, "x": x, "expected": expected, "dense_x": dense_x, "served": served,
            "weights": {w.path: w.numpy() for w in dense.weights}}


RUN_WITHOUT_LAMINA = textwrap.dedent("""
    import os, sys
    source = os.path.realpath(sys.argv[1])
    sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != source]
    try:
        import lamina
    except ImportError:
        pass
    else:
        raise SystemExit("lamina is importable")
    import numpy as np, torch
    folder = sys.argv[2]
    x, dense_x = np.load(os.path.join(folder, "x.npy")), np.load(os.path.join(folder, "dense_x.npy"))
    results = {"model": torch.export.load(os.path.join(folder, "model.pt2")).module()(torch.from_numpy(x))}
    for name, inputs in (("serve", dense_x), ("hidden", dense_x[:1])):
        program = torch.export.load(os.path.join(folder, "archive", name + ".pt2"))
        results[name] = program.module()(torch.from_numpy(inputs))
    np.savez(os.path.join(folder, "results.npz"), **{k: v.detach().numpy() for k, v in results.items()})
""")


def test_torch_programs_load_and_run_with_torch_alone(torch_exports):
    """One test, so that the exports are made once whichever worker runs it."""
    folder = torch_exports["folder"]
    np.save(folder / "x.npy", torch_exports["x"][:3])  # another batch size than the traced one
    np.save(folder / "dense_x.npy", torch_exports["dense_x"])
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-c", RUN_WITHOUT_LAMINA, str(SOURCE), str(folder)], cwd=folder,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    results = np.load(folder / "results.npz")
    np.testing.assert_allclose(results["model"], torch_exports["expected"][:3], atol=1e-5)
    np.testing.assert_allclose(results["serve"], torch_exports["served"]["serve"], atol=1e-5)
    np.testing.assert_allclose(results["hidden"], torch_exports["served"]["hidden"][:1], atol=1e-5)

    # the archive's folder: its manifest, its variable collection, and no file of the archive it replaced
    archive = folder / "archive"
    assert sorted(p.name for p in archive.iterdir()) == ["archive.json", "hidden.pt2", "serve.pt2", "variables"]
    manifest = json.loads((archive / "archive.json").read_text())
    assert manifest["serving_default"] == "serve"
    assert manifest["endpoints"]["serve"]["file"] == "serve.pt2"
    ((signature,),) = [manifest["endpoints"]["serve"]["inputs"]]
    assert (signature["shape"], signature["dtype"]) == ([None, 10], "float32")
    assert manifest["endpoints"]["hidden"]["inputs"][0]["name"] == "input_0"  # arrays have no name
    with np.load(archive / manifest["variable_collections"]["weights"]["file"]) as stored:
        assert sorted(stored.files) == sorted(torch_exports["weights"])
        for path, value in torch_exports["weights"].items():
            np.testing.assert_array_equal(stored[path], value)

    # the same archive written as ONNX
    session = ort.InferenceSession(str(folder / "archive_onnx" / "serve.onnx"), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: torch_exports["dense_x"]})
    np.testing.assert_allclose(output, torch_exports["served"]["serve"], atol=1e-5)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]  # no staging or retired folder left


# --- errors ---------------------------------------------------------------------------------------------------


def built_model() -> Sequential:
    return Sequential([L.Dense(2, input_shape=(3,))])


def test_unknown_format_names_the_formats(training_backend, tmp_path):
    with pytest.raises(ValueError, match=r"format='keras'.*'tf_saved_model', 'onnx', 'openvino', 'litert', 'torch'"):
        built_model().export(tmp_path / "m", format="keras")


def test_saved_model_formats_say_what_to_use_instead(training_backend, tmp_path):
    with pytest.raises(ValueError, match="does not write TensorFlow SavedModels.*format='onnx'.*format='torch'"):
        built_model().export(tmp_path / "m")  # Keras's default format
    with pytest.raises(ValueError, match="OpenVINO"):
        built_model().export(tmp_path / "m", format="openvino")
    with pytest.raises(ValueError, match="does not write TensorFlow SavedModels"):
        ExportArchive(format="saved_model")
    with pytest.raises(ValueError, match="does not write TensorFlow SavedModels"):
        ExportArchive().write_out(tmp_path / "a", format="tf_saved_model")


def test_an_unbuilt_model_cannot_be_exported(tmp_path):
    with backend.use("torch"):
        with pytest.raises(ValueError, match="has not been built yet.*input_signature"):
            Sequential([L.Dense(2)]).export(tmp_path / "m.onnx", format="onnx")


def test_jax_explains_that_export_needs_torch(tmp_path):
    with backend.use("jax"):
        model = built_model()
        for format in ("onnx", "torch"):
            with pytest.raises(ValueError, match=f"format='{format}' export needs the torch backend.*jax"):
                model.export(tmp_path / "m.pt2", format=format)
        archive = ExportArchive()
        archive.track(model)
        with pytest.raises(ValueError, match="needs the torch backend"):
            archive.add_endpoint("serve", model.call, input_signature=[L.Input(shape=(3,))])
        with pytest.raises(ValueError, match="needs the torch backend"):
            backend.impl.export_program(model.call, model.weights, [np.zeros((2, 3))], [(0,)])
    assert not any(tmp_path.iterdir())


def test_bad_arguments_are_refused_before_any_work(tmp_path):
    with backend.use("torch"):
        model = built_model()
        with pytest.raises(ValueError, match="must end with '.pt2'"):
            model.export(tmp_path / "m.onnx", format="torch")
        with pytest.raises(ValueError, match=r"unexpected keyword arguments \['opset'\].*opset_version"):
            model.export(tmp_path / "m.onnx", format="onnx", opset=17)
        with pytest.raises(ValueError, match="input_signature must hold"):
            model.export(tmp_path / "m.onnx", format="onnx", input_signature=[(None, 3)])
        with pytest.raises(ValueError, match=r"does not run on inputs of the input signature \(\[None, 7\] float32\)"):
            model.export(tmp_path / "m.onnx", format="onnx", input_signature=[L.Input(shape=(7,))])
        archive = ExportArchive()
        with pytest.raises(ValueError, match="no layer or model is tracked"):
            archive.add_endpoint("serve", lambda x: x, input_signature=[L.Input(shape=(3,))])
        with pytest.raises(ValueError, match="must be a Python identifier"):
            archive.add_endpoint("../serve", model.call, input_signature=[L.Input(shape=(3,))])
        with pytest.raises(ValueError, match="has no endpoint"):
            archive.write_out(tmp_path / "a")
        with pytest.raises(ValueError, match="not a Variable"):
            archive.add_variable_collection("stuff", [1.0])
        archive.track(model)
        untracked = Sequential([L.Dense(2, input_shape=(2,))])
        with pytest.raises(ValueError, match="reads a variable that is not among the exported ones"):
            archive.add_endpoint("chained", lambda x: untracked(model(x)), input_signature=[L.Input(shape=(3,))])
        assert "chained" not in archive._endpoints
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "notes.txt").write_text("keep me")
        archive._endpoints["serve"] = (None, [])  # a folder of someone else's files is refused before writing
        with pytest.raises(ValueError, match="holds other files"):
            archive.write_out(tmp_path / "other")
    assert (tmp_path / "other" / "notes.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other"]


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "m.pt2"
    target.write_bytes(b"the previous export")
    with backend.use("torch") as impl:
        model = built_model()

        def broken(program, stream):
            stream.write(b"half a program")
            raise OSError("disk full")

        monkeypatch.setattr(impl, "save_program", broken)
        with pytest.raises(OSError, match="disk full"):
            model.export(target, format="torch", verbose=False)
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.pt2"]
