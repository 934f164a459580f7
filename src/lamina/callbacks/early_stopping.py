"""`EarlyStopping`: stop `fit` when a monitored metric stops improving."""

from __future__ import annotations

import warnings
from typing import Any

from lamina.callbacks.callback import Callback, Logs

# Metrics (without their `val_` prefix) where higher is better, for mode="auto".
_HIGHER_IS_BETTER = (
    "auc",
    "precision",
    "recall",
    "f1_score",
    "fbeta_score",
    "r2_score",
    "iou",
    "io_u",
    "true_positives",
    "true_negatives",
    "precision_at_recall",
    "recall_at_precision",
    "sensitivity_at_specificity",
    "specificity_at_sensitivity",
)


def _auto_mode(monitor: str) -> str:
    """'max' for accuracy-like metrics, 'min' for losses and errors."""
    name = monitor.removeprefix("val_")
    if "acc" in name or name.endswith(_HIGHER_IS_BETTER):
        return "max"
    return "min"


class EarlyStopping(Callback):
    """Stops training after `patience` epochs without improvement of `monitor`.

    Args:
        monitor: the log key watched, e.g. "val_loss" or "val_accuracy".
        min_delta: the smallest change that counts as an improvement.
        patience: epochs without improvement before training stops.
        verbose: 1 prints when training stops and when weights are restored.
        mode: "min", "max", or "auto" (from the metric's name).
        baseline: a value the metric must beat for an epoch to reset the patience.
        restore_best_weights: on stopping, set the weights of the best epoch back.
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
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = _auto_mode(monitor) if mode == "auto" else mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: Any = None

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        if reference is None:
            return True
        if self.mode == "max":
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def on_train_begin(self, logs: Logs = None) -> None:
        """Forget the previous run."""
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Compare this epoch's value with the best so far; stop when patience runs out."""
        current = self._monitored_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Patience restarts only when the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose > 0:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs: Logs = None) -> None:
        """Say on which epoch training stopped, when verbose."""
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")

    def _monitored_value(self, logs: Logs) -> float | None:
        logs = logs or {}
        if self.monitor not in logs:
            warnings.warn(
                f"EarlyStopping is monitoring {self.monitor!r}, which is not in the logs; "
                f"available keys: {', '.join(logs) or 'none'}",
                stacklevel=3,
            )
            return None
        return float(logs[self.monitor])
