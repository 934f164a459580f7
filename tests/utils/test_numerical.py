"""to_categorical and normalize against NumPy formulas."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend
from lamina.utils import normalize, to_categorical


def test_to_categorical_one_hot_rows_with_the_class_axis_last() -> None:
    np.testing.assert_array_equal(to_categorical([0, 2, 1]), np.eye(3)[[0, 2, 1]])
    assert to_categorical(np.array([[1], [3]]), num_classes=5).shape == (2, 5)  # a trailing 1 is replaced
    assert to_categorical(np.array([[0, 1], [1, 0]])).shape == (2, 2, 2)
    assert to_categorical(y=[1, 0]).tolist() == [[0, 1], [1, 0]]  # Keras 2's keyword


def test_to_categorical_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="integer class labels"):
        to_categorical([0.5, 1.0])
    with pytest.raises(ValueError, match="num_classes=2"):
        to_categorical([0, 3], num_classes=2)


def test_to_categorical_keeps_tensors_as_tensors() -> None:
    with backend.use("torch") as B:
        result = to_categorical(B.convert_to_tensor(np.array([[2], [0]])), num_classes=3)
        assert B.is_tensor(result)
        np.testing.assert_array_equal(B.convert_to_numpy(result), np.eye(3)[[2, 0]])


@pytest.mark.parametrize("order, axis", [(2, -1), (1, 0), (2, 1)])
def test_normalize_divides_by_the_norm(order: int, axis: int) -> None:
    x = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -1.0, 2.0]])
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    np.testing.assert_allclose(normalize(x, axis=axis, order=order), x / np.where(norm == 0, 1, norm))
