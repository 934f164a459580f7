"""`History`: the per-epoch logs that `fit` returns."""

from __future__ import annotations

from typing import Any

from lamina.callbacks.callback import Callback, Logs


class History(Callback):
    """Records every epoch's logs; `fit` returns it and sets it as `model.history`."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[Any]] = {}

    def set_model(self, model: Any) -> None:
        """Attach to `model` and make this the model's `history`."""
        super().set_model(model)
        model.history = self

    def on_train_begin(self, logs: Logs = None) -> None:
        """Start a fresh record: each `fit` call has its own history."""
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Append the epoch number and each logged value, as a Python float."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(_to_python(value))


def _to_python(value: Any) -> Any:
    """A scalar (float, 0-d array or tensor) as a float; anything else unchanged."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value
