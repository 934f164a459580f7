"""KerasFileEditor: the weights of .keras, .weights.h5 and .weights.npz files as a tree of dicts; summary,
compare, the edits Keras 3 offers, and saving the edited weights as a .weights.h5 file a model loads."""

from __future__ import annotations

import io
import zipfile

import h5py
import numpy as np
import pytest

from lamina import layers, models
from lamina.saving import KerasFileEditor, keras_file

X = np.linspace(-1.0, 1.0, 16, dtype="float32").reshape(4, 4)


def small_model(extra: bool = True) -> models.Sequential:
    stack = [layers.Input((4,)), layers.Dense(3, name="first"), layers.BatchNormalization(name="norm")]
    if extra:
        stack.append(layers.Dense(2, name="second"))
    return models.Sequential(stack, name="small")


@pytest.fixture
def saved(tmp_path, training_backend):
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    model.optimizer.build(model.trainable_weights)  # its slots are saved, as after training
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path


def test_reads_a_keras_file_as_a_tree_of_weights(saved, capsys):
    model, path = saved
    editor = KerasFileEditor(str(path))
    assert str(path) in capsys.readouterr().out
    assert editor.config["class_name"] == "Sequential" and "keras_version" in editor.metadata
    tree = editor.weights_dict
    assert set(tree) == {"layers", "optimizer"}
    assert set(tree["layers"]) == {"dense", "batch_normalization", "dense_1"}
    np.testing.assert_array_equal(tree["layers"]["dense"]["0"], model.get_layer("first").get_weights()[0])
    assert len(tree["layers"]["batch_normalization"]) == 4
    editor.summary()
    printed = capsys.readouterr().out
    assert "Weights structure" in printed and "shape=(4, 3), dtype=float32" in printed


def test_compare_counts_matches_and_mismatches(saved, capsys):
    model, path = saved
    editor = KerasFileEditor(path)
    result = editor.compare(model)
    assert result == {"status": "success", "error_count": 0, "match_count": len(model.weights) +
                      len(model.optimizer.variables)}
    other = small_model(extra=False)
    other.compile(optimizer="adam", loss="mse")
    result = editor.compare(other)
    assert result["status"] == "error" and result["error_count"] >= 2  # dense_1, and the optimizer's slots
    assert "layers/dense_1 present in saved file, missing from reference model" in capsys.readouterr().out
    wider = models.Sequential([layers.Input((5,)), layers.Dense(3), layers.BatchNormalization(), layers.Dense(2)])
    result = KerasFileEditor(path).compare(wider)
    assert result["status"] == "error" and "shape mismatch for layers/dense/0" in capsys.readouterr().out


def test_edits_then_save_give_weights_a_model_loads(saved, tmp_path):
    model, path = saved
    editor = KerasFileEditor(path)
    editor.delete_object("optimizer")
    editor.delete_object("layers/dense_1")
    trimmed = small_model(extra=False)
    assert editor.compare(trimmed)["status"] == "success"
    target = tmp_path / "trimmed.weights.h5"
    editor.save(target)
    trimmed.load_weights(target)
    np.testing.assert_array_equal(trimmed.get_layer("first").get_weights()[0],
                                  model.get_layer("first").get_weights()[0])
    assert not [name for name in target.parent.iterdir() if name.name.endswith(".tmp")]


def test_rename_add_and_delete_weights(saved, tmp_path):
    model, path = saved
    editor = KerasFileEditor(path)
    editor.delete_object("optimizer")
    editor.rename_object("dense_1", "dense_2")
    assert "dense_2" in editor.weights_dict["layers"] and "dense_1" not in editor.weights_dict["layers"]
    kernel, bias = np.full((3, 2), 0.5, "float32"), np.ones(2, "float32")
    editor.add_object("layers/dense_3", {"0": kernel})
    editor.add_weights("dense_3", {"1": bias})
    editor.delete_object("layers/dense_2")
    editor.rename_object("layers/dense_3", "dense_1")
    editor.delete_weight("batch_normalization", "3")
    editor.add_weights("layers/batch_normalization", {"3": np.full(3, 2.0, "float32")})
    editor.resave_weights(tmp_path / "edited.weights.h5")
    fresh = small_model()
    fresh.load_weights(tmp_path / "edited.weights.h5")
    np.testing.assert_array_equal(fresh.get_layer("second").get_weights()[0], kernel)
    np.testing.assert_array_equal(fresh.get_layer("second").get_weights()[1], bias)
    np.testing.assert_array_equal(fresh.get_layer("norm").get_weights()[3], np.full(3, 2.0))


def test_editing_mistakes_are_value_errors_that_say_what_to_do(saved):
    _, path = saved
    editor = KerasFileEditor(path)
    with pytest.raises(ValueError, match="'nowhere' does not appear"):
        editor.delete_object("nowhere")
    with pytest.raises(ValueError, match="'0' occurs .* times.*full path"):
        editor.delete_object("0")
    with pytest.raises(ValueError, match="Path 'layers/nowhere' not found"):
        editor.rename_object("layers/nowhere", "x")
    with pytest.raises(ValueError, match="leaf name"):
        editor.rename_object("dense", "layers/other")
    with pytest.raises(ValueError, match="Path 'missing' not found"):
        editor.add_object("missing/dense", {"0": np.ones(2)})
    with pytest.raises(ValueError, match="must be a dict"):
        editor.add_object("layers/extra", [np.ones(2)])
    with pytest.raises(ValueError, match="must hold numbers"):
        editor.add_weights("dense", {"2": np.array(["text"])})
    with pytest.raises(ValueError, match=r"weight '9' not found in object 'dense'. Weights found: \['0', '1'\]"):
        editor.delete_weight("dense", "9")
    with pytest.raises(ValueError, match=r"\.weights\.h5"):
        editor.save(path.with_name("out.keras"))


def test_weights_files_open_too(tmp_path, training_backend):
    model = small_model()
    model.save_weights(tmp_path / "w.weights.h5")
    model.save_weights(tmp_path / "w.weights.npz")
    from_h5 = KerasFileEditor(tmp_path / "w.weights.h5")
    from_npz = KerasFileEditor(tmp_path / "w.weights.npz")
    assert from_h5.config is None and from_h5.metadata is None
    assert from_h5.object_metadata["layers/dense"] == {"name": "first"}
    for editor in (from_h5, from_npz):
        assert editor.compare(model)["status"] == "success"
        np.testing.assert_array_equal(editor.weights_dict["layers"]["dense_1"]["1"],
                                      model.get_layer("second").get_weights()[1])


def test_keras_layout_written_by_hand_is_read(tmp_path):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        store.create_group("vars").attrs["name"] = "model"
        group = store.create_group("layers/dense/vars")
        group.attrs["name"] = "dense"
        group.create_dataset("0", data=np.ones((2, 3), "float32"))
        group.create_dataset("1", data=np.zeros(3, "float32"))
        store.create_group("layers/dropout/vars")  # a layer without weights: an empty group
    path = tmp_path / "hand.weights.h5"
    path.write_bytes(buffer.getvalue())
    editor = KerasFileEditor(path)
    assert set(editor.weights_dict) == {"layers"} and set(editor.weights_dict["layers"]) == {"dense"}
    assert editor.weights_dict["layers"]["dense"]["0"].shape == (2, 3)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04broken"])
def test_damaged_files_are_value_errors_naming_the_file(tmp_path, content):
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.keras"):
        KerasFileEditor(path)


def test_hostile_h5_weights_are_refused(tmp_path):
    target = tmp_path / "other.h5"
    with h5py.File(target, "w") as store:
        store.create_dataset("secret", data=np.ones(2))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        store["layers/dense/vars/0"] = h5py.ExternalLink(str(target), "secret")
    path = tmp_path / "link.weights.h5"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="link.weights.h5"):
        KerasFileEditor(path)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        store.create_dataset("layers/dense/vars/0", data=np.array([b"text"]))
    with zipfile.ZipFile(tmp_path / "strings.keras", "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr(keras_file.H5_WEIGHTS_MEMBER, buffer.getvalue())
    with pytest.raises(ValueError, match="strings.keras"):
        KerasFileEditor(tmp_path / "strings.keras")


def test_bad_paths_are_refused(tmp_path):
    with pytest.raises(ValueError, match="'.keras', '.weights.h5' or '.weights.npz'"):
        KerasFileEditor(tmp_path / "model.txt")
    with pytest.raises(ValueError, match="no such file"):
        KerasFileEditor(tmp_path / "absent.keras")
    with pytest.raises(TypeError, match="file path"):
        KerasFileEditor(3)


KERAS3 = __import__("pathlib").Path(__file__).resolve().parents[1] / "fixtures" / "keras3"


def test_files_written_by_keras(tmp_path, training_backend):
    editor = KerasFileEditor(KERAS3 / "mlp.keras")
    assert editor.metadata["keras_version"].startswith("3.")
    assert set(editor.weights_dict["layers"]) == {"dense", "dense_1"}
    loaded = models.load_model(KERAS3 / "mlp.keras")
    assert editor.compare(loaded)["status"] == "success"
    editor.delete_object("optimizer")
    editor.save(tmp_path / "mlp.weights.h5")
    fresh = models.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"), layers.Dropout(0.2),
                               layers.Dense(3, activation="softmax")])
    fresh.load_weights(tmp_path / "mlp.weights.h5")
    x = np.load(KERAS3 / "mlp_x.npy")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), np.load(KERAS3 / "mlp_y.npy"), rtol=1e-5, atol=1e-6)
    weights_only = KerasFileEditor(KERAS3 / "mlp.weights.h5")
    assert set(weights_only.weights_dict) == {"layers", "optimizer"}  # Keras saves a built optimizer's state too
    weights_only.delete_object("optimizer")
    assert weights_only.compare(fresh) == {"status": "success", "error_count": 0, "match_count": 4}
