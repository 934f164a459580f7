"""`LearningRateScheduler`: set the optimizer's learning rate at the start of each epoch from a function."""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

from lamina.callbacks.callback import Callback, Logs

__all__ = ["LearningRateScheduler"]


def optimizers_of(model: Any) -> list[tuple[str, Any]]:
    """(log suffix, optimizer) pairs: the model's optimizer, or each optimizer of a multi-optimizer."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        raise ValueError("This callback needs a compiled model with an optimizer; call model.compile() first.")
    if hasattr(optimizer, "optimizers"):
        return [(f"_{inner.name}", inner) for inner in optimizer.optimizers]
    return [("", optimizer)]


def current_learning_rate(optimizer: Any) -> float:
    """The optimizer's learning rate as a Python float (one host read, once per epoch)."""
    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(optimizer.learning_rate)


def log_learning_rates(model: Any, logs: Logs) -> None:
    """Add `learning_rate` (or `learning_rate_<name>` per optimizer of a multi-optimizer) to the epoch logs."""
    if logs is None:
        return
    for suffix, optimizer in optimizers_of(model):
        logs[f"learning_rate{suffix}"] = current_learning_rate(optimizer)  # type: ignore[index]


def _takes_two_arguments(function: Callable[..., Any]) -> bool | None:
    """Whether `function(epoch, lr)` binds; None when the signature cannot be read."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    try:
        signature.bind(0, 0.0)
    except TypeError:
        return False
    return True


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to `schedule(epoch, lr)`.

    `epoch` counts from 0 and `lr` is the current learning rate; a function of one argument is called as
    `schedule(epoch)`, as Keras 2 did. The learning rate of each epoch is added to its logs as
    `learning_rate`, so it appears in `history.history`.

    Args:
        schedule: a function of `(epoch, lr)` or `(epoch)` returning the new learning rate as a float.
        verbose: 1 prints the learning rate each time it is set.
    """

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of (epoch, lr) or (epoch), got "
                            f"{type(schedule).__name__}: {schedule!r:.100}")
        self.schedule = schedule
        self.verbose = verbose

    def _new_rate(self, epoch: int, rate: float) -> float:
        two_arguments = _takes_two_arguments(self.schedule)
        if two_arguments is None:  # no readable signature: try the current form, then the Keras 2 one
            try:
                value = self.schedule(epoch, rate)
            except TypeError:
                value = self.schedule(epoch)
        else:
            value = self.schedule(epoch, rate) if two_arguments else self.schedule(epoch)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {value!r:.100} "
                             f"({type(value).__name__}) at epoch {epoch}")
        return float(value)

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Ask the schedule for this epoch's learning rate and give it to the optimizer."""
        for suffix, optimizer in optimizers_of(self.model):
            rate = self._new_rate(epoch, current_learning_rate(optimizer))
            optimizer.learning_rate = rate
            if self.verbose > 0:
                which = f" {suffix[1:]}" if suffix else ""
                print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting{which} learning rate to {rate}.")

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Log the epoch's learning rate as `learning_rate`."""
        log_learning_rates(self.model, logs)
