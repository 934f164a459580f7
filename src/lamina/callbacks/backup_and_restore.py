"""`BackupAndRestore`: back up the training state so that an interrupted `fit` resumes where it was.

Each backup is one file, `latest.weights.npz` in `backup_dir`, holding the model's weights, the optimizer's
variables (its iteration count and slots), the random-number state of the layers and of the backend's own
generators, and the epoch to resume from. It is written to a temporary file and renamed over the previous
backup, so that a process killed at any moment leaves either the old backup or the new one, never a mix.
`training_metadata.json` repeats the epoch and batch in Keras's layout, for people and tools that read it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from lamina import backend
from lamina.callbacks.callback import Callback, Logs

__all__ = ["BackupAndRestore"]

WEIGHTS_FILE = "latest.weights.npz"
METADATA_FILE = "training_metadata.json"
_EPOCH_KEY, _BATCH_KEY = "training_metadata/epoch", "training_metadata/batch"
_RNG_PREFIX = "random_state/"


class BackupAndRestore(Callback):
    """Backs up the training state to `backup_dir`; a later `fit` with the same callback resumes from it.

    Args:
        backup_dir: the folder of the backup (created when needed); use one folder per training run.
        save_freq: "epoch" to back up at the end of each epoch, or a number of batches between backups
            (a resumed run then restarts the interrupted epoch from its first batch, with the weights of
            the backup, as Keras does).
        double_checkpoint: keep the previous backup too (`latest.weights.npz.bkp`), used when the latest
            one cannot be read.
        delete_checkpoint: remove `backup_dir` when `fit` ends normally.
    """

    _reads_logs_lazily = True  # step logs are never read

    def __init__(self, backup_dir: str | os.PathLike, save_freq: str | int = "epoch",
                 double_checkpoint: bool = False, delete_checkpoint: bool = True) -> None:
        super().__init__()
        if not backup_dir:
            raise ValueError(f"BackupAndRestore needs a backup_dir, got {backup_dir!r}")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError("BackupAndRestore save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self._training_metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0

    # --- restore --------------------------------------------------------------------------------------

    def on_train_begin(self, logs: Logs = None) -> None:
        """Load the backup, if there is one, and tell `fit` the epoch to resume from."""
        if not self.model.built:
            raise ValueError("To use the BackupAndRestore callback, the model must be built before fit() is "
                             f"called; model {self.model.name!r} is not built. Build it first, e.g. by calling "
                             "it on a batch of data or by giving its first layer an input shape.")
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        try:
            self._load(self._weights_path)
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            self._load(self._prev_weights_path)

    def _load(self, path: str) -> None:
        if not os.path.exists(path):
            return
        from lamina.saving import keras_file

        try:
            arrays = keras_file.decode_npz(Path(path).read_bytes())
            epoch = int(arrays.pop(_EPOCH_KEY))
            arrays.pop(_BATCH_KEY, None)
        except (*keras_file.READ_ERRORS, KeyError, TypeError) as error:
            raise ValueError(f"Cannot restore the backup {path!r}: {error}") from error
        random_state = {key[len(_RNG_PREFIX):]: arrays.pop(key) for key in list(arrays) if key.startswith(_RNG_PREFIX)}
        groups = _state_variables(self.model, build_optimizer=True)
        for prefix, variables in groups.items():
            _assign(variables, _group_arrays(arrays, prefix), f"backup {path!r}")
        try:
            backend.impl.set_global_random_state(random_state)  # a backup from another backend holds other names
        except ValueError as error:
            raise ValueError(f"Cannot restore the backup {path!r}: its random state is damaged ({error}).") from None
        self._current_epoch = epoch
        self.model._initial_epoch = epoch

    # --- back up --------------------------------------------------------------------------------------

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        """Remember the epoch, for backups by batch."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Back up when `save_freq` batches have passed since the last backup."""
        if self._should_save_on_batch(batch):
            self._save_model()

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Back up the end of this epoch (a resumed run starts at the next one)."""
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        seen = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += seen
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _save_model(self) -> None:
        """Back up: process 0 writes, the others of a multi-process run wait until it has."""
        from lamina import distribution

        current = distribution.current()
        try:
            if current.is_chief:
                self._write_backup()
        finally:
            current.barrier()

    def _write_backup(self) -> None:
        from lamina.saving import keras_file, weights

        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            _atomic_copy(self._weights_path, self._prev_weights_path)
            _atomic_copy(self._training_metadata_path, self._prev_training_metadata_path)
        arrays: dict[str, np.ndarray] = {}
        for variables in _state_variables(self.model, build_optimizer=False).values():
            arrays.update(weights.to_arrays(variables))
        # The backend's own generators too: layers without a seed (a Dropout()) draw from them, so a resumed
        # run draws what the unbroken run drew from there on.
        arrays.update({f"{_RNG_PREFIX}{name}": state for name, state in backend.impl.global_random_state().items()})
        arrays[_EPOCH_KEY] = np.asarray(self._current_epoch, dtype=np.int64)
        arrays[_BATCH_KEY] = np.asarray(self._last_batch_seen, dtype=np.int64)
        data = keras_file.encode_npz(arrays)
        keras_file.atomic_write(Path(self._weights_path), lambda stream: stream.write(data))
        metadata = json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}).encode()
        keras_file.atomic_write(Path(self._training_metadata_path), lambda stream: stream.write(metadata))

    def on_train_end(self, logs: Logs = None) -> None:
        """Training finished: remove the backup folder when `delete_checkpoint`."""
        from lamina import distribution

        if self.delete_checkpoint and distribution.current().is_chief and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
        distribution.current().barrier()  # no process starts another fit while the backup is still there


def _state_variables(model: Any, build_optimizer: bool) -> dict[str, dict[str, Any]]:
    """The variables a backup holds, by path, grouped by the prefix of their paths."""
    from lamina.saving import weights

    optimizer = getattr(model, "optimizer", None)
    if build_optimizer and optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_weights)
    seeds = {f"seed_state/{index}": variable for index, variable in enumerate(model.seed_state_variables)}
    return {"": weights.layer_variables(model), "optimizer/": weights.optimizer_variables(optimizer),
            "seed_state/": seeds}


def _group_arrays(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    """The arrays of one group: those under `prefix`, or for the layers ("") those under no other prefix."""
    if prefix:
        return {key: value for key, value in arrays.items() if key.startswith(prefix)}
    return {key: value for key, value in arrays.items() if not key.startswith(("optimizer/", "seed_state/"))}


def _assign(variables: dict[str, Any], arrays: dict[str, np.ndarray], where: str) -> None:
    from lamina.saving import weights

    try:
        weights.assign(variables, arrays)
    except ValueError as error:
        raise ValueError(f"Cannot restore the {where}: {error}") from error


def _atomic_copy(source: str, target: str) -> None:
    """Copy `source` over `target` so that `target` is whole at every moment; nothing when no source."""
    if not os.path.exists(source):
        return
    directory = os.path.dirname(target) or "."
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".backup-", suffix=".tmp")
    os.close(descriptor)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
