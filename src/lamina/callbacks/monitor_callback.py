"""`MonitorCallback`: the base of callbacks that watch one logged quantity for improvement.

`EarlyStopping` and `ModelCheckpoint` use it (as Keras's do); `mode="auto"` takes the direction from the
monitored metric (its `_direction`, "up" or "down", where it has one), else from its name.
"""

from __future__ import annotations

import warnings
from typing import Any

from lamina.callbacks.callback import Callback

# Metric names (without `val_`) that Keras maximises.
_HIGHER_IS_BETTER = ("accuracy", "acc", "auc", "precision", "recall", "f1_score", "fbeta_score", "r2_score",
                     "iou", "io_u", "cosine_similarity", "correlation", "at_recall", "at_precision",
                     "at_specificity", "at_sensitivity")
# Metric names that Keras minimises.
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "hinge", "divergence", "poisson", "logcosh")
_LOWER_ABBREVIATIONS = {"mse", "mae", "mape", "msle", "rmse", "kld", "kl_divergence"}


def direction_from_name(name: str) -> str | None:
    """'max' or 'min' for a metric name Keras knows the direction of, else None."""
    name = name.removeprefix("val_")
    if name in _LOWER_ABBREVIATIONS or any(part in name for part in _LOWER_IS_BETTER):
        return "min"
    if "acc" in name or any(part in name for part in _HIGHER_IS_BETTER):
        return "max"
    return None


class MonitorCallback(Callback):
    """Watches `monitor` in the logs; `_is_improvement` compares a value with a reference.

    Args:
        monitor: the log key watched, e.g. "val_loss" or "val_accuracy".
        mode: "min", "max", or "auto" (the direction of the monitored metric).
        baseline: the initial best value; None to take the first value seen.
        min_delta: the smallest change that counts as an improvement.
    """

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", baseline: float | None = None,
                 min_delta: float = 0) -> None:
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode {mode!r} is unknown (expected 'auto', 'min' or 'max'); "
                          "falling back to 'auto'.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op: Any = None

    def _set_monitor_op(self) -> None:
        """Choose the comparison, asking the model's metrics in auto mode (they are built by now)."""
        direction = self.mode if self.mode != "auto" else self._auto_direction()
        self.monitor_op = _greater if direction == "max" else _less

    def _auto_direction(self) -> str:
        name = self.monitor.removeprefix("val_")
        if name != "loss":
            for metric in getattr(self.model, "metrics", None) or []:
                direction = getattr(metric, "_direction", None)
                if getattr(metric, "name", None) == name and direction in ("up", "down"):
                    return "max" if direction == "up" else "min"
        direction = direction_from_name(name)
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} received monitor={self.monitor!r}, but cannot tell whether that "
                "metric should be maximized or minimized. Pass mode='max' to keep the highest value, or "
                "mode='min' to keep the lowest one.")
        return direction

    def _is_improvement(self, value: float, reference: float | None) -> bool:
        """Whether `value` beats `reference` by more than `min_delta` (any value beats None)."""
        if self.monitor_op is None:
            self._set_monitor_op()
        if reference is None:
            return True
        delta = self.min_delta if self.monitor_op is _greater else -self.min_delta
        return bool(self.monitor_op(value - delta, reference))


def _less(a: float, b: float) -> bool:
    return a < b


def _greater(a: float, b: float) -> bool:
    return a > b
