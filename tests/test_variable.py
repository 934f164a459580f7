"""lamina.Variable: a state variable made outside add_weight, from a value or an initializer and a shape."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import ops


def test_variables_from_values_and_initializers(training_backend):
    value = np.arange(6, dtype="float64").reshape(2, 3)
    from_value = lamina.Variable(value, name="special")
    assert isinstance(from_value, lamina.Variable) and not isinstance(value, lamina.Variable)
    assert from_value.name == "special" and from_value.trainable
    np.testing.assert_array_equal(ops.convert_to_numpy(from_value), value)  # float64 stored as floatx
    assert ops.convert_to_numpy(from_value).dtype == np.float32
    ones = lamina.Variable("ones", shape=(2, 2), dtype="float32", trainable=False)
    assert not ones.trainable and ops.convert_to_numpy(ones).sum() == 4
    counts = lamina.Variable(np.array([1, 2]))
    assert ops.convert_to_numpy(counts).dtype.kind == "i"  # int64, or int32 where jax runs without x64
    ones.assign(ops.convert_to_numpy(ones) * 3)
    assert ops.convert_to_numpy(ones).sum() == 12


def test_bad_variables_say_what_is_missing():
    with pytest.raises(ValueError, match="needs a shape"):
        lamina.Variable("zeros")
    with pytest.raises(ValueError, match="has shape \\(2,\\), but shape=\\(3,\\)"):
        lamina.Variable([1.0, 2.0], shape=(3,))
