"""The generic RNN layer: the built-in cells, stacked cells, user-written cells, cells called alone, masks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import RNN, GRUCell, Layer, LSTMCell, SimpleRNNCell, StackedRNNCells
from rnn_reference import gru_cell, lstm_cell, run_reference, simple_rnn_cell, zeros

SHAPE = (2, 4, 3)  # (batch, time, features)


def test_rnn_of_an_lstm_cell_returns_sequences() -> None:
    check_layer(lambda: RNN(LSTMCell(3), return_sequences=True), SHAPE,
                lambda x, w: run_reference(lstm_cell(w), x, zeros(2, 3, 2))[0], expected_output_shape=(2, 4, 3))


def test_rnn_of_a_gru_cell_reset_before_backwards() -> None:
    check_layer(lambda: RNN(GRUCell(3, reset_after=False), go_backwards=True), SHAPE,
                lambda x, w: run_reference(gru_cell(w, reset_after=False), x, zeros(2, 3), go_backwards=True)[1][0],
                expected_output_shape=(2, 3))


def stacked_reference(x: np.ndarray, w: list) -> tuple:
    """A SimpleRNNCell (3 units) feeding an LSTMCell (2 units): (last output, [h1, [h2, c2]])."""
    first, second = simple_rnn_cell(w[:3]), lstm_cell(w[3:])

    def cell(x_t: np.ndarray, states: list) -> list:  # states [h2, h1, c2]: the output first
        h1 = first(x_t, [states[1]])[0]
        h2, c2 = second(h1, [states[0], states[2]])
        return [h2, h1, c2]

    outputs, (h2, h1, c2) = run_reference(cell, x, zeros(2, 2) + zeros(2, 3) + zeros(2, 2))
    return outputs[:, -1], [h1, [h2, c2]]


def test_stacked_cells_feed_each_other_within_a_step() -> None:
    check_layer(lambda: RNN([SimpleRNNCell(3), LSTMCell(2)]), SHAPE, lambda x, w: stacked_reference(x, w)[0],
                expected_output_shape=(2, 2))


def test_stacked_cells_return_their_states_per_cell(training_backend: str) -> None:
    B = backend.impl
    x = make_input(SHAPE)
    layer = RNN(StackedRNNCells([SimpleRNNCell(3), LSTMCell(2)]), return_state=True)
    output, h1, (h2, c2) = layer(B.convert_to_tensor(x))
    expected_output, (expected_h1, (expected_h2, expected_c2)) = stacked_reference(x, layer.get_weights())
    for actual, expected in ((output, expected_output), (h1, expected_h1), (h2, expected_h2), (c2, expected_c2)):
        np.testing.assert_allclose(B.convert_to_numpy(actual), expected, atol=1e-5)


@lamina.saving.register_lamina_serializable(package="test_rnn_cells")
class MinimalCell(Layer):
    """A user-written cell: h = tanh(x @ kernel + h @ recurrent_kernel)."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape: tuple) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

    def call(self, inputs: Any, states: list) -> tuple:
        output = lamina.ops.tanh(inputs @ self.kernel + states[0] @ self.recurrent_kernel)
        return output, [output]

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units}


def test_user_written_layer_cell() -> None:
    def reference(x: np.ndarray, w: list) -> np.ndarray:
        kernel, recurrent_kernel = w
        return run_reference(lambda x_t, s: [np.tanh(x_t @ kernel + s[0] @ recurrent_kernel)], x, zeros(2, 3))[0]

    check_layer(lambda: RNN(MinimalCell(3), return_sequences=True), SHAPE, reference, expected_output_shape=(2, 4, 3))


class RunningSum:
    """A plain object as a cell: the state sums the inputs from ones, the output is twice the state."""

    state_size = 2
    output_size = 2

    def call(self, inputs: Any, states: list) -> tuple:
        total = states[0] + inputs
        return total * 2.0, [total]

    def get_initial_state(self, batch_size: int) -> list:
        return [backend.impl.ones((batch_size, 2))]


def test_plain_object_cell_with_initial_state_and_mask(training_backend: str) -> None:
    B = backend.impl
    x = np.arange(12, dtype="float32").reshape(2, 3, 2)
    layer = RNN(RunningSum(), return_sequences=True, return_state=True)
    outputs, state = (B.convert_to_numpy(t) for t in layer(B.convert_to_tensor(x)))
    np.testing.assert_allclose(outputs, 2 * (1 + np.cumsum(x, axis=1)))
    np.testing.assert_allclose(state, 1 + x.sum(axis=1))
    mask = np.array([[True, False, True], [False, True, True]])
    outputs, state = (B.convert_to_numpy(t) for t in layer(B.convert_to_tensor(x), mask=B.convert_to_tensor(mask)))
    np.testing.assert_allclose(outputs[0, 1], outputs[0, 0])  # a masked step repeats the output, not the state
    np.testing.assert_allclose(outputs[1, 0], 0.0)  # nothing before the first kept step: zeros
    np.testing.assert_allclose(state, 1 + (x * mask[..., None]).sum(axis=1))
    assert layer.compute_output_shape((None, 3, 2)) == [(None, 3, 2), (None, 2)]


def test_zero_output_for_mask_gives_zeros_at_masked_steps(training_backend: str) -> None:
    B = backend.impl
    x = make_input(SHAPE)
    mask = np.array([[True, False, True, False], [True, True, False, True]])
    layer = RNN(GRUCell(3), return_sequences=True, zero_output_for_mask=True)
    outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), mask=B.convert_to_tensor(mask)))
    expected = run_reference(gru_cell(layer.get_weights()), x, zeros(2, 3), mask=mask, zero_output_for_mask=True)[0]
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    assert np.all(outputs[~mask] == 0.0)


def test_a_cell_runs_one_step_alone(training_backend: str) -> None:
    B = backend.impl
    x_t = make_input((2, 3))
    h, c = make_input((2, 2, 2), seed=1)
    cell = LSTMCell(2)
    output, (new_h, new_c) = cell(B.convert_to_tensor(x_t), [B.convert_to_tensor(h), B.convert_to_tensor(c)])
    expected_h, expected_c = lstm_cell(cell.get_weights())(x_t, [h, c])
    np.testing.assert_allclose(B.convert_to_numpy(output), expected_h, atol=1e-5)
    np.testing.assert_allclose(B.convert_to_numpy(new_c), expected_c, atol=1e-5)
    single_state_output, single_state = SimpleRNNCell(2)(B.convert_to_tensor(x_t), B.convert_to_tensor(h))
    assert tuple(B.shape(single_state)) == (2, 2)  # a state passed alone comes back alone


def test_cell_configs_round_trip() -> None:
    stacked = StackedRNNCells([GRUCell(2, reset_after=False, dropout=0.25), LSTMCell(3, unit_forget_bias=False)])
    layer = RNN(stacked, return_sequences=True, go_backwards=True, unroll=True)
    config = layer.get_config()
    clone = RNN.from_config(config)
    assert clone.get_config() == config
    assert [type(c).__name__ for c in clone.cell.cells] == ["GRUCell", "LSTMCell"]
    assert clone.cell.cells[0].reset_after is False and clone.cell.cells[0].dropout == 0.25


def test_bad_cells_and_initial_states_are_named() -> None:
    with pytest.raises(ValueError, match="call"):
        RNN(object())
    with pytest.raises(ValueError, match="state_size"):
        RNN(type("NoState", (), {"call": lambda self, x, s: (x, s)})())
    with pytest.raises(ValueError, match="units must be a positive integer"):
        GRUCell(0)
    with backend.use("numpy") as B:
        with pytest.raises(ValueError, match="initial_state must hold 2"):
            RNN(LSTMCell(2))(B.convert_to_tensor(make_input(SHAPE)), initial_state=[np.zeros((2, 2), "float32")])


class TwoStreams(Layer):
    """A cell over two input sequences: a (batch, 2) stream and a (batch, 2, 3) one, with a state per stream
    whose shapes are given as tuples; its output is the pair of new states."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state_size = [(4,), (2, 3)]
        self.output_size = [(4,), (2, 3)]

    def build(self, input_shapes: list) -> None:
        self.kernel = self.add_weight(shape=(input_shapes[0][1], 4), name="kernel")

    def call(self, inputs: tuple, states: list) -> tuple:
        first, second = inputs
        new_states = (states[0] + first @ self.kernel, states[1] + second)
        return new_states, new_states


def test_a_cell_over_several_input_sequences(training_backend: str) -> None:
    B = backend.impl
    first, second = make_input((2, 5, 2)), make_input((2, 5, 2, 3), seed=1)
    layer = RNN(TwoStreams(), return_sequences=True)
    outputs = layer((B.convert_to_tensor(first), B.convert_to_tensor(second)))
    kernel = layer.get_weights()[0]
    np.testing.assert_allclose(B.convert_to_numpy(outputs[0]), np.cumsum(first @ kernel, axis=1), atol=1e-5)
    np.testing.assert_allclose(B.convert_to_numpy(outputs[1]), np.cumsum(second, axis=1), atol=1e-5)
    symbolic = RNN(TwoStreams())((lamina.Input((5, 2)), lamina.Input((5, 2, 3))))
    assert [tuple(t.shape) for t in symbolic] == [(None, 4), (None, 2, 3)]
