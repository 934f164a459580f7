"""`History`: the per-epoch logs that `fit` returns."""

from __future__ import annotations

from typing import Any

from lamina.callbacks.callback import Callback, Logs


class History(Callback):
    """Records every epoch's logs; `fit` returns it and sets it as `model.history`.

    As in Keras, `epoch` restarts with each `fit`, while `history` keeps growing when the same instance
    is passed to several `fit` calls (`fit` makes a new one unless one is passed).
    """

    def __init__(self) -> None:
        super().__init__()
        self.epoch: list[int] = []
        self.history: dict[str, list[Any]] = {}

    def on_train_begin(self, logs: Logs = None) -> None:
        """Start a new list of epochs."""
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Append the epoch number and each logged value (floats, as the callback list gives them)."""
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self

    def plot(self, metrics: Any = None, to_file: str | None = None) -> Any:
        """Draw the loss and each metric per epoch, beside its val_ twin (lamina.utils.plot_history).

        Needs matplotlib; returns the matplotlib Figure.
        """
        from lamina.utils.plotting import plot_history

        return plot_history(self, metrics=metrics, to_file=to_file)
