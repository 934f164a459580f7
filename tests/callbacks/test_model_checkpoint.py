"""ModelCheckpoint: which epochs are saved, file names, formats, and real saves on torch and jax."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lamina import callbacks, layers, models, saving
from lamina.callbacks import CallbackList, ModelCheckpoint


class SavingModel:
    """A model whose save and save_weights write the epoch being trained to the file."""

    def __init__(self) -> None:
        self.stop_training = False
        self.epoch = 0
        self.saves: list[tuple[str, str]] = []

    def save(self, filepath, overwrite=True):
        self._write("save", filepath)

    def save_weights(self, filepath, overwrite=True):
        self._write("save_weights", filepath)

    def _write(self, how: str, filepath: str) -> None:
        with open(filepath, "w") as stream:
            stream.write(str(self.epoch))
        self.saves.append((how, os.path.basename(filepath)))


def drive(checkpoint: ModelCheckpoint, values: list[float], key: str = "val_loss", steps: int = 2) -> SavingModel:
    """Run the hooks of a fit whose epoch logs hold `values` of `key`."""
    model = SavingModel()
    hooks = CallbackList([checkpoint], model=model)
    hooks.on_train_begin()
    for epoch, value in enumerate(values):
        model.epoch = epoch
        hooks.on_epoch_begin(epoch)
        for step in range(steps):
            hooks.on_train_batch_begin(step)
            hooks.on_train_batch_end(step, {"loss": value})
        hooks.on_epoch_end(epoch, {"loss": value, key: value})
    hooks.on_train_end()
    return model


def test_save_best_only_keeps_the_best_epoch(tmp_path):
    path = tmp_path / "best.keras"
    model = drive(ModelCheckpoint(path, save_best_only=True), [1.0, 0.5, 0.7, 0.4, 0.6])
    assert path.read_text() == "3"  # epoch 4 (0-based 3) had the lowest val_loss
    assert len(model.saves) == 3


def test_save_best_only_with_formatted_names_saves_improving_epochs_only(tmp_path):
    drive(ModelCheckpoint(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.keras", save_best_only=True),
          [1.0, 0.5, 0.7, 0.4, 0.6])
    assert sorted(os.listdir(tmp_path)) == ["m-01-1.00.keras", "m-02-0.50.keras", "m-04-0.40.keras"]


def test_every_epoch_is_saved_without_save_best_only(tmp_path):
    drive(ModelCheckpoint(tmp_path / "m-{epoch}.keras"), [1.0, 2.0, 3.0])
    assert sorted(os.listdir(tmp_path)) == ["m-1.keras", "m-2.keras", "m-3.keras"]


def test_mode_max_and_auto_for_accuracy(tmp_path):
    for mode in ("max", "auto"):
        path = tmp_path / f"{mode}.keras"
        drive(ModelCheckpoint(path, monitor="val_accuracy", mode=mode, save_best_only=True),
              [0.5, 0.9, 0.7], key="val_accuracy")
        assert path.read_text() == "1"


def test_initial_value_threshold_must_be_beaten(tmp_path):
    model = drive(ModelCheckpoint(tmp_path / "m-{epoch}.keras", save_best_only=True, initial_value_threshold=0.6),
                  [1.0, 0.5, 0.55])
    assert [name for _, name in model.saves] == ["m-2.keras"]


def test_min_delta_free_comparison_is_strict(tmp_path):
    model = drive(ModelCheckpoint(tmp_path / "m-{epoch}.keras", save_best_only=True), [1.0, 1.0, 0.9])
    assert [name for _, name in model.saves] == ["m-1.keras", "m-3.keras"]


def test_save_freq_in_batches_counts_across_epochs(tmp_path):
    model = drive(ModelCheckpoint(tmp_path / "m-{epoch}-{batch}.keras", save_freq=3), [1.0, 2.0], steps=4)
    assert [name for _, name in model.saves] == ["m-1-3.keras", "m-2-2.keras"]


def test_save_weights_only_uses_save_weights(tmp_path):
    model = drive(ModelCheckpoint(tmp_path / "w-{epoch}.weights.npz", save_weights_only=True), [1.0])
    assert model.saves == [("save_weights", "w-1.weights.npz")]


def test_creates_missing_folders(tmp_path):
    drive(ModelCheckpoint(tmp_path / "a" / "b" / "m.keras"), [1.0])
    assert (tmp_path / "a" / "b" / "m.keras").exists()


@pytest.mark.parametrize("kwargs, match", [
    ({"filepath": "m.h5x"}, "must end in `.keras`"),
    ({"filepath": "m.weights.npz"}, "must end in `.keras`"),
    ({"filepath": "m.keras", "save_weights_only": True}, "must end in `.weights.npz`"),
    ({"filepath": "m.keras", "save_freq": "batch"}, "save_freq"),
    ({"filepath": "m.keras", "save_freq": 0}, "save_freq"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ModelCheckpoint(**kwargs)


def test_missing_format_field_names_the_filepath(tmp_path):
    with pytest.raises(KeyError, match="val_acc"):
        drive(ModelCheckpoint(tmp_path / "m-{val_acc}.keras"), [1.0])


def test_missing_monitor_warns_and_saves(tmp_path):
    with pytest.warns(UserWarning, match="Can save best model only with val_auc available"):
        model = drive(ModelCheckpoint(tmp_path / "m.keras", monitor="val_auc", save_best_only=True), [1.0])
    assert len(model.saves) == 1


def test_verbose_messages(tmp_path, capsys):
    path = tmp_path / "m.keras"
    drive(ModelCheckpoint(path, save_best_only=True, verbose=1), [1.0, 2.0])
    out = capsys.readouterr().out
    assert f"Epoch 1: val_loss improved from None to 1.00000, saving model to {path}" in out
    assert "Epoch 2: val_loss did not improve from 1.00000" in out


def test_real_fit_saves_loadable_models_and_weights(training_backend, tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    model = models.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(x, y, batch_size=8, epochs=2, validation_data=(x, y), verbose=0, callbacks=[
        ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras"),
        ModelCheckpoint(tmp_path / "last.weights.npz", save_weights_only=True),
    ])
    names = [f"ckpt-{epoch + 1:02d}-{loss:.2f}.keras" for epoch, loss in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == sorted([*names, "last.weights.npz"])
    restored = saving.load_model(tmp_path / names[-1])
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    other = models.Sequential([layers.Input((3,)), layers.Dense(2), layers.Dense(1)])
    other.load_weights(tmp_path / "last.weights.npz")
    for expected, loaded in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(loaded, expected)


def test_callbacks_namespace_exports_it():
    assert callbacks.ModelCheckpoint is ModelCheckpoint
