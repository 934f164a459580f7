"""PyDataset (Keras 2's Sequence): batches by index, fetched ahead by worker threads or processes."""

from __future__ import annotations

import collections
import concurrent.futures
import itertools
import multiprocessing
import signal
import warnings
from typing import Any, Iterable, Iterator

__all__ = ["PyDataset", "Sequence", "fetch_batches"]


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"PyDataset {name} must be a positive integer, got {value!r}.")
    return value


class PyDataset:
    """A dataset of batches: subclasses define `__getitem__(index)` and `__len__` (or `num_batches`).

    `workers` threads (processes with `use_multiprocessing=True`) compute up to `max_queue_size` batches
    ahead of training; batches still arrive in index order. `on_epoch_end` runs after every epoch.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10) -> None:
        self._workers = _positive_int(workers, "workers")
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = _positive_int(max_queue_size, "max_queue_size")

    def _setting(self, name: str, default: Any) -> Any:
        if not hasattr(self, name):
            warnings.warn(f"{type(self).__name__} did not call super().__init__(**kwargs) in its constructor: "
                          "workers, use_multiprocessing and max_queue_size take their defaults.", UserWarning,
                          stacklevel=3)
            setattr(self, name, default)
        return getattr(self, name)

    @property
    def workers(self) -> int:
        return self._setting("_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = _positive_int(value, "workers")

    @property
    def use_multiprocessing(self) -> bool:
        return self._setting("_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self) -> int:
        return self._setting("_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = _positive_int(value, "max_queue_size")

    def __getitem__(self, index: int) -> Any:
        """The batch at this position: x, (x,), (x, y) or (x, y, sample_weight)."""
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index) returning a batch.")

    @property
    def num_batches(self) -> int | None:
        """How many batches an epoch has (None: endless); by default len(self)."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(f"{type(self).__name__} must define __len__ or a num_batches property "
                                  "(None for an endless dataset).")

    def __iter__(self) -> Iterator[Any]:
        count = self.num_batches
        for index in range(count) if count is not None else itertools.count():
            yield self[index]

    def on_epoch_begin(self) -> None:
        """Called before every epoch."""

    def on_epoch_end(self) -> None:
        """Called after every epoch (e.g. to reshuffle the samples)."""


Sequence = PyDataset

_worker_dataset: Any = None  # the dataset, in a worker process


def _start_worker(dataset: Any) -> None:
    global _worker_dataset
    _worker_dataset = dataset
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool


def _batch_in_worker(index: int) -> Any:
    return _worker_dataset[index]


def _pool(dataset: Any, workers: int, processes: bool) -> concurrent.futures.Executor:
    if processes:
        # The dataset reaches each process as it is now (forked, or pickled under spawn): a new pool per
        # epoch sees what on_epoch_end changed.
        return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(),
                                                      initializer=_start_worker, initargs=(dataset,))
    return concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="lamina-batches")


def fetch_batches(dataset: Any, indices: Iterable[int]) -> Iterator[Any]:
    """dataset[i] for each index, in order; with workers > 1 or use_multiprocessing, computed ahead in a pool.

    An error in a worker is raised here, in the caller; closing the iterator (or an error, Ctrl-C included)
    cancels the batches not yet started and stops the pool.
    """
    workers = getattr(dataset, "workers", 1)
    processes = bool(getattr(dataset, "use_multiprocessing", False))
    if workers <= 1 and not processes:
        for index in indices:
            yield dataset[index]
        return
    pool = _pool(dataset, workers, processes)
    get = _batch_in_worker if processes else dataset.__getitem__
    submit = lambda index: pool.submit(get, index)  # noqa: E731
    ahead = max(getattr(dataset, "max_queue_size", 10), workers)
    remaining = iter(indices)
    pending: collections.deque = collections.deque(submit(i) for i in itertools.islice(remaining, ahead))
    try:
        while pending:
            batch = pending.popleft().result()
            for index in itertools.islice(remaining, 1):
                pending.append(submit(index))
            yield batch
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
