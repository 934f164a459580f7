"""fit, evaluate and predict call the hooks in Keras 3's order, with Keras's logs at each (torch and jax).

The expected sequences were recorded from Keras 3.15 with the same recording callback, model and data
sizes: 10 samples, batch size 4 (3 steps), 5 validation samples (2 steps), metrics=["mae"].
"""

from __future__ import annotations

import numpy as np
import pytest

from lamina import callbacks, layers, models

TRAIN_KEYS = ["loss", "mae"]
EPOCH_KEYS = ["loss", "mae", "val_loss", "val_mae"]


class Recorder(callbacks.Callback):
    """Records (hook, number, log keys) for every hook; checks that logs are dicts of floats."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def _record(self, hook: str, number: int | None, logs) -> None:
        assert isinstance(logs, dict), f"{hook} got {type(logs).__name__} logs"
        for key, value in logs.items():
            if key != "outputs":
                assert type(value) is float, f"{hook}: {key} is a {type(value).__name__}"
        entry = (hook, list(logs)) if number is None else (hook, number, list(logs))
        self.calls.append(entry)


def _hook(name: str, numbered: bool):
    if numbered:
        def hook(self, number, logs=None):
            self._record(name, number, logs)
            if name in ("on_train_batch_begin", "on_train_batch_end"):
                getattr(callbacks.Callback, name)(self, number, logs)  # and so the Keras 2 alias
    else:
        def hook(self, logs=None):
            self._record(name, None, logs)
    return hook


for _name in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
              "on_predict_end"):
    setattr(Recorder, _name, _hook(_name, False))
for _name in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end", "on_batch_begin",
              "on_batch_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin",
              "on_predict_batch_end"):
    setattr(Recorder, _name, _hook(_name, True))


def keras_train_epoch(epoch: int, with_validation_hooks: bool) -> list[tuple]:
    calls: list[tuple] = [("on_epoch_begin", epoch, [])]
    for step in range(3):
        calls += [("on_train_batch_begin", step, []), ("on_batch_begin", step, []),
                  ("on_train_batch_end", step, TRAIN_KEYS), ("on_batch_end", step, TRAIN_KEYS)]
    if with_validation_hooks:
        calls += keras_evaluate(steps=2)
    return calls + [("on_epoch_end", epoch, EPOCH_KEYS)]


def keras_evaluate(steps: int) -> list[tuple]:
    calls: list[tuple] = [("on_test_begin", [])]
    for step in range(steps):
        calls += [("on_test_batch_begin", step, []), ("on_test_batch_end", step, TRAIN_KEYS)]
    return calls + [("on_test_end", TRAIN_KEYS)]


def make_model():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(10, 3)).astype("float32"), rng.normal(size=(10, 1)).astype("float32")
    model = models.Sequential([layers.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    return model, x, y


def without_validation_hooks(calls: list[tuple]) -> list[tuple]:
    """The calls less the evaluation hooks that Keras makes inside fit for the validation data."""
    kept, inside = [], False
    for call in calls:
        if call[0] == "on_test_begin":
            inside = True
        if not inside:
            kept.append(call)
        if call[0] == "on_test_end":
            inside = False
    return kept


def test_fit_evaluate_and_predict_call_the_hooks_in_keras_order_with_keras_logs(training_backend):
    model, x, y = make_model()
    recorder = Recorder()
    history = model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:5], y[:5]), callbacks=[recorder],
                        verbose=0)
    expected = [("on_train_begin", []), *keras_train_epoch(0, True), *keras_train_epoch(1, True),
                ("on_train_end", EPOCH_KEYS)]
    # Validation's own hooks are checked apart (below); everything else is Keras's sequence.
    assert without_validation_hooks(recorder.calls) == without_validation_hooks(expected)
    assert list(history.history) == EPOCH_KEYS and history.epoch == [0, 1]
    assert recorder.params == {"verbose": 0, "epochs": 2, "steps": 3}

    recorder.calls.clear()
    model.evaluate(x, y, batch_size=4, callbacks=[recorder], verbose=0)
    assert recorder.calls == keras_evaluate(steps=3)
    assert recorder.params == {"verbose": 0, "epochs": 1, "steps": 3}

    recorder.calls.clear()
    model.predict(x, batch_size=4, callbacks=[recorder], verbose=0)
    assert [call[:2] for call in recorder.calls] == [
        ("on_predict_begin", []), ("on_predict_batch_begin", 0), ("on_predict_batch_end", 0),
        ("on_predict_batch_begin", 1), ("on_predict_batch_end", 1), ("on_predict_batch_begin", 2),
        ("on_predict_batch_end", 2), ("on_predict_end", [])]


def test_validation_runs_the_evaluate_hooks_and_predict_passes_its_outputs(training_backend):
    model, x, y = make_model()
    recorder = Recorder()
    model.fit(x, y, batch_size=4, epochs=1, validation_data=(x[:5], y[:5]), callbacks=[recorder], verbose=0)
    assert recorder.calls[14:-2] == keras_evaluate(steps=2)
    outputs = []
    model.predict(x, batch_size=4, verbose=0,
                  callbacks=[callbacks.LambdaCallback(on_predict_batch_end=lambda b, logs: outputs.append(logs))])
    assert [np.asarray(logs["outputs"]).shape for logs in outputs] == [(4, 1), (4, 1), (2, 1)]
