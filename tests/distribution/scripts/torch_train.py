"""Small models trained the same way in one process (imported by the tests) and under torchrun (run as a
program): an MLP with synchronized batch normalization, a CNN and an LSTM.

Under torchrun every process writes its weights, histories and predictions to the folder given as the first
argument, each file named with its rank; its stdout goes to stdout_<rank>.txt. With "--mlp-only" it trains
the MLP alone (the two-launcher run); the full run also trains the MLP with shard_weights=True and saves,
checkpoints and reloads a model, trains the MLP from a PyDataset, and trains a model with its own train_step.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

import lamina
from lamina import callbacks, distribution, layers, models, utils

EPOCHS = 3
BATCH = 16
SAMPLES = 69  # the last batch (5 rows) splits unevenly: 3 rows and 2


def data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    kind = "mlp" if kind == "own_step" else kind  # the same samples
    rng = np.random.default_rng({"mlp": 1, "cnn": 2, "lstm": 3}[kind])
    shape = {"mlp": (8,), "cnn": (6, 6, 2), "lstm": (5, 3)}[kind]
    x = rng.normal(size=(SAMPLES, *shape)).astype("float32")
    if kind == "lstm":
        return x, x.sum(axis=(1, 2))[:, None].astype("float32") * 0.1
    labels = rng.integers(0, 3, size=SAMPLES)
    return x, np.eye(3, dtype="float32")[labels]


def model(kind: str) -> models.Model:
    lamina.set_random_seed(7)
    if kind == "mlp":
        body = [layers.Input((8,)), layers.Dense(12, use_bias=False), layers.BatchNormalization(synchronized=True),
                layers.Activation("relu"), layers.Dense(3, activation="softmax")]
    elif kind == "cnn":
        body = [layers.Input((6, 6, 2)), layers.Conv2D(4, 3, activation="relu"), layers.Flatten(),
                layers.Dense(3, activation="softmax")]
    else:
        body = [layers.Input((5, 3)), layers.LSTM(6), layers.Dense(1)]
    built = models.Sequential(body)
    if kind == "lstm":
        built.compile(optimizer="adam", loss="mse", metrics=["mae"])
    else:
        built.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return built


class OwnStep(models.Sequential):
    """A model with its own train_step, written as the Keras guide for torch writes one: backward, then
    the optimizer applies the gradients."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        variables = list(self.trainable_weights)
        self.optimizer.apply([v.value.grad for v in variables], variables)
        return self.compute_metrics(x, y, y_pred)


def own_step_model() -> models.Model:
    lamina.set_random_seed(7)
    built = OwnStep([layers.Input((8,)), layers.Dense(12, activation="relu"), layers.Dense(3, activation="softmax")])
    built.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return built


def train(kind: str, verbose: int = 0, callback_list: list | None = None) -> tuple[models.Model, dict]:
    """The model trained EPOCHS epochs (shuffled, with validation on the first 20 samples) and its history."""
    x, y = data(kind)
    built = own_step_model() if kind == "own_step" else model(kind)
    history = built.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=verbose, validation_data=(x[:20], y[:20]),
                        callbacks=callback_list or [])
    return built, history.history


class Batches(utils.PyDataset):
    """The MLP's samples in batches of BATCH, read by index (a PyDataset; the last batch holds 5 rows)."""

    def __init__(self) -> None:
        super().__init__()
        self.x, self.y = data("mlp")

    def __len__(self) -> int:
        return -(-SAMPLES // BATCH)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = slice(index * BATCH, (index + 1) * BATCH)
        return self.x[rows], self.y[rows]


def train_batches() -> tuple[models.Model, dict]:
    """The MLP trained EPOCHS epochs on the PyDataset (its batches shuffled) and its history."""
    built = model("mlp")
    return built, built.fit(Batches(), epochs=EPOCHS, verbose=0).history


def weights(built: models.Model) -> list[np.ndarray]:
    return [np.asarray(w) for w in built.get_weights()]


def _save(out: Path, name: str, rank: int, built: models.Model, history: dict) -> None:
    np.savez(out / f"{name}_weights_{rank}.npz", *weights(built))
    (out / f"{name}_history_{rank}.json").write_text(json.dumps(history))


def main(out: Path, mlp_only: bool) -> None:
    from lamina.distribution.processes import TorchProcesses

    processes = TorchProcesses()
    rank = processes.process_index
    sys.stdout = open(out / f"stdout_{rank}.txt", "w", buffering=1)  # noqa: SIM115 (until the process ends)
    distribution.set_distribution(processes)
    if mlp_only:
        built, history = train("mlp")
        _save(out, "mlp", rank, built, history)
        return
    files = [callbacks.ModelCheckpoint(str(out / f"checkpoint_{rank}.keras")),
             callbacks.CSVLogger(str(out / f"log_{rank}.csv"))]
    built, history = train("mlp", verbose=2, callback_list=files)
    _save(out, "mlp", rank, built, history)
    built.save(out / "model.keras")  # every process saves; process 0 writes; every process reads it at once
    loaded = models.load_model(out / "model.keras")
    np.save(out / f"predictions_{rank}.npy", loaded.predict(data("mlp")[0], verbose=0))
    for kind in ("cnn", "lstm", "own_step"):
        built, history = train(kind)
        _save(out, kind, rank, built, history)
    built, history = train_batches()
    _save(out, "batches", rank, built, history)
    distribution.set_distribution(TorchProcesses(shard_weights=True))
    built, history = train("mlp")
    _save(out, "fsdp", rank, built, history)


if __name__ == "__main__":
    main(Path(sys.argv[1]), "--mlp-only" in sys.argv[2:])
