"""`ModelCheckpoint`: save the model (or its weights) during training, every epoch or every N batches."""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from lamina.callbacks.callback import Logs
from lamina.callbacks.monitor_callback import MonitorCallback

__all__ = ["ModelCheckpoint"]

# Keras writes weights to `.weights.h5`; Lamina's own weights file is `.weights.npz`.
WEIGHTS_SUFFIXES = (".weights.h5", ".weights.npz")
MODEL_SUFFIXES = (".keras", ".h5")


class ModelCheckpoint(MonitorCallback):
    """Saves the model or its weights to `filepath` at the end of each epoch or every `save_freq` batches.

    Args:
        filepath: where to save; it may hold format fields filled from `epoch` (counted from 1), `batch`
            (from 1, when saving by batch) and the logs, e.g. "ckpt-{epoch:02d}-{val_loss:.2f}.keras".
            It must end in ".keras" (or ".h5"), or with `save_weights_only` in ".weights.npz" (or
            Keras's ".weights.h5").
        monitor: the log key compared when `save_best_only`.
        verbose: 1 prints a line at each save.
        save_best_only: save only when `monitor` improved on the best value so far.
        save_weights_only: save the weights only (`model.save_weights`), not the whole model.
        mode: "min", "max" or "auto" (from the monitored metric).
        save_freq: "epoch", or a number of batches between saves.
        initial_value_threshold: the value `monitor` must beat for the first save.
    """

    _reads_logs_lazily = True  # step logs are read only when a save is due

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None) -> None:
        super().__init__(monitor, mode, initial_value_threshold)
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"ModelCheckpoint filepath must be a path, got {type(filepath).__name__}: "
                            f"{filepath!r:.100}")
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None
        self._current_epoch = 0
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError(f"ModelCheckpoint save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}")
        _check_suffix(self.filepath, save_weights_only)

    def on_train_begin(self, logs: Logs = None) -> None:
        """In a run of several processes every process must decide alike whether to save (process 0 writes, the
        others wait for it); a batch's logs are each process's own, so saving the best by batch is refused."""
        from lamina import distribution

        if self.save_best_only and self.save_freq != "epoch" and distribution.current().process_count > 1:
            raise ValueError("ModelCheckpoint(save_best_only=True) with save_freq as a number of batches cannot run "
                             "on several processes: each process's batch logs differ, so they would not agree "
                             "when to save. Use save_freq='epoch' (the epoch's logs are combined over the "
                             f"processes), or save_best_only=False. Got save_freq={self.save_freq!r}.")

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Remember the epoch, for saves by batch."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Save when `save_freq` batches have passed since the last save."""
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Save at the end of the epoch when `save_freq` is "epoch"."""
        if self.monitor_op is None:
            self._set_monitor_op()  # here, once the model's metrics are built
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        # A batch number at or below the last one seen starts a new epoch.
        if self._last_batch_seen is None or batch <= self._last_batch_seen:
            seen = batch + 1
        else:
            seen = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self, epoch: int, batch: int | None, logs: Logs) -> None:
        logs = {} if logs is None else logs
        filepath = self._get_file_path(epoch, batch, logs)
        if not self._should_save_model(epoch, logs, filepath):
            return
        if os.path.isdir(filepath):
            raise IOError("Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an "
                          f"existing directory: {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {filepath}")

    def _should_save_model(self, epoch: int, logs: Any, filepath: str) -> bool:
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
            return True
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=4)
            return True
        if np.ndim(current) > 0:
            warnings.warn(f"Can save best model only when `monitor` is a scalar value. Received: {current}. "
                          "Falling back to `save_best_only=False`.", stacklevel=4)
            return True
        current = float(current)
        best = "None" if self.best is None else f"{self.best:.5f}"
        if self._is_improvement(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best}")
        return False

    def _get_file_path(self, epoch: int, batch: int | None, logs: Any) -> str:
        """`filepath` with its fields filled: epoch and batch counted from 1, then the logs."""
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None and "batch" not in logs:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as error:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {error} is '
                           f"not among the fields {', '.join(sorted(fields))}") from None


def _check_suffix(filepath: str, save_weights_only: bool) -> None:
    if save_weights_only:
        if not filepath.endswith(WEIGHTS_SUFFIXES):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided "
                             "must end in `.weights.npz` (or Keras's `.weights.h5`). "
                             f"Received: filepath={filepath}")
    elif not filepath.endswith(MODEL_SUFFIXES):
        raise ValueError("The filepath provided must end in `.keras` (Keras model format). "
                         f"Received: filepath={filepath}")
