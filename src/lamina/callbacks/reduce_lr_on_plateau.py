"""`ReduceLROnPlateau`: divide the learning rate when a monitored metric stops improving."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from lamina.callbacks.callback import Logs
from lamina.callbacks.learning_rate_scheduler import current_learning_rate, log_learning_rates, optimizers_of
from lamina.callbacks.monitor_callback import MonitorCallback

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` after `patience` epochs without improvement of `monitor`.

    Args:
        monitor: the log key watched, e.g. "val_loss".
        factor: the learning rate is multiplied by it (must be below 1).
        patience: epochs without improvement before the rate is reduced.
        verbose: 1 prints each reduction.
        mode: "min", "max", or "auto" (the monitored metric's direction, else its name's).
        min_delta: the smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting epochs without improvement again.
        min_lr: the learning rate is never reduced below it.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 **kwargs: Any) -> None:
        if "epsilon" in kwargs:  # the Keras 2 name of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected keyword argument(s): {', '.join(sorted(kwargs))}")
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self) -> bool:
        """Whether the callback is still waiting after its last reduction."""
        return self.cooldown_counter > 0

    def on_train_begin(self, logs: Logs = None) -> None:
        """Forget the previous run: best value, patience and cooldown start over."""
        self._reset()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Log the epoch's learning rate, then reduce it if the metric has not improved for `patience` epochs."""
        log_learning_rates(self.model, logs)
        current = None if logs is None else logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not "
                          f"available. Available metrics are: {','.join(logs or {})}.", stacklevel=2)
            return
        current = float(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce(self, epoch: int) -> bool:
        """Reduce each optimizer's learning rate that is above `min_lr`; whether any was."""
        reduced = False
        for suffix, optimizer in optimizers_of(self.model):
            old = current_learning_rate(optimizer)
            if old > np.float32(self.min_lr):  # the rate is stored in float32
                new = max(old * self.factor, self.min_lr)
                optimizer.learning_rate = new
                reduced = True
                if self.verbose > 0:
                    which = f" {suffix[1:]}" if suffix else ""
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{which} learning rate to {new}.")
        return reduced
