"""pack/unpack_x_y_sample_weight, the symbolic-tensor helpers, and Keras 2's preprocessing.sequence."""

from __future__ import annotations

import numpy as np
import pytest

from lamina.layers import Concatenate, Dense, Input
from lamina.utils import (get_source_inputs, is_keras_tensor, pack_x_y_sample_weight, standardize_dtype,
                          unpack_x_y_sample_weight)


def test_pack_and_unpack_round_trip() -> None:
    x, y, w = np.zeros(2), np.ones(2), np.full(2, 3.0)
    assert pack_x_y_sample_weight(x) is x
    assert pack_x_y_sample_weight([x, x]) == ([x, x],)
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight(x, y)) == (x, y, None)
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight(x, y, w)) == (x, y, w)
    assert unpack_x_y_sample_weight([x, y]) == (x, y, None)
    assert unpack_x_y_sample_weight((x,)) == (x, None, None)
    with pytest.raises(ValueError, match="4 elements"):
        unpack_x_y_sample_weight((x, y, w, w))


def test_symbolic_tensor_helpers() -> None:
    a, b = Input((3,), name="a"), Input((2,), name="b")
    output = Dense(1)(Concatenate()([a, Dense(3)(b)]))
    assert is_keras_tensor(output) and not is_keras_tensor(np.zeros(2))
    assert get_source_inputs(output) == [a, b]
    assert get_source_inputs(a) == [a]
    with pytest.raises(ValueError, match="symbolic tensor"):
        get_source_inputs(np.zeros(2))
    assert standardize_dtype(np.float32) == "float32" and standardize_dtype("float") == "float32"


def test_preprocessing_sequence_is_keras_2s_home_of_pad_sequences() -> None:
    from lamina.preprocessing.sequence import pad_sequences

    import lamina.preprocessing

    assert pad_sequences is lamina.utils.pad_sequences
    assert lamina.preprocessing.timeseries_dataset_from_array is lamina.utils.timeseries_dataset_from_array
    assert pad_sequences([[1], [2, 3]], padding="post").tolist() == [[1, 0], [2, 3]]
