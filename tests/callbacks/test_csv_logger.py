"""CSVLogger: one row per epoch, Keras's columns, append mode."""

from __future__ import annotations

import csv

import numpy as np

from lamina import layers, models
from lamina.callbacks import CallbackList, CSVLogger


def drive(logger: CSVLogger, epoch_logs: list[dict]) -> None:
    hooks = CallbackList([logger])
    hooks.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        hooks.on_epoch_end(epoch, logs)
    hooks.on_train_end()


def rows(path, separator=",") -> list[list[str]]:
    with open(path, newline="") as stream:
        return list(csv.reader(stream, delimiter=separator))


def test_rows_hold_the_epoch_and_sorted_keys(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"loss": 0.5, "val_loss": 0.75, "accuracy": 0.25}, {"loss": 0.25, "val_loss": 0.5,
                                                                               "accuracy": 0.5}])
    assert rows(path) == [["epoch", "accuracy", "loss", "val_loss"], ["0", "0.25", "0.5", "0.75"],
                          ["1", "0.5", "0.25", "0.5"]]


def test_append_keeps_one_header_and_adds_rows(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path, separator=";"), [{"loss": 1.0, "val_loss": 2.0}])
    drive(CSVLogger(path, separator=";", append=True), [{"loss": 0.5, "val_loss": 1.5}])
    assert rows(path, ";") == [["epoch", "loss", "val_loss"], ["0", "1.0", "2.0"], ["0", "0.5", "1.5"]]


def test_without_append_the_file_is_replaced(tmp_path):
    path = tmp_path / "log.csv"
    drive(CSVLogger(path), [{"loss": 1.0}])
    drive(CSVLogger(path), [{"loss": 3.0}])
    # Without validation in the first epoch, `val_` columns are kept for later epochs ("NA" until then).
    assert rows(path) == [["epoch", "loss", "val_loss"], ["0", "3.0", "NA"]]


def test_append_to_a_missing_or_empty_file_writes_the_header(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("")
    drive(CSVLogger(path, append=True), [{"loss": 1.0, "val_loss": 1.0}])
    assert rows(path)[0] == ["epoch", "loss", "val_loss"]


def test_real_fit_logs_each_epoch(training_backend, tmp_path):
    path = tmp_path / "log.csv"
    model = models.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    x = np.ones((4, 2), "float32")
    history = model.fit(x, x[:, :1], epochs=2, verbose=0, validation_data=(x, x[:, :1]), callbacks=[CSVLogger(path)])
    table = rows(path)
    assert table[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    np.testing.assert_allclose([float(row[1]) for row in table[1:]], history.history["loss"], rtol=1e-6)
