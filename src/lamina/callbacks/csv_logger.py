"""`CSVLogger`: write each epoch's logs as a row of a CSV file."""

from __future__ import annotations

import collections.abc
import csv
import os
from typing import IO, Any

import numpy as np

from lamina.callbacks.callback import Callback, Logs

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Writes `epoch` and every log value of each epoch to `filename`, one row per epoch.

    Args:
        filename: the CSV file.
        separator: the character between fields.
        append: add to an existing file (its header is kept) instead of replacing it.
    """

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger filename must be a path, got {type(filename).__name__}: {filename!r:.100}")
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.writer: Any = None
        self.keys: list[str] | None = None
        self.append_header = True
        self.csv_file: IO[str] | None = None

    def on_train_begin(self, logs: Logs = None) -> None:
        """Open the file; in append mode, write no header when the file already has one. In a run of several
        processes, process 0 alone writes."""
        from lamina import distribution

        if not distribution.current().is_chief:
            return
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as stream:
                    self.append_header = not stream.readline()
            mode = "a"
        else:
            mode = "w"
        self._close()
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115 (open across hooks)
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        """Write the epoch's row; the columns are fixed by the first epoch (sorted keys)."""
        if self.csv_file is None or self.csv_file.closed:
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            # Without validation in the first epoch, leave room for `val_` columns of later epochs.
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self.writer is None:
            dialect = type("Dialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch", *self.keys], dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch, **{key: _cell(logs.get(key, "NA")) for key in self.keys}}
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs: Logs = None) -> None:
        """Close the file."""
        self._close()
        self.writer = None

    def _close(self) -> None:
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()


def _cell(value: Any) -> Any:
    """A value as one CSV field: sequences as "[a, b]"."""
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value
    if isinstance(value, collections.abc.Iterable):
        return f'"[{", ".join(map(str, value))}]"'
    return value
