"""Core and reshaping layers through check_layer: Dense, Activation, Dropout, Flatten, Reshape, Embedding."""

from __future__ import annotations

import numpy as np
import pytest

from check import check_layer
from lamina import backend
from lamina.layers import Activation, Dense, Dropout, Embedding, Flatten, Reshape


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_dense_with_activation() -> None:
    check_layer(lambda: Dense(4, activation="tanh"), (3, 5), lambda x, w: np.tanh(x @ w[0] + w[1]),
                expected_output_shape=(3, 4))


def test_dense_on_sequences_without_bias() -> None:
    check_layer(lambda: Dense(2, use_bias=False), (2, 3, 5), lambda x, w: x @ w[0], expected_output_shape=(2, 3, 2))


def test_dense_rejects_bad_units() -> None:
    with pytest.raises(ValueError, match="units"):
        Dense(0)


def test_activation() -> None:
    check_layer(lambda: Activation("softmax"), (3, 5), lambda x, w: softmax(x), expected_output_shape=(3, 5))


def test_dropout_is_identity_at_inference() -> None:
    check_layer(lambda: Dropout(0.5), (4, 6), lambda x, w: x, expected_output_shape=(4, 6))


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_dropout_in_training_zeroes_a_fraction_and_rescales(name: str) -> None:
    with backend.use(name) as B:
        outputs = B.convert_to_numpy(Dropout(0.25, seed=3)(B.ones((100, 100)), training=True))
    dropped = np.mean(outputs == 0.0)
    assert 0.2 < dropped < 0.3
    np.testing.assert_allclose(outputs[outputs != 0.0], 1.0 / 0.75, rtol=1e-6)


def test_dropout_rejects_bad_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)


def test_flatten() -> None:
    check_layer(Flatten, (2, 3, 4), lambda x, w: x.reshape(2, 12), expected_output_shape=(2, 12))


def test_reshape_with_minus_one() -> None:
    check_layer(lambda: Reshape((4, -1)), (2, 3, 4), lambda x, w: x.reshape(2, 4, 3), expected_output_shape=(2, 4, 3))


def test_reshape_rejects_a_bad_target() -> None:
    with backend.use("torch") as B:
        with pytest.raises(ValueError, match="Reshape"):
            Reshape((5,))(B.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))


def test_embedding_looks_up_rows() -> None:
    check_layer(lambda: Embedding(10, 4), (3, 5), lambda x, w: w[0][x], input_dtype="int32", input_range=(0, 10),
                expected_output_shape=(3, 5, 4))


def test_dropout_noise_shape_broadcasts_the_zeros(training_backend: str) -> None:
    B = backend.impl
    layer = Dropout(0.5, noise_shape=(None, 1, 8), seed=2)
    outputs = B.convert_to_numpy(layer(B.ones((4, 6, 8)), training=True))
    zeros = outputs == 0.0
    assert np.all(zeros == zeros[:, :1, :])  # one pattern per sample and feature, shared by every step
    assert 0 < zeros.mean() < 1 and not np.all(zeros == zeros[:1])  # drawn per sample (the None axis)
    np.testing.assert_allclose(outputs[~zeros], 2.0)
    assert Dropout.from_config(layer.get_config()).noise_shape == (None, 1, 8)
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 3, 8))(B.ones((4, 6, 8)), training=True)
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(0, 1))


def test_flatten_channels_first_moves_channels_last() -> None:
    check_layer(lambda: Flatten(data_format="channels_first"), (2, 3, 4, 5),
                lambda x, w: np.transpose(x, (0, 2, 3, 1)).reshape(2, 60), expected_output_shape=(2, 60))
    with pytest.raises(ValueError, match="data_format"):
        Flatten(data_format="channels_middle")


def test_embedding_mask_zero() -> None:
    with backend.use("torch") as B:
        layer = Embedding(5, 2, mask_zero=True)
        mask = B.convert_to_numpy(layer.compute_mask(B.convert_to_tensor(np.array([[1, 0, 3]]))))
    np.testing.assert_array_equal(mask, [[True, False, True]])
    assert Embedding.from_config(layer.get_config()).mask_zero is True
