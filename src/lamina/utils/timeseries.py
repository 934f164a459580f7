"""Sliding windows over a timeseries, served as batches of (windows, targets) that fit accepts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lamina.utils.py_dataset import PyDataset

__all__ = ["TimeseriesDataset", "timeseries_dataset_from_array"]


def _array(value: Any, name: str) -> np.ndarray:
    if hasattr(value, "to_numpy"):  # pandas
        value = value.to_numpy()
    array = np.asarray(value)
    if array.ndim == 0:
        raise ValueError(f"timeseries_dataset_from_array: {name} must have a time axis, got a scalar.")
    return array


class TimeseriesDataset(PyDataset):
    """Batches of windows `data[start + k * sampling_rate]` (k < sequence_length), with `targets[start]`."""

    def __init__(self, data: np.ndarray, targets: np.ndarray | None, starts: np.ndarray, sequence_length: int,
                 sampling_rate: int, batch_size: int | None, shuffle: bool, seed: int | None) -> None:
        super().__init__()
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size, self.shuffle = batch_size, shuffle
        self._rng = np.random.RandomState(seed)
        if shuffle:
            self._rng.shuffle(self.starts)

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.starts)
        return math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"TimeseriesDataset has {len(self)} batches, got index {index}.")
        index %= len(self)
        if self.batch_size is None:  # one window, no batch axis
            start = self.starts[index]
            window = self.data[start + self.offsets]
            return window if self.targets is None else (window, self.targets[start])
        starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        windows = self.data[starts[:, None] + self.offsets]
        return windows if self.targets is None else (windows, self.targets[starts])

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self.starts)


def _check_positive(value: Any, name: str, below: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"timeseries_dataset_from_array: {name} must be a positive integer, got {value!r}.")
    if below is not None and value >= below:
        raise ValueError(f"timeseries_dataset_from_array: {name} must be lower than the length of the data "
                         f"({below}), got {value}.")


def timeseries_dataset_from_array(data: Any, targets: Any, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None, format: str = "tf") -> TimeseriesDataset:
    """Windows of `sequence_length` steps (every `sampling_rate`-th step), starting every `sequence_stride` steps.

    The window starting at step i (counted from start_index) has target `targets[i]`. Returns a PyDataset of
    (windows, targets) batches (windows alone when targets is None), ready for fit/evaluate/predict. `format`
    is accepted for compatibility: the same dataset is returned for "tf" and "grain".
    """
    data = _array(data, "data")
    length = len(data)
    _check_positive(sequence_length, "sequence_length")
    _check_positive(sampling_rate, "sampling_rate", below=length)
    _check_positive(sequence_stride, "sequence_stride", below=length)
    if batch_size is not None:
        _check_positive(batch_size, "batch_size")
    if format not in ("tf", "grain"):
        raise ValueError(f"timeseries_dataset_from_array: format must be 'tf' or 'grain', got {format!r}.")
    if start_index and not 0 <= start_index < length:
        raise ValueError(f"timeseries_dataset_from_array: start_index must be in [0, {length}), got {start_index}.")
    if end_index is not None:
        if end_index <= 0 or end_index >= length or (start_index and end_index <= start_index):
            raise ValueError("timeseries_dataset_from_array: end_index must be above 0 and start_index, and below "
                             f"the length of the data ({length}); got end_index={end_index}, "
                             f"start_index={start_index}.")
    start, end = start_index or 0, end_index if end_index is not None else length
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = _array(targets, "targets")
        count = min(count, len(targets))
        targets = targets[start:end]
    starts = np.arange(0, max(count, 0), sequence_stride, dtype=np.int64)
    return TimeseriesDataset(data[start:end], targets, starts, sequence_length, sampling_rate, batch_size,
                             bool(shuffle), seed)
