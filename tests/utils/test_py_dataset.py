"""PyDataset: batches by index, fetched ahead by threads or processes, in order, errors raised in the caller."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest

from lamina.trainers.data_adapter import GeneratorData
from lamina.utils import PyDataset, Sequence
from lamina.utils.py_dataset import fetch_batches


class Numbers(PyDataset):
    """Batch i is [[i]]; records which indices it served and how many epochs ended."""

    def __init__(self, count: int = 6, fail_at: int | None = None, delay: float = 0.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.count, self.fail_at, self.delay = count, fail_at, delay
        self.served: list[int] = []
        self.epochs_ended = 0
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int):
        if index == self.fail_at:
            raise KeyError(f"no batch {index} here")
        time.sleep(self.delay * ((index * 7) % 3))  # finish out of order
        with self.lock:
            self.served.append(index)
        return np.full((1, 1), index, "float32"), np.full((1,), index, "float32")

    def on_epoch_end(self) -> None:
        self.epochs_ended += 1


def labels(data: GeneratorData) -> list[int]:
    return [int(batch.y[0]) for batch in data.epoch()]


def test_sequence_is_the_keras_2_name() -> None:
    assert Sequence is PyDataset


@pytest.mark.parametrize("workers", [1, 3])
def test_threads_serve_every_batch_once_per_epoch_in_order(workers: int) -> None:
    dataset = Numbers(workers=workers, max_queue_size=2, delay=0.002)
    data = GeneratorData(dataset, None)
    for epoch in range(2):
        assert labels(data) == list(range(6))
        assert dataset.epochs_ended == epoch + 1
    assert sorted(dataset.served) == sorted(list(range(6)) * 2)


def test_processes_serve_batches_in_order() -> None:
    dataset = Numbers(workers=2, use_multiprocessing=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # jax's note about fork: the workers never touch jax
        data = GeneratorData(dataset, None)
        assert labels(data) == list(range(6))
    assert dataset.epochs_ended == 1


@pytest.mark.parametrize("settings", [{"workers": 1}, {"workers": 2}, {"workers": 2, "use_multiprocessing": True}])
def test_a_failing_getitem_raises_the_users_error(settings: dict) -> None:
    dataset = Numbers(fail_at=3, **settings)
    before = threading.active_count()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(KeyError, match="no batch 3 here"):
            list(GeneratorData(dataset, None).epoch())
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:  # the pool's threads end
        time.sleep(0.01)
    assert threading.active_count() <= before


def test_closing_early_stops_the_workers() -> None:
    dataset = Numbers(count=50, workers=2, max_queue_size=3)
    batches = fetch_batches(dataset, range(50))
    assert int(next(batches)[1][0]) == 0
    batches.close()
    time.sleep(0.05)
    assert len(dataset.served) <= 1 + 3 + 2  # the one taken, the queue ahead, and what workers had begun


def test_shuffle_changes_the_batch_order_each_epoch_but_keeps_every_batch() -> None:
    np.random.seed(0)
    data = GeneratorData(Numbers(count=8), None, shuffle=True)
    first, second = labels(data), labels(data)
    assert sorted(first) == sorted(second) == list(range(8))
    assert first != list(range(8)) and first != second


def test_endless_datasets_need_steps() -> None:
    class Endless(PyDataset):
        num_batches = None

        def __getitem__(self, index: int):
            return np.full((1, 1), index, "float32"), np.full((1,), index, "float32")

    with pytest.raises(ValueError, match="steps_per_epoch"):
        GeneratorData(Endless(), None)
    data = GeneratorData(Endless(), 3)
    assert labels(data) == [0, 1, 2] and labels(data) == [3, 4, 5]


def test_fewer_steps_than_batches_continue_through_the_pass_then_restart() -> None:
    data = GeneratorData(Numbers(count=5), 2)
    assert [labels(data) for _ in range(3)] == [[0, 1], [2, 3], [4]]
    assert data.ran_short  # the pass ended within the epoch: fit warns and stops, as Keras does
    assert labels(data) == [0, 1]


def test_without_super_init_the_defaults_apply_with_a_warning() -> None:
    class Bare(PyDataset):
        def __init__(self) -> None:  # forgets super().__init__()
            pass

        def __len__(self) -> int:
            return 2

        def __getitem__(self, index: int):
            return np.zeros((1, 1)), np.zeros((1,))

    with pytest.warns(UserWarning, match="super"):
        assert Bare().workers == 1


@pytest.mark.parametrize("bad", [{"workers": 0}, {"max_queue_size": -1}, {"workers": 1.5}])
def test_bad_settings_are_named(bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Numbers(**bad)


def test_class_weight_weighs_each_batch_and_clashes_with_sample_weights() -> None:
    class Labelled(PyDataset):
        def __init__(self, weighted: bool = False) -> None:
            super().__init__()
            self.weighted = weighted

        def __len__(self) -> int:
            return 1

        def __getitem__(self, index: int):
            y = np.array([0, 1, 2, 1])
            return (np.zeros((4, 1)), y, np.ones(4)) if self.weighted else (np.zeros((4, 1)), y)

    batch = next(GeneratorData(Labelled(), None, class_weight={1: 3.0, 2: 0.5}).epoch())
    np.testing.assert_array_equal(batch.sample_weight, [1.0, 3.0, 0.5, 3.0])
    with pytest.raises(ValueError, match="class_weight"):
        next(GeneratorData(Labelled(weighted=True), None, class_weight={1: 3.0}).epoch())


def test_ctrl_c_while_waiting_for_a_batch_stops_the_workers() -> None:
    import os
    import signal

    dataset = Numbers(count=20, workers=2, max_queue_size=2, delay=0.3)
    before = threading.active_count()
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        list(GeneratorData(dataset, None).epoch())
    timer.join()
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.01)
    assert threading.active_count() <= before
    assert len(dataset.served) < 20
