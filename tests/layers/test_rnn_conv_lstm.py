"""ConvLSTM1D/2D/3D against a NumPy convolutional LSTM; channels_first; shapes with strides and padding."""

from __future__ import annotations

import numpy as np
import pytest

from check import check_layer, make_input
from lamina import backend
from lamina.layers import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from rnn_reference import run_reference, sigmoid


def conv(x: np.ndarray, kernel: np.ndarray, padding: str) -> np.ndarray:
    """Stride-1 N-d convolution, channels last: x (batch, *spatial, in), kernel (*window, in, out)."""
    window = kernel.shape[:-2]
    if padding == "same":
        x = np.pad(x, [(0, 0)] + [((k - 1) // 2, k // 2) for k in window] + [(0, 0)])
    axes = tuple(range(1, 1 + len(window)))
    patches = np.lib.stride_tricks.sliding_window_view(x, window, axis=axes)  # (batch, *out, in, *window)
    letters = "klm"[:len(window)]
    return np.einsum(f"b...i{letters},{letters}io->b...o", patches, kernel)


def conv_lstm_reference(x: np.ndarray, w: list, padding: str, filters: int) -> tuple:
    kernel, recurrent_kernel, bias = w

    def cell(x_t: np.ndarray, states: list) -> list:
        h, c = states
        z = conv(x_t, kernel, padding) + bias + conv(h, recurrent_kernel, "same")
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return [sigmoid(o) * np.tanh(c), c]

    first = conv(x[:, 0], kernel, padding)
    state = np.zeros(first.shape[:-1] + (filters,))
    return run_reference(cell, x, [state, state])


def test_conv_lstm2d_same_padding_sequences() -> None:
    check_layer(lambda: ConvLSTM2D(2, 3, padding="same", return_sequences=True), (2, 3, 4, 4, 1),
                lambda x, w: conv_lstm_reference(x, w, "same", 2)[0], expected_output_shape=(2, 3, 4, 4, 2))


def test_conv_lstm1d_valid_padding_with_states() -> None:
    def reference(x: np.ndarray, w: list) -> list:
        outputs, states = conv_lstm_reference(x, w, "valid", 3)
        return [outputs[:, -1], *states]

    check_layer(lambda: ConvLSTM1D(3, 2, return_state=True, recurrent_dropout=0.5), (2, 3, 5, 2), reference,
                expected_output_shape=[(2, 4, 3)] * 3)


def test_channels_first_is_the_transposed_channels_last(training_backend: str) -> None:
    B = backend.impl
    x = make_input((2, 3, 5, 2))  # channels last
    last = ConvLSTM1D(3, 2, strides=2, return_sequences=True, return_state=True)
    first = ConvLSTM1D(3, 2, strides=2, return_sequences=True, return_state=True, data_format="channels_first")
    expected = [B.convert_to_numpy(t) for t in last(B.convert_to_tensor(x))]
    first(B.convert_to_tensor(np.swapaxes(x, 2, 3)))
    first.set_weights(last.get_weights())
    actual = [B.convert_to_numpy(t) for t in first(B.convert_to_tensor(np.swapaxes(x, 2, 3)))]
    assert expected[0].shape == (2, 3, 2, 3)  # (5 - 2) // 2 + 1 = 2 steps of 3 filters
    np.testing.assert_allclose(actual[0], np.swapaxes(expected[0], 2, 3), atol=1e-5)
    np.testing.assert_allclose(actual[1], np.swapaxes(expected[1], 1, 2), atol=1e-5)


def test_conv_lstm3d_shapes_weights_and_config(training_backend: str) -> None:
    B = backend.impl
    layer = ConvLSTM3D(2, (1, 2, 2), padding="valid", dilation_rate=(1, 1, 2))
    outputs = layer(B.ones((1, 2, 2, 3, 4, 1)))
    assert tuple(B.shape(outputs)) == (1, 2, 2, 2, 2)
    assert [tuple(w.shape) for w in layer.weights] == [(1, 2, 2, 1, 8), (1, 2, 2, 2, 8), (8,)]
    np.testing.assert_array_equal(layer.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])  # the forget-gate bias
    config = layer.get_config()
    assert config["kernel_size"] == [1, 2, 2] and "rank" not in config and "units" not in config
    assert ConvLSTM3D.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="padding"):
        ConvLSTM2D(2, 3, padding="causal")


def test_conv_lstm_passes_the_mask_on_only_with_the_sequences() -> None:
    mask = np.array([[True, False, True], [False, True, True]])
    check_layer(lambda: ConvLSTM1D(2, 2, return_sequences=True), (2, 3, 4, 1), input_mask=mask, expected_mask=mask,
                train=False)
    check_layer(lambda: ConvLSTM1D(2, 2), (2, 3, 4, 1), input_mask=mask, expected_mask=None, train=False)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_conv_lstm_masked_steps_carry_the_previous_output(name: str) -> None:
    mask = np.array([[True, False, True], [False, True, True]])
    with backend.use(name) as B:
        layer = ConvLSTM1D(2, 2, padding="same", return_sequences=True)
        x = B.convert_to_tensor(make_input((2, 3, 4, 1)))
        outputs = B.convert_to_numpy(layer(x, mask=B.convert_to_tensor(mask)))
        np.testing.assert_array_equal(outputs[0, 1], outputs[0, 0])  # a masked step repeats the previous output
        np.testing.assert_array_equal(outputs[1, 0], 0.0)  # a masked first step: the zero initial output
        assert not np.allclose(outputs[0, 2], outputs[0, 0])
