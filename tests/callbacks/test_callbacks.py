"""Callbacks driven by hand, as a trainer would, with a fake model and no backend."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator, Mapping

import numpy as np
import pytest
import rich
import rich.console

from lamina.callbacks import (
    Callback,
    CallbackList,
    EarlyStopping,
    History,
    LambdaCallback,
    ProgbarLogger,
)
from lamina.callbacks import progbar_logger


class FakeModel:
    """The part of a model that callbacks use: weights and the stop flag."""

    def __init__(self) -> None:
        self.stop_training = False
        self.weights = [np.zeros(2)]

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.array(w) for w in weights]


class CountingLogs(Mapping):
    """Logs that count how often a value is read (each read syncs a real device)."""

    def __init__(self, values: dict[str, float]) -> None:
        self._values = values
        self.reads = 0

    def __getitem__(self, key: str) -> float:
        self.reads += 1
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def fit(callbacks: CallbackList, epoch_logs: list[dict], steps: int = 4) -> None:
    """Drive the hooks in the order the trainer calls them during `fit`."""
    callbacks.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        callbacks.on_epoch_begin(epoch)
        for step in range(steps):
            callbacks.on_train_batch_begin(step)
            callbacks.on_train_batch_end(step, {"loss": logs.get("loss", 0.0)})
        callbacks.on_test_begin()
        callbacks.on_test_batch_begin(0)
        callbacks.on_test_batch_end(0, {"loss": 9.0})
        callbacks.on_test_end({"loss": 9.0})
        callbacks.on_epoch_end(epoch, logs)
        if callbacks.model is not None and callbacks.model.stop_training:
            break
    callbacks.on_train_end()


class Recorder(Callback):
    """Records every hook it receives."""

    def __init__(self, name: str, calls: list) -> None:
        super().__init__()
        self.name, self.calls = name, calls

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append((self.name, "on_epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append((self.name, "on_epoch_end", epoch))


def test_hooks_reach_callbacks_in_order():
    calls = []
    callbacks = CallbackList([Recorder("a", calls), Recorder("b", calls)])
    fit(callbacks, [{}, {}])
    assert calls == [
        ("a", "on_epoch_begin", 0), ("b", "on_epoch_begin", 0),
        ("a", "on_epoch_end", 0), ("b", "on_epoch_end", 0),
        ("a", "on_epoch_begin", 1), ("b", "on_epoch_begin", 1),
        ("a", "on_epoch_end", 1), ("b", "on_epoch_end", 1),
    ]  # fmt: skip


def test_only_overriding_callbacks_are_dispatched():
    calls = []
    recorder = Recorder("a", calls)
    callbacks = CallbackList([recorder, Callback()])
    assert callbacks._dispatch["on_epoch_end"] == [recorder.on_epoch_end]
    assert callbacks._dispatch["on_train_batch_end"] == []


def test_model_and_params_reach_every_callback():
    model, inner = FakeModel(), Callback()
    CallbackList([inner], model=model, epochs=3, steps=5, verbose=0)
    assert inner.model is model
    assert inner.params == {"epochs": 3, "steps": 5, "verbose": 0}


def test_non_callback_is_rejected():
    with pytest.raises(TypeError, match="callbacks must contain"):
        CallbackList([lambda logs: None])


def test_on_batch_end_alias_is_called_for_train_batches():
    seen = []

    class Keras2Style(Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(("begin", batch))

        def on_batch_end(self, batch, logs=None):
            seen.append(("end", batch, logs["loss"]))

    fit(CallbackList([Keras2Style()]), [{"loss": 0.5}], steps=2)
    assert seen == [("begin", 0), ("end", 0, 0.5), ("begin", 1), ("end", 1, 0.5)]


def test_defaults_are_added_once():
    history = History()
    callbacks = CallbackList([history], add_history=True, add_progbar=True, verbose=0, epochs=1, steps=1)
    assert sum(isinstance(c, History) for c in callbacks.callbacks) == 1
    assert callbacks.callbacks[-1] is history
    assert isinstance(callbacks.callbacks[0], ProgbarLogger)


def test_history_records_floats_per_epoch():
    model = FakeModel()
    callbacks = CallbackList(add_history=True, model=model, epochs=2, steps=4, verbose=0)
    fit(callbacks, [{"loss": np.float32(0.5), "val_loss": np.array(0.75)}, {"loss": 0.25, "val_loss": 0.5}])
    assert model.history.epoch == [0, 1]
    assert model.history.history == {"loss": [0.5, 0.25], "val_loss": [0.75, 0.5]}
    assert all(type(v) is float for values in model.history.history.values() for v in values)


def test_history_reused_across_fits_keeps_growing_as_in_keras():
    # fit makes a new History each call; one passed in by hand restarts `epoch` but keeps `history`.
    model = FakeModel()
    callbacks = CallbackList(add_history=True, model=model)
    fit(callbacks, [{"loss": 1.0}])
    fit(callbacks, [{"loss": 2.0}])
    assert model.history.history == {"loss": [1.0, 2.0]}
    assert model.history.epoch == [0]


def run_early_stopping(stopper: EarlyStopping, values: list[float], key: str = "val_loss") -> FakeModel:
    """Train on `values` of `key`, the weights being the epoch number, until stopped."""
    model = FakeModel()
    callbacks = CallbackList([stopper], model=model)
    callbacks.on_train_begin()
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]
        callbacks.on_epoch_end(epoch, {key: value})
        if model.stop_training:
            break
    callbacks.on_train_end()
    return model


def test_early_stopping_waits_patience_epochs_and_restores_best_weights():
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    model = run_early_stopping(stopper, [1.0, 0.5, 0.6, 0.7, 0.1, 0.1])
    assert model.stop_training and stopper.stopped_epoch == 3
    assert stopper.best == 0.5 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_without_restore_keeps_last_weights():
    model = run_early_stopping(EarlyStopping(patience=1), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_min_delta():
    # Improvements of 0.05 are below min_delta and do not count.
    stopper = EarlyStopping(patience=1, min_delta=0.1)
    run_early_stopping(stopper, [1.0, 0.95, 0.9, 0.85])
    assert stopper.stopped_epoch == 1
    stopper = EarlyStopping(patience=1, min_delta=0.01)
    model = run_early_stopping(stopper, [1.0, 0.95, 0.9, 0.85])
    assert not model.stop_training


def test_early_stopping_auto_mode_maximises_accuracy():
    assert EarlyStopping(monitor="val_accuracy")._auto_direction() == "max"
    assert EarlyStopping(monitor="val_auc")._auto_direction() == "max"
    assert EarlyStopping(monitor="val_loss")._auto_direction() == "min"
    assert EarlyStopping(monitor="mean_squared_error")._auto_direction() == "min"
    stopper = EarlyStopping(monitor="val_accuracy", patience=1)
    model = run_early_stopping(stopper, [0.5, 0.6, 0.7, 0.65], key="val_accuracy")
    assert model.stop_training and stopper.stopped_epoch == 3 and stopper.best == 0.7


def test_early_stopping_baseline_must_be_beaten_to_reset_patience():
    stopper = EarlyStopping(patience=2, baseline=0.5)
    run_early_stopping(stopper, [0.9, 0.95, 0.96, 0.97])
    assert stopper.stopped_epoch == 1
    stopper = EarlyStopping(patience=2)
    run_early_stopping(stopper, [0.9, 0.95, 0.96, 0.97])
    assert stopper.stopped_epoch == 2


def test_early_stopping_start_from_epoch():
    stopper = EarlyStopping(patience=0, start_from_epoch=2)
    model = run_early_stopping(stopper, [1.0, 2.0, 3.0, 4.0])
    assert stopper.stopped_epoch == 3 and model.stop_training


def test_early_stopping_warns_on_missing_key():
    stopper = EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="val_loss.*Available metrics are: loss"):
        model = run_early_stopping(stopper, [1.0, 2.0], key="loss")
    assert not model.stop_training


def test_early_stopping_unknown_mode_warns_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match="mode 'biggest' is unknown"):
        stopper = EarlyStopping(mode="biggest")
    assert stopper.mode == "auto"


def test_early_stopping_auto_mode_refuses_a_metric_of_unknown_direction():
    stopper = EarlyStopping(monitor="val_widgets", patience=1)
    with pytest.raises(ValueError, match="mode='max'"):
        run_early_stopping(stopper, [1.0, 2.0], key="val_widgets")


def test_early_stopping_auto_mode_asks_the_metric_its_direction():
    class Metric:
        name, _direction = "widgets", "up"

    model = FakeModel()
    model.metrics = [Metric()]
    stopper = EarlyStopping(monitor="val_widgets")
    stopper.set_model(model)
    assert stopper._auto_direction() == "max"


def test_early_stopping_restores_best_weights_when_training_runs_to_the_end():
    # Keras 3 restores at the end of training, stopped early or not.
    stopper = EarlyStopping(patience=5, restore_best_weights=True)
    model = run_early_stopping(stopper, [1.0, 0.5, 0.7])
    assert not model.stop_training
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])


def test_early_stopping_verbose_messages(capsys):
    run_early_stopping(EarlyStopping(patience=0, verbose=1, restore_best_weights=True), [1.0, 2.0])
    out = capsys.readouterr().out
    assert "Restoring model weights from the end of the best epoch: 1." in out
    assert "Epoch 2: early stopping" in out


def test_lambda_callback_calls_given_functions():
    seen = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: seen.append("train_begin"),
        on_epoch_end=lambda epoch, logs: seen.append(("epoch_end", epoch, logs["loss"])),
        on_batch_end=lambda batch, logs: seen.append(("batch_end", batch)),
        on_test_end=lambda logs: seen.append("test_end"),
    )
    fit(CallbackList([callback]), [{"loss": 0.5}], steps=2)
    assert seen == ["train_begin", ("batch_end", 0), ("batch_end", 1), "test_end", ("epoch_end", 0, 0.5)]


def test_lambda_callback_rejects_unknown_hook():
    with pytest.raises(TypeError, match="on_epoch_finish"):
        LambdaCallback(on_epoch_finish=print)


def progbar_fit(verbose: int, epochs: int = 2) -> CallbackList:
    callbacks = CallbackList(add_progbar=True, model=FakeModel(), epochs=epochs, steps=4, verbose=verbose)
    fit(callbacks, [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5}] * epochs)
    return callbacks


def test_progbar_plain_lines_when_not_a_terminal(capsys):
    progbar_fit(verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(
        r"4/4 ━{20} \d+s \d+(us|ms|s)/step - accuracy: 0\.7500 - loss: 0\.5000 - val_accuracy: 0\.5000 - val_loss: 0\.6250",
        lines[1],
    )


def test_progbar_verbose_2_prints_one_line_per_epoch(capsys):
    progbar_fit(verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0::2] == ["Epoch 1/2", "Epoch 2/2"]
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms|s)/step - accuracy: 0\.7500 - loss: 0\.5000 - val_.*", lines[1])


def test_progbar_verbose_0_prints_nothing(capsys):
    progbar_fit(verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_single_epoch_has_no_epoch_line(capsys):
    progbar_fit(verbose=1, epochs=1)
    assert not capsys.readouterr().out.startswith("Epoch")


def test_progbar_evaluate_and_predict(capsys):
    callbacks = CallbackList(add_progbar=True, epochs=1, steps=3, verbose=1)
    callbacks.on_test_begin()
    for step in range(3):
        callbacks.on_test_batch_end(step, {"loss": 1.0})
    callbacks.on_test_end({"loss": 0.0001, "accuracy": 1.0})
    callbacks.on_predict_begin()
    for step in range(3):
        callbacks.on_predict_batch_end(step, {"outputs": np.zeros((2, 2))})
    callbacks.on_predict_end()
    evaluate_line, predict_line = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(us|ms|s)/step - accuracy: 1\.0000 - loss: 1\.0000e-04", evaluate_line)
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(us|ms|s)/step", predict_line)


def test_progbar_unknown_steps_counts_them(capsys):
    callbacks = CallbackList(add_progbar=True, epochs=1, steps=None, verbose=2)
    fit(callbacks, [{"loss": 0.5}], steps=7)
    assert capsys.readouterr().out.startswith("7/7 - ")


def test_progbar_reads_logs_rarely_during_a_burst(monkeypatch, capsys):
    monkeypatch.setattr(progbar_logger, "_is_interactive", lambda: True)
    steps = 10_000
    callbacks = CallbackList(add_progbar=True, epochs=1, steps=steps, verbose=1)
    logs = CountingLogs({"loss": 0.5, "accuracy": 0.25})
    callbacks.on_train_begin()
    callbacks.on_epoch_begin(0)
    start = time.monotonic()
    for step in range(steps):
        callbacks.on_train_batch_end(step, logs)
    burst = time.monotonic() - start
    callbacks.on_epoch_end(0, {"loss": 0.5})
    callbacks.on_train_end()
    # First step, last step, and one per 0.1 s of the burst; each draw reads both keys.
    draws = logs.reads / 2
    assert 2 <= draws <= 3 + burst / progbar_logger.REDRAW_INTERVAL
    assert draws <= 6
    assert "10000/10000" in capsys.readouterr().out


class InterruptAt(Callback):
    """Raises KeyboardInterrupt after the given training step, like Ctrl-C during `fit`."""

    def __init__(self, step: int) -> None:
        super().__init__()
        self.step = step

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.step:
            raise KeyboardInterrupt


@pytest.fixture
def terminal(monkeypatch) -> io.StringIO:
    """A fake terminal that rich draws on, as it would on a real one (cursor codes included)."""
    screen = io.StringIO()
    monkeypatch.setattr(rich, "_console", rich.console.Console(file=screen, force_terminal=True, width=120))
    monkeypatch.setattr(progbar_logger, "_is_interactive", lambda: True)
    monkeypatch.setattr(progbar_logger, "REDRAW_INTERVAL", 0.0)  # draw every step
    return screen


HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"


def test_close_after_ctrl_c_stops_the_bar_and_shows_the_cursor(terminal):
    callbacks = CallbackList([InterruptAt(step=1)], add_progbar=True, model=FakeModel(), epochs=2, steps=4,
                             verbose=1)
    with pytest.raises(KeyboardInterrupt):
        try:
            fit(callbacks, [{"loss": 0.5}] * 2)
        finally:
            callbacks.close()
    drawn = terminal.getvalue()
    assert drawn.count(HIDE_CURSOR) == 1
    assert drawn.rstrip("\n").endswith(SHOW_CURSOR)
    assert "2/4" in drawn and "3/4" not in drawn
    assert rich.get_console()._live_stack == []  # nothing left that would nest the next bar
    callbacks.close()  # again: nothing more is written
    assert terminal.getvalue() == drawn


def test_close_after_a_normal_end_changes_nothing(terminal):
    callbacks = CallbackList(add_progbar=True, model=FakeModel(), epochs=1, steps=3, verbose=1)
    fit(callbacks, [{"loss": 0.5}], steps=3)
    drawn = terminal.getvalue()
    assert drawn.count(HIDE_CURSOR) == drawn.count(SHOW_CURSOR) == 1
    callbacks.close()
    callbacks.close()
    assert terminal.getvalue() == drawn


def test_a_new_run_after_an_interrupted_one_draws_its_own_bar(terminal):
    interrupted = CallbackList([InterruptAt(step=0)], add_progbar=True, model=FakeModel(), epochs=1, steps=3,
                               verbose=1)
    with pytest.raises(KeyboardInterrupt):
        try:
            fit(interrupted, [{"loss": 0.5}], steps=3)
        finally:
            interrupted.close()
    start = len(terminal.getvalue())
    fit(CallbackList(add_progbar=True, model=FakeModel(), epochs=1, steps=3, verbose=1), [{"loss": 0.5}], steps=3)
    second_run = terminal.getvalue()[start:]
    assert second_run.count(HIDE_CURSOR) == second_run.count(SHOW_CURSOR) == 1
    assert "3/3" in second_run


def test_close_without_a_progress_bar_is_harmless():
    callbacks = CallbackList([Callback()], add_history=True)
    callbacks.close()
    callbacks.close()


# --- the logs every hook receives, as Keras gives them ---------------------------------------------------


class LogsSeen(Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list = []

    def on_train_begin(self, logs=None):
        self.seen.append(("train_begin", logs))

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(("epoch_begin", logs))

    def on_train_batch_begin(self, batch, logs=None):
        self.seen.append(("batch_begin", logs))

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(("batch_end", logs))

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(("epoch_end", logs))


def test_hooks_get_an_empty_dict_rather_than_none():
    seen = LogsSeen()
    hooks = CallbackList([seen])
    hooks.on_train_begin()
    hooks.on_epoch_begin(0)
    hooks.on_train_batch_begin(0)
    assert seen.seen == [("train_begin", {}), ("epoch_begin", {}), ("batch_begin", {})]


def test_logs_are_a_sorted_dict_of_floats():
    seen = LogsSeen()
    hooks = CallbackList([seen])
    hooks.on_train_batch_end(0, CountingLogs({"mae": np.float32(0.5), "loss": np.array(0.25)}))
    hooks.on_epoch_end(0, {"val_loss": np.float64(1.0), "loss": 2, "nested": {"b": np.float32(3.0)}})
    (_, batch_logs), (_, epoch_logs) = seen.seen
    assert type(batch_logs) is dict and list(batch_logs) == ["loss", "mae"]
    assert list(epoch_logs.items()) == [("loss", 2.0), ("b", 3.0), ("val_loss", 1.0)]
    assert all(type(value) is float for value in [*batch_logs.values(), *epoch_logs.values()])


def test_a_callback_adding_to_the_logs_is_seen_by_the_later_ones():
    class AddsLearningRate(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["learning_rate"] = 0.5

    model = FakeModel()
    hooks = CallbackList([AddsLearningRate()], add_history=True, model=model)
    fit(hooks, [{"loss": 1.0}])
    assert model.history.history == {"loss": [1.0], "learning_rate": [0.5]}


def test_step_logs_are_read_only_by_callbacks_that_want_every_value():
    logs = CountingLogs({"loss": 0.5, "accuracy": 0.25})

    class Lazy(Callback):
        _reads_logs_lazily = True

        def on_train_batch_end(self, batch, logs=None):
            self.logs = logs

    lazy = Lazy()
    hooks = CallbackList([lazy])
    hooks.on_train_batch_end(0, logs)
    assert lazy.logs is logs and logs.reads == 0
    eager = LogsSeen()
    CallbackList([lazy, eager, LogsSeen()]).on_train_batch_end(0, logs)
    assert logs.reads == 2  # one dict, made once, for both callbacks that read everything


def test_nested_callback_lists_are_flattened_and_history_becomes_the_models():
    model, history, first, second = FakeModel(), History(), Callback(), Callback()
    hooks = CallbackList([first, [second, (history,)]], model=model)
    assert hooks.callbacks == [first, second, history]
    assert model.history is history


def test_a_single_callback_or_a_callback_list_is_accepted():
    first, second = Callback(), Callback()
    assert CallbackList(first).callbacks == [first]
    assert CallbackList(CallbackList([first, second])).callbacks == [first, second]
