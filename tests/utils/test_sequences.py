"""pad_sequences: Keras's padding and truncating rules on ragged lists."""

from __future__ import annotations

import numpy as np
import pytest

from lamina.utils import pad_sequences

RAGGED = [[711, 632, 71], [73, 8, 3215, 55, 927], [83, 91, 1, 645, 1253, 927]]


def test_pads_before_by_default_to_the_longest() -> None:
    padded = pad_sequences(RAGGED)
    assert padded.dtype == np.int32 and padded.shape == (3, 6)
    np.testing.assert_array_equal(padded[0], [0, 0, 0, 711, 632, 71])
    np.testing.assert_array_equal(padded[2], RAGGED[2])


def test_pads_after_and_truncates_either_end() -> None:
    np.testing.assert_array_equal(pad_sequences(RAGGED, padding="post")[0], [711, 632, 71, 0, 0, 0])
    np.testing.assert_array_equal(pad_sequences(RAGGED, maxlen=4)[1], [8, 3215, 55, 927])
    np.testing.assert_array_equal(pad_sequences(RAGGED, maxlen=4, truncating="post")[1], [73, 8, 3215, 55])


def test_value_dtype_and_feature_axes() -> None:
    padded = pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32", value=-1.0)
    assert padded.shape == (2, 2, 3) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[1, 0], [-1.0, -1.0, -1.0])
    assert pad_sequences([[], [1]], maxlen=2).tolist() == [[0, 0], [0, 1]]


@pytest.mark.parametrize(("kwargs", "message"), [({"padding": "middle"}, "padding must be 'pre' or 'post'"),
                                                  ({"truncating": "x"}, "truncating must be"),
                                                  ({"value": "pad"}, "string but dtype")])
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pad_sequences(RAGGED, **kwargs)
