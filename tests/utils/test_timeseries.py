"""timeseries_dataset_from_array: the windows and targets Keras documents, in batches fit accepts."""

from __future__ import annotations

import numpy as np
import pytest

from lamina.utils import PyDataset, timeseries_dataset_from_array


def windows(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*(dataset[i] for i in range(len(dataset))))
    return np.concatenate(xs), np.concatenate(ys)


def test_windows_start_every_stride_and_take_the_target_at_their_start() -> None:
    data = np.arange(100)
    dataset = timeseries_dataset_from_array(data, data, sequence_length=10, sequence_stride=3, sampling_rate=2,
                                            batch_size=8)
    assert isinstance(dataset, PyDataset)
    x, y = windows(dataset)
    starts = np.arange(0, 100 - 9 * 2, 3)
    np.testing.assert_array_equal(x, starts[:, None] + np.arange(0, 20, 2))
    np.testing.assert_array_equal(y, starts)
    assert len(starts) == 28 and [len(dataset[i][0]) for i in range(len(dataset))] == [8, 8, 8, 4]


def test_start_and_end_index_and_targets_none() -> None:
    data = np.arange(20).reshape(20, 1)
    dataset = timeseries_dataset_from_array(data, None, sequence_length=3, start_index=5, end_index=12,
                                            batch_size=None)
    assert len(dataset) == 12 - 5 - 2
    np.testing.assert_array_equal(dataset[0], [[5], [6], [7]])  # one window, no batch axis


def test_shuffle_is_seeded_and_keeps_every_window() -> None:
    data = np.arange(30)
    make = lambda: timeseries_dataset_from_array(data, data, 4, batch_size=5, shuffle=True, seed=3)  # noqa: E731
    (x1, y1), (x2, _) = windows(make()), windows(make())
    np.testing.assert_array_equal(x1, x2)
    assert sorted(y1) == list(range(27)) and list(y1) != list(range(27))
    np.testing.assert_array_equal(x1[:, 0], y1)


@pytest.mark.parametrize("kwargs, name", [({"sampling_rate": 0}, "sampling_rate"),
                                          ({"sequence_stride": 50}, "sequence_stride"),
                                          ({"start_index": 40}, "start_index"),
                                          ({"end_index": 0}, "end_index"), ({"format": "csv"}, "format")])
def test_bad_arguments_are_named(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        timeseries_dataset_from_array(np.arange(30), None, 4, **kwargs)
