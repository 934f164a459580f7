"""split_dataset: the first left_size elements and the last right_size ones, as Keras splits."""

from __future__ import annotations

import numpy as np
import pytest

from lamina.utils import PyDataset, split_dataset

X, Y = np.arange(20).reshape(10, 2), np.arange(10)


def test_arrays_split_by_sample_in_their_structure() -> None:
    (x_left, y_left), (x_right, y_right) = split_dataset((X, Y), left_size=0.8)
    np.testing.assert_array_equal(y_left, np.arange(8))
    np.testing.assert_array_equal(x_right, X[8:])
    left, right = split_dataset({"a": X, "b": Y}, right_size=3)
    assert left["b"].tolist() == list(range(7)) and right["b"].tolist() == [7, 8, 9]
    left, right = split_dataset(Y, left_size=2, right_size=3)  # the middle is dropped
    assert left.tolist() == [0, 1] and right.tolist() == [7, 8, 9]


def test_shuffle_is_seeded_and_keeps_pairs_together() -> None:
    (x1, y1), (_, r1) = split_dataset((X, Y), left_size=0.5, shuffle=True, seed=1)
    (x2, y2), _ = split_dataset((X, Y), left_size=0.5, shuffle=True, seed=1)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(x1[:, 0], 2 * y1)
    assert sorted(np.concatenate([y1, r1])) == list(range(10))


def test_datasets_of_batches_split_by_batch() -> None:
    class Batches(PyDataset):
        def __len__(self) -> int:
            return 5

        def __getitem__(self, index: int):
            return X[2 * index:2 * index + 2], Y[2 * index:2 * index + 2]

    left, right = split_dataset(Batches(), left_size=3)
    assert isinstance(left, PyDataset) and (len(left), len(right)) == (3, 2)
    assert right[0][1].tolist() == [6, 7]
    left, right = split_dataset(iter([(X[:2], Y[:2]), (X[2:4], Y[2:4])]), left_size=0.5)
    assert left[0][1].tolist() == [0, 1] and right[0][1].tolist() == [2, 3]


@pytest.mark.parametrize("left, right, match", [(None, None, "left_size or right_size"), (1.5, None, "left_size"),
                                                (10, None, "left_size"), (0.6, 0.6, "more than"),
                                                ("half", None, "left_size")])
def test_bad_sizes_are_named(left, right, match) -> None:
    with pytest.raises((ValueError, TypeError), match=match):
        split_dataset(Y, left_size=left, right_size=right)
