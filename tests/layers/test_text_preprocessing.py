"""TextVectorization: standardize, split, ngrams, adapt, every output mode, configs and errors."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend
from lamina.layers import TextVectorization

DOCUMENTS = ["The cat sat.", "the dog sat", "A cat!"]


def _np(value):
    return np.asarray(backend.impl.convert_to_numpy(value))


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_int_mode_pads_and_truncates(name: str) -> None:
    with backend.use(name):
        layer = TextVectorization(max_tokens=6, output_sequence_length=3)
        layer.adapt(DOCUMENTS)
        assert layer.get_vocabulary() == ["", "[UNK]", "the", "sat", "cat", "dog"]
        assert layer.get_vocabulary(include_special_tokens=False) == ["the", "sat", "cat", "dog"]
        out = layer(np.array(["The cat ran away", "sat"]))
        np.testing.assert_array_equal(_np(out), [[2, 4, 1], [3, 0, 0]])
        assert backend.impl.dtype_of(out).startswith("int")
    ragged = TextVectorization(vocabulary=["a", "b"])
    np.testing.assert_array_equal(_np(ragged([["a b b a"], ["b"]])), [[2, 3, 3, 2], [3, 0, 0, 0]])


def test_standardize_and_split_options() -> None:
    vocabulary = ["hello", "world", "Hello", "world!"]
    cases = [("lower_and_strip_punctuation", "whitespace", [[2, 3]]), ("lower", "whitespace", [[2, 5]]),
             ("strip_punctuation", "whitespace", [[4, 3]]), (None, "whitespace", [[4, 5]]),
             (None, None, [[1]]), (lambda s: s.upper(), lambda s: s.split("O"), [[1, 1, 1]])]
    for standardize, split, expected in cases:
        layer = TextVectorization(standardize=standardize, split=split, vocabulary=vocabulary)
        np.testing.assert_array_equal(_np(layer(["Hello world!"])), expected, err_msg=str((standardize, split)))
    characters = TextVectorization(split="character", standardize=None, vocabulary=["x", "y"])
    np.testing.assert_array_equal(_np(characters(np.array([["xyz"], ["yy"]]))), [[2, 3, 1], [3, 3, 0]])


def test_ngrams_and_encoded_modes() -> None:
    layer = TextVectorization(output_mode="multi_hot", ngrams=2)
    layer.adapt(["a b", "b c"])
    vocabulary = layer.get_vocabulary()
    assert vocabulary[0] == "[UNK]" and set(vocabulary[1:]) == {"a", "b", "c", "a b", "b c"}
    np.testing.assert_array_equal(_np(layer(["a b c", "z"])), [[0, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]])
    count = TextVectorization(output_mode="count", vocabulary=["a", "b"], pad_to_max_tokens=True, max_tokens=5)
    np.testing.assert_array_equal(_np(count(["b b a q"])), [[1, 1, 2, 0, 0]])
    tf_idf = TextVectorization(output_mode="tf_idf")
    tf_idf.adapt(["a b", "b c"])
    assert tf_idf.get_vocabulary()[:2] == ["[UNK]", "b"]
    idf_b = np.log1p(2 / (1 + 2))
    np.testing.assert_allclose(_np(tf_idf(["b b"]))[0, 1], 2 * idf_b, rtol=1e-5)


def test_config_round_trip_and_errors() -> None:
    layer = TextVectorization(vocabulary=["x", "y"], ngrams=(1, 2), output_sequence_length=4)
    config = layer.get_config()
    assert config["vocabulary"] == ["x", "y"] and config["ngrams"] == [1, 2] and config["vocabulary_size"] == 4
    restored = TextVectorization.from_config(config)
    np.testing.assert_array_equal(_np(restored(["x y q"])), _np(layer(["x y q"])))
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="standardize"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="one string per example"):
        TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
