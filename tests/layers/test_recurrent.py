"""SimpleRNN, LSTM and GRU through check_layer, against NumPy step-by-step references; masks, unrolling,
dropout; a masked model trains."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from rnn_reference import gru_cell, hard_sigmoid, lstm_cell, relu, run_reference, sigmoid, simple_rnn_cell, zeros
from lamina import activations, backend
from lamina.layers import GRU, LSTM, Dense, Embedding, Input, SimpleRNN


def simple_rnn_reference(x: np.ndarray, weights: list, activation: Callable = np.tanh,
                         go_backwards: bool = False) -> tuple:
    return run_reference(simple_rnn_cell(weights, activation), x, zeros(len(x), weights[1].shape[0]), go_backwards)


def lstm_reference(x: np.ndarray, weights: list, activation: Callable = np.tanh, gate: Callable = sigmoid,
                   go_backwards: bool = False, states: list | None = None) -> tuple:
    states = states or zeros(len(x), weights[1].shape[0], 2)
    return run_reference(lstm_cell(weights, activation, gate), x, states, go_backwards)


def gru_reference(x: np.ndarray, weights: list, reset_after: bool = True, go_backwards: bool = False) -> tuple:
    return run_reference(gru_cell(weights, reset_after), x, zeros(len(x), weights[1].shape[0]), go_backwards)


SHAPE = (2, 5, 3)  # (batch, time, features)


def test_simple_rnn_last_output() -> None:
    check_layer(lambda: SimpleRNN(4), SHAPE, lambda x, w: simple_rnn_reference(x, w)[1][0],
                expected_output_shape=(2, 4))


def test_simple_rnn_relu_sequences_backwards_with_state() -> None:
    def reference(x: np.ndarray, w: list) -> list:
        outputs, states = simple_rnn_reference(x, w, relu, go_backwards=True)
        return [outputs, *states]

    check_layer(lambda: SimpleRNN(4, activation="relu", return_sequences=True, return_state=True, go_backwards=True),
                SHAPE, reference, expected_output_shape=[(2, 5, 4), (2, 4)])


def test_simple_rnn_generic_path() -> None:
    check_layer(lambda: SimpleRNN(4, activation="sigmoid", return_sequences=True), SHAPE,
                lambda x, w: simple_rnn_reference(x, w, sigmoid)[0], expected_output_shape=(2, 5, 4))


def test_lstm_last_output() -> None:
    check_layer(lambda: LSTM(4), SHAPE, lambda x, w: lstm_reference(x, w)[1][0], expected_output_shape=(2, 4))


def test_lstm_sequences_state_backwards() -> None:
    def reference(x: np.ndarray, w: list) -> list:
        outputs, states = lstm_reference(x, w, go_backwards=True)
        return [outputs, *states]

    check_layer(lambda: LSTM(4, return_sequences=True, return_state=True, go_backwards=True), SHAPE, reference,
                expected_output_shape=[(2, 5, 4), (2, 4), (2, 4)])


def test_lstm_generic_path_matches_its_reference() -> None:
    check_layer(lambda: LSTM(4, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
                SHAPE, lambda x, w: lstm_reference(x, w, relu, hard_sigmoid)[0],
                expected_output_shape=(2, 5, 4), atol=2e-5)


@pytest.mark.parametrize("name", ["torch", "jax"])
@pytest.mark.parametrize("layer_class", [SimpleRNN, LSTM, GRU])
def test_fused_and_generic_paths_agree(name: str, layer_class: type) -> None:
    x = make_input(SHAPE)
    with backend.use(name) as B:
        fused = layer_class(4, return_sequences=True)
        generic = layer_class(4, return_sequences=True, activation=lambda z: activations.tanh(z))  # not fusable
        tensor = B.convert_to_tensor(x)
        fused(tensor)
        generic(tensor)
        generic.set_weights(fused.get_weights())
        np.testing.assert_allclose(B.convert_to_numpy(generic(tensor)), B.convert_to_numpy(fused(tensor)), atol=1e-6)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_lstm_initial_state(name: str) -> None:
    x = make_input(SHAPE)
    rng = np.random.default_rng(2)
    h0, c0 = rng.standard_normal((2, 2, 4)).astype(np.float32)
    with backend.use(name) as B:
        layer = LSTM(4)
        outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), initial_state=[h0, c0]))
        np.testing.assert_allclose(outputs, lstm_reference(x, layer.get_weights(), states=[h0, c0])[1][0], atol=1e-5)
        with pytest.raises(ValueError, match="initial_state must hold 2"):
            layer(B.convert_to_tensor(x), initial_state=[h0])


def test_gru_reset_after() -> None:
    check_layer(lambda: GRU(4), SHAPE, lambda x, w: gru_reference(x, w)[1][0], expected_output_shape=(2, 4))


def test_gru_reset_before_sequences_backwards() -> None:
    check_layer(lambda: GRU(4, reset_after=False, return_sequences=True, go_backwards=True), SHAPE,
                lambda x, w: gru_reference(x, w, reset_after=False, go_backwards=True)[0],
                expected_output_shape=(2, 5, 4))


def test_weight_shapes_and_forget_bias() -> None:
    with backend.use("torch") as B:
        lstm, gru = LSTM(3), GRU(3)
        lstm(B.zeros(SHAPE))
        gru(B.zeros(SHAPE))
    assert [tuple(w.shape) for w in lstm.weights] == [(3, 12), (3, 12), (12,)]
    assert [tuple(w.shape) for w in gru.weights] == [(3, 9), (3, 9), (2, 9)]
    np.testing.assert_array_equal(lstm.get_weights()[2], [0] * 3 + [1] * 3 + [0] * 6)


def test_weights_live_in_the_cell_under_keras_names() -> None:
    with backend.use("torch") as B:
        layers = [SimpleRNN(2), LSTM(2), GRU(2, reset_after=False)]
        for layer in layers:
            layer(B.zeros(SHAPE))
    assert [layer.cell.name for layer in layers] == ["simple_rnn_cell", "lstm_cell", "gru_cell"]
    for layer in layers:
        assert [w.name for w in layer.weights] == ["kernel", "recurrent_kernel", "bias"]
        assert layer.units == 2 and layer.cell.units == 2
    config = layers[1].get_config()
    assert "cell" not in config and config["units"] == 2 and config["unit_forget_bias"] is True
    assert config["zero_output_for_mask"] is False and config["recurrent_activation"] == "sigmoid"


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_dropout_only_while_training(name: str) -> None:
    x = make_input(SHAPE)
    with backend.use(name) as B:
        layer = LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
        plain = LSTM(4)
        tensor = B.convert_to_tensor(x)
        inference = B.convert_to_numpy(layer(tensor))
        plain(lamina.Input(shape=SHAPE[1:]))
        plain.set_weights(layer.get_weights())
        np.testing.assert_allclose(inference, B.convert_to_numpy(plain(tensor)), atol=1e-6)
        training = B.convert_to_numpy(layer(tensor, training=True))
    assert training.shape == (2, 4) and np.all(np.isfinite(training))
    assert not np.allclose(training, inference)


@pytest.mark.parametrize("arguments,message", [
    ({"units": 0}, "units"),
    ({"dropout": 1.5}, "dropout must be in"),
    ({"recurrent_dropout": -0.1}, "recurrent_dropout"),
    ({"use_cudnn": "yes"}, "use_cudnn"),
])
def test_bad_arguments_are_named(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LSTM(**{"units": 4, **arguments})


RECURRENT = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}


@pytest.mark.parametrize("kind", ["LSTM"])
def test_zero_padding_is_masked(training_backend: str, kind: str) -> None:
    """Embedding(mask_zero=True) -> RNN: padding before or after a sequence changes nothing."""
    B = backend.impl
    layer_class = RECURRENT[kind]
    model = lamina.Sequential([Input((None,), dtype="int32"), Embedding(10, 3, mask_zero=True), layer_class(4)])
    tokens = np.array([[5, 2, 7]])
    unpadded = B.convert_to_numpy(model(tokens))
    for padded in ([[5, 2, 7, 0, 0]], [[0, 0, 5, 2, 7]]):
        np.testing.assert_allclose(B.convert_to_numpy(model(np.array(padded))), unpadded, atol=1e-6)
    unmasked = lamina.Sequential([Input((None,), dtype="int32"), Embedding(10, 3), layer_class(4)])
    unmasked.set_weights(model.get_weights())
    assert not np.allclose(B.convert_to_numpy(unmasked(np.array([[5, 2, 7, 0, 0]]))), unpadded, atol=1e-4)


@pytest.mark.parametrize("kind", list(RECURRENT))
def test_masked_steps_carry_the_previous_output_and_states(training_backend: str, kind: str) -> None:
    B = backend.impl
    x = B.convert_to_tensor(make_input((2, 5, 3)))
    mask = B.convert_to_tensor(np.array([[True, False, True, True, False], [False, True, True, False, True]]))
    layer = RECURRENT[kind](4, return_sequences=True, return_state=True)
    sequences, *states = (B.convert_to_numpy(t) for t in layer(x, mask=mask))
    np.testing.assert_array_equal(sequences[0, 1], sequences[0, 0])  # masked step: previous output
    np.testing.assert_array_equal(sequences[0, 4], sequences[0, 3])
    np.testing.assert_array_equal(sequences[1, 0], 0.0)  # masked first step: zeros
    np.testing.assert_array_equal(sequences[1, 3], sequences[1, 2])
    np.testing.assert_allclose(states[0], sequences[:, -1], atol=1e-6)
    # the same values as running only the kept steps of each sample
    kept = B.convert_to_numpy(layer(B.convert_to_tensor(make_input((2, 5, 3))[:1, [0, 2, 3]]))[0])
    np.testing.assert_allclose(sequences[:1, -1], kept[:, -1], atol=1e-6)


@pytest.mark.parametrize("kind", ["GRU"])
def test_unroll_gives_the_same_outputs(training_backend: str, kind: str) -> None:
    B = backend.impl
    x = B.convert_to_tensor(make_input((2, 5, 3)))
    layer = RECURRENT[kind](4, return_sequences=True, go_backwards=True)
    unrolled = RECURRENT[kind](4, return_sequences=True, go_backwards=True, unroll=True)
    expected = B.convert_to_numpy(layer(x))
    unrolled(x)
    unrolled.set_weights(layer.get_weights())
    np.testing.assert_allclose(B.convert_to_numpy(unrolled(x)), expected, atol=1e-6)
    assert unrolled.get_config()["unroll"] is True
    mask = B.convert_to_tensor(np.array([[True, True, False, True, True]] * 2))
    np.testing.assert_allclose(B.convert_to_numpy(unrolled(x, mask=mask)), B.convert_to_numpy(layer(x, mask=mask)),
                               atol=1e-6)


def test_masked_sequential_model_fits(training_backend: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=(64, 6))
    lengths = rng.integers(2, 7, size=64)
    x[np.arange(6) >= lengths[:, None]] = 0  # zero-padded after each sequence's end
    y = (x[:, 0] > 3).astype("float32")
    lamina.set_random_seed(0)
    model = lamina.Sequential([Embedding(6, 8, mask_zero=True), LSTM(8, return_sequences=True), GRU(4),
                               Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy")
    losses = model.fit(x, y, epochs=4, batch_size=16, verbose=0).history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses
    after, before = np.array([[4, 2, 0, 0, 0, 0]]), np.array([[0, 0, 0, 0, 4, 2]])  # the model was built for 6 steps
    np.testing.assert_allclose(model.predict(after, verbose=0), model.predict(before, verbose=0), atol=1e-6)


def test_dropout_mask_is_drawn_once_per_sequence(training_backend: str) -> None:
    """A linear RNN without recurrence outputs (x * mask) @ kernel: the same at every step of a constant input."""
    B = backend.impl
    layer = SimpleRNN(6, activation="linear", use_bias=False, recurrent_initializer="zeros", dropout=0.5,
                      recurrent_dropout=0.5, return_sequences=True, seed=3)
    x = B.convert_to_tensor(np.ones((4, 5, 8), "float32"))
    outputs = B.convert_to_numpy(layer(x, training=True))
    np.testing.assert_allclose(outputs, np.broadcast_to(outputs[:, :1], outputs.shape), atol=1e-5)
    assert not np.allclose(outputs[0], outputs[1])  # each sample has a mask of its own
    inference = B.convert_to_numpy(layer(x))
    np.testing.assert_allclose(inference, np.broadcast_to(layer.get_weights()[0].sum(0), inference.shape), atol=1e-5)
    assert not np.allclose(outputs, inference)


# --- masks through check_layer: return_sequences passes the step mask on, the last output has none ---------

STEP_MASK = np.array([[True, False, True], [False, True, True]])


@pytest.mark.parametrize("layer_class", [SimpleRNN, LSTM, GRU])
def test_the_mask_passes_on_only_with_the_sequences(layer_class: type) -> None:
    check_layer(lambda: layer_class(2, return_sequences=True), (2, 3, 2), input_mask=STEP_MASK,
                expected_mask=STEP_MASK, train=False)
    check_layer(lambda: layer_class(2), (2, 3, 2), input_mask=STEP_MASK, expected_mask=None, train=False)


def test_the_states_returned_carry_no_mask() -> None:
    for name in ("torch", "jax"):
        with backend.use(name) as B:
            layer = lamina.layers.RNN(lamina.layers.SimpleRNNCell(2), return_sequences=True, return_state=True)
            x, mask = B.convert_to_tensor(make_input((2, 3, 2))), B.convert_to_tensor(STEP_MASK)
            masks = layer.compute_mask(x, mask)
            assert len(masks) == 2 and masks[1] is None
            np.testing.assert_array_equal(B.convert_to_numpy(masks[0]), STEP_MASK)
            assert LSTM(2, return_state=True).compute_mask(x, mask) == [None, None, None]
