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


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "transformer": transformer}


@pytest.fixture(scope="module")
def onnx_exports(tmp_path_factory) -> dict:
    """name -> (ONNX file, inputs, Lamina's predictions), exported once on torch."""
    folder = tmp_path_factory.mktemp("onnx")
    exported = {}
    with backend.use("torch"):
        lamina.set_random_seed(7)
        for name, build in BUILDERS.items():
            model, x = build()
            expected = model.predict(x, verbose=0)
            model.export(folder / f"{name}.onnx", format="onnx", verbose=False)
            exported[name] = (folder / f"{name}.onnx", x, expected)
    return exported


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_onnx_runtime_predicts_as_lamina_for_other_batch_sizes(onnx_exports, name):
    path, x, expected = onnx_exports[name]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (given,) = session.get_inputs()
    assert given.shape[0] == "batch"
    for rows in (5, 1):  # the export traced a batch of 2
        (output,) = session.run(None, {given.name: x[:rows]})
        np.testing.assert_allclose(output, expected[:rows], atol=1e-5, rtol=1e-5)


def test_onnx_export_of_two_named_inputs_into_a_folder(tmp_path, capsys):
    with backend.use("torch"):
        left, right = L.Input(shape=(3,), name="left"), L.Input(shape=(2,), name="right")
        outputs = L.Dense(2)(L.Concatenate()([left, L.Dense(4)(right)]))
        model = Model([left, right], outputs)
        a, b = RNG.normal(size=(4, 3)).astype("float32"), RNG.normal(size=(4, 2)).astype("float32")
        expected = model.predict([a, b], verbose=0)
        model.export(str(tmp_path) + os.sep, format="onnx")
    assert "model.onnx" in capsys.readouterr().out
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["left", "right"]
    (output,) = session.run(None, {"left": a, "right": b})
    np.testing.assert_allclose(output, expected, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]  # no temporary file left


# --- format="torch" and ExportArchive, loaded by torch alone ------------------------------------------------


@pytest.fixture(scope="module")
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
        archive.write_out(folder / "archive", verbose=False)
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


def test_archive_folder_lists_endpoints_and_keeps_variable_collections(torch_exports):
    archive = torch_exports["folder"] / "archive"
    manifest = json.loads((archive / "archive.json").read_text())
    assert manifest["serving_default"] == "serve"
    assert manifest["endpoints"]["serve"]["file"] == "serve.pt2"
    ((signature,),) = [manifest["endpoints"]["serve"]["inputs"]]
    assert (signature["shape"], signature["dtype"]) == ([None, 10], "float32")
    assert manifest["endpoints"]["hidden"]["inputs"][0]["name"] == "input_0"  # arrays have no name
    assert manifest["endpoints"]["hidden"]["file"] == "hidden.pt2"
    with np.load(archive / manifest["variable_collections"]["weights"]["file"]) as stored:
        assert sorted(stored.files) == sorted(torch_exports["weights"])
        for path, value in torch_exports["weights"].items():
            np.testing.assert_array_equal(stored[path], value)


def test_archive_write_out_as_onnx_and_over_an_earlier_archive(tmp_path):
    with backend.use("torch"):
        model, x = mlp()
        archive = ExportArchive()
        archive.track_and_add_endpoint("serve", model, input_signature=[L.Input(shape=(10,))])
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / "archive.json").write_text("{}")  # an earlier archive: replaced
        archive.write_out(tmp_path / "out", format="onnx", verbose=False)
        expected = model.predict(x, verbose=0)
    session = ort.InferenceSession(str(tmp_path / "out" / "serve.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0], expected, atol=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


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
