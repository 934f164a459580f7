"""The base `Callback` and the `CallbackList` that a trainer drives."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

# Hooks taking `(epoch, logs)` or `(batch, logs)`; the rest take `(logs)` only.
EPOCH_HOOKS = ("on_epoch_begin", "on_epoch_end")
BATCH_HOOKS = (
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)
RUN_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_test_begin",
    "on_test_end",
    "on_predict_begin",
    "on_predict_end",
)
HOOKS = RUN_HOOKS + EPOCH_HOOKS + BATCH_HOOKS
# Keras 2 names that `Callback.on_train_batch_begin/end` forward to.
ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}

Logs = Mapping[str, Any] | None


def python_logs(logs: Logs) -> dict[str, Any]:
    """Logs as callbacks receive them: a new dict sorted by key, nested dicts flattened, scalars as floats."""
    result: dict[str, Any] = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, Mapping):
            result.update(python_logs(value))
            continue
        result[key] = _python_value(value)
    return result


def _python_value(value: Any) -> Any:
    """A scalar as a float; a tensor that is not a scalar as a NumPy array; anything else unchanged."""
    if type(value) is float:
        return value
    from lamina import backend

    if backend.impl.is_tensor(value):
        value = backend.impl.convert_to_numpy(value)
    if np.ndim(value) > 0:  # predict's outputs stay arrays, even of one element
        return value
    try:
        return float(value)
    except (TypeError, ValueError):  # a string, or an object that is no number
        return value


def reads_logs_lazily(callback: "Callback") -> bool:
    """Whether `callback` takes the step logs as a lazy mapping and reads only the values it needs.

    Reading a step's metrics waits for the device, so such callbacks (the progress bar, the checkpoint
    writers) are handed the trainer's mapping as it is instead of a dict of every value.
    """
    from lamina.callbacks.progbar_logger import ProgbarLogger

    return isinstance(callback, ProgbarLogger) or getattr(callback, "_reads_logs_lazily", False)


class Callback:
    """Base class of objects whose hooks a trainer calls during fit, evaluate and predict."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        """Give the callback the model being trained."""
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        """Give the callback the run's parameters (`epochs`, `steps`, `verbose`)."""
        self.params = params

    def on_train_begin(self, logs: Logs = None) -> None:
        """Called once when `fit` starts."""

    def on_train_end(self, logs: Logs = None) -> None:
        """Called once when `fit` ends."""

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Called at the start of each epoch (counted from 0)."""

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Called at the end of each epoch with its training and `val_` metrics."""

    def on_test_begin(self, logs: Logs = None) -> None:
        """Called when evaluation (or validation inside `fit`) starts."""

    def on_test_end(self, logs: Logs = None) -> None:
        """Called when evaluation ends, with its metrics."""

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Called when `predict` starts."""

    def on_predict_end(self, logs: Logs = None) -> None:
        """Called when `predict` ends."""

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Called before each training step; calls `on_batch_begin` unless overridden."""
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Called after each training step; calls `on_batch_end` unless overridden."""
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Called before each evaluation step."""

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Called after each evaluation step."""

    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Called before each prediction step."""

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Called after each prediction step."""

    def on_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Keras 2 name of `on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Keras 2 name of `on_train_batch_end`."""


def _overrides(callback: Callback, hook: str) -> bool:
    """Whether `callback` does something in `hook` (a method override or an attribute)."""
    method = getattr(callback, hook)
    return getattr(method, "__func__", method) is not getattr(Callback, hook)


class CallbackList(Callback):
    """Several callbacks called in order; each hook only reaches the callbacks that override it.

    As in Keras, every hook hands its callbacks one dict of logs (`{}` when there are none), sorted by key
    with scalar values as Python floats, so that a callback may add entries for the ones after it. The step
    hooks build that dict only when a callback that reads every value overrides them: the per-step metrics
    stay on the device otherwise.
    """

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ) -> None:
        super().__init__()
        self.callbacks: list[Callback] = []
        for callback in _flattened(callbacks):
            self._check(callback)
            self.callbacks.append(callback)
        self._add_defaults(add_history, add_progbar)
        self._build_dispatch()
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    @staticmethod
    def _check(callback: Any) -> None:
        if not isinstance(callback, Callback):
            raise TypeError(
                "callbacks must contain lamina.callbacks.Callback instances, "
                f"got {type(callback).__name__}: {callback!r}"
            )

    def _add_defaults(self, add_history: bool, add_progbar: bool) -> None:
        from lamina.callbacks.history import History
        from lamina.callbacks.progbar_logger import ProgbarLogger

        # The bar goes first so that an epoch's final line prints before other
        # callbacks' end-of-epoch messages; History goes last to see final logs.
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if add_history and not any(isinstance(c, History) for c in self.callbacks):
            self.callbacks.append(History())

    def _build_dispatch(self) -> None:
        # Bound methods per hook, so that a per-step hook loops over few or no callbacks.
        self._dispatch: dict[str, list[Any]] = {}
        self._lazy: dict[str, list[bool]] = {}
        for hook in HOOKS:
            # A train-batch hook also serves callbacks that override only its Keras 2 alias.
            names = (hook, ALIASES[hook]) if hook in ALIASES else (hook,)
            chosen = [c for c in self.callbacks if any(_overrides(c, n) for n in names)]
            self._dispatch[hook] = [getattr(c, hook) for c in chosen]
            self._lazy[hook] = [hook in BATCH_HOOKS and reads_logs_lazily(c) for c in chosen]

    def append(self, callback: Callback) -> None:
        """Add a callback at the end, giving it this list's model and params."""
        self._check(callback)
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        if self.params:
            callback.set_params(self.params)
        self._build_dispatch()

    def close(self) -> None:
        """Stop any live display (the progress bar) and give the terminal back its cursor.

        Trainers call it when `fit`, `evaluate` or `predict` ends, normally or by an exception
        such as Ctrl-C; calling it again, or after a normal end, does nothing.
        """
        from lamina.callbacks.progbar_logger import ProgbarLogger

        for callback in self.callbacks:
            if isinstance(callback, ProgbarLogger):
                callback.close()

    def set_model(self, model: Any) -> None:
        """Give every callback the model; the model's `history` becomes this list's History."""
        from lamina.callbacks.history import History

        super().set_model(model)
        for callback in self.callbacks:
            if isinstance(callback, History):
                model.history = callback
            callback.set_model(model)

    def set_params(self, params: dict[str, Any]) -> None:
        """Give every callback the run's parameters."""
        super().set_params(params)
        for callback in self.callbacks:
            callback.set_params(params)

    def _call(self, hook: str, logs: Logs) -> None:
        calls = self._dispatch[hook]
        if calls:
            logs = python_logs(logs)
            for call in calls:
                call(logs)

    def _call_numbered(self, hook: str, number: int, logs: Logs) -> None:
        calls = self._dispatch[hook]
        if not calls:
            return
        plain = None
        for call, lazy in zip(calls, self._lazy[hook]):
            if lazy:
                call(number, {} if logs is None else logs)
                continue
            if plain is None:  # one dict for all, made on first need
                plain = python_logs(logs)
            call(number, plain)

    def on_train_begin(self, logs: Logs = None) -> None:
        """Dispatch `on_train_begin`."""
        self._call("on_train_begin", logs)

    def on_train_end(self, logs: Logs = None) -> None:
        """Dispatch `on_train_end`."""
        self._call("on_train_end", logs)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Dispatch `on_epoch_begin`."""
        self._call_numbered("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Dispatch `on_epoch_end`."""
        self._call_numbered("on_epoch_end", epoch, logs)

    def on_test_begin(self, logs: Logs = None) -> None:
        """Dispatch `on_test_begin`."""
        self._call("on_test_begin", logs)

    def on_test_end(self, logs: Logs = None) -> None:
        """Dispatch `on_test_end`."""
        self._call("on_test_end", logs)

    def on_predict_begin(self, logs: Logs = None) -> None:
        """Dispatch `on_predict_begin`."""
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs: Logs = None) -> None:
        """Dispatch `on_predict_end`."""
        self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Dispatch `on_train_batch_begin` (and so `on_batch_begin`)."""
        self._call_numbered("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Dispatch `on_train_batch_end` (and so `on_batch_end`)."""
        self._call_numbered("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Dispatch `on_test_batch_begin`."""
        self._call_numbered("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Dispatch `on_test_batch_end`."""
        self._call_numbered("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Logs = None) -> None:
        """Dispatch `on_predict_batch_begin`."""
        self._call_numbered("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Dispatch `on_predict_batch_end`."""
        self._call_numbered("on_predict_batch_end", batch, logs)

    # On a list the Keras 2 names are the train-batch hooks themselves.
    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end


def _flattened(callbacks: Any) -> Iterable[Any]:
    """The callbacks of a possibly nested list, or of a CallbackList, in order (as Keras takes them)."""
    if callbacks is None:
        return
    if isinstance(callbacks, CallbackList):
        yield from callbacks.callbacks
    elif isinstance(callbacks, (list, tuple)):
        for item in callbacks:
            yield from _flattened(item)
    else:
        yield callbacks
