"""`EarlyStopping`: stop `fit` when a monitored metric stops improving."""

from __future__ import annotations

import warnings
from typing import Any

from lamina.callbacks.callback import Logs
from lamina.callbacks.monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training after `patience` epochs without improvement of `monitor`.

    Args:
        monitor: the log key watched, e.g. "val_loss" or "val_accuracy".
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before training stops.
        verbose: 1 prints when training stops and when weights are restored.
        mode: "min", "max", or "auto" (from the monitored metric).
        baseline: a value the metric must beat for an epoch to reset the patience.
        restore_best_weights: at the end of training (stopped early or not), set the weights of the best
            epoch back.
        start_from_epoch: epochs to wait before watching (warm-up).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights: Any = None

    def on_train_begin(self, logs: Logs = None) -> None:
        """Forget the previous run, so that one instance can serve several `fit` calls."""
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Compare this epoch's value with the best so far; stop when patience runs out."""
        if self.monitor_op is None:
            self._set_monitor_op()  # here, once the model's metrics are built
        current = self._monitored_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Until an epoch improves, the weights of the first watched epoch are the best.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # The patience restarts only when the value beats the baseline too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs = None) -> None:
        """Say on which epoch training stopped; restore the best weights (stopped early or not)."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: Logs) -> Any:
        """The monitored value in `logs`, or None (with a warning naming the keys there are)."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric {self.monitor!r}, which is not available. "
                f"Available metrics are: {', '.join(logs) or 'none'}",
                stacklevel=3,
            )
        return value

    def _monitored_value(self, logs: Logs) -> float | None:
        value = self.get_monitor_value(logs)
        return None if value is None else float(value)
