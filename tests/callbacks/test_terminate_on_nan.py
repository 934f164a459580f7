"""TerminateOnNaN: a NaN or infinite loss stops fit, or raises with raise_error."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import layers, models
from lamina.callbacks import LambdaCallback, TerminateOnNaN


def nan_fit(callback: TerminateOnNaN, epochs: int = 3) -> tuple:
    x = np.ones((12, 2), "float32")
    y = np.ones((12, 1), "float32")
    y[5] = np.nan  # the second batch of 4 holds a NaN target: its loss is NaN
    model = models.Sequential([layers.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    batches = []
    history = model.fit(x, y, batch_size=4, epochs=epochs, shuffle=False, verbose=0, callbacks=[
        callback, LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))])
    return history, batches


def test_nan_loss_stops_training(training_backend, capsys):
    history, batches = nan_fit(TerminateOnNaN())
    assert batches == [0, 1] and history.epoch == [0]
    assert np.isnan(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_raise_error_raises_at_once(training_backend):
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 1"):
        nan_fit(TerminateOnNaN(raise_error=True))


def test_infinite_loss_stops_too():
    class Model:
        stop_training = False

    callback = TerminateOnNaN()
    callback.set_model(Model())
    callback.on_train_batch_end(0, {"loss": 1.0})
    assert not callback.model.stop_training
    callback.on_train_batch_end(1, {"loss": float("inf")})
    assert callback.model.stop_training
