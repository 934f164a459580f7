"""Bidirectional (merge modes, states, backward_layer, masks), TimeDistributed and the Wrapper base."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import GRU, LSTM, Bidirectional, Dense, Embedding, Input, SimpleRNN, TimeDistributed, Wrapper
from rnn_reference import lstm_cell, relu, run_reference, simple_rnn_cell, zeros

SHAPE = (2, 4, 3)


def bidirectional_lstm_reference(x: np.ndarray, w: list, mask: np.ndarray | None = None) -> tuple:
    """(forward outputs, backward outputs in time order, forward states, backward states), zeros where masked."""
    forward, forward_states = run_reference(lstm_cell(w[:3]), x, zeros(len(x), 3, 2), mask=mask,
                                            zero_output_for_mask=True)
    backward, backward_states = run_reference(lstm_cell(w[3:]), x, zeros(len(x), 3, 2), go_backwards=True,
                                              mask=mask, zero_output_for_mask=True)
    return forward, backward[:, ::-1], forward_states, backward_states


def test_bidirectional_concat_sequences() -> None:
    def reference(x: np.ndarray, w: list) -> np.ndarray:
        forward, backward, _, _ = bidirectional_lstm_reference(x, w)
        return np.concatenate([forward, backward], axis=-1)

    check_layer(lambda: Bidirectional(LSTM(3, return_sequences=True)), SHAPE, reference,
                expected_output_shape=(2, 4, 6))


def test_bidirectional_states_follow_the_outputs() -> None:
    def reference(x: np.ndarray, w: list) -> list:
        forward, backward, forward_states, backward_states = bidirectional_lstm_reference(x, w)
        return [forward[:, -1] + backward[:, 0], *forward_states, *backward_states]

    check_layer(lambda: Bidirectional(LSTM(3, return_state=True), merge_mode="sum"), SHAPE, reference,
                expected_output_shape=[(2, 3)] * 5)


@pytest.mark.parametrize("merge_mode", ["sum", "mul", "ave", None])
def test_merge_modes(training_backend: str, merge_mode: str | None) -> None:
    B = backend.impl
    x = B.convert_to_tensor(make_input(SHAPE))
    separate = Bidirectional(GRU(2, return_sequences=True), merge_mode=None)
    forward, backward = (B.convert_to_numpy(t) for t in separate(x))
    layer = Bidirectional(GRU(2, return_sequences=True), merge_mode=merge_mode)
    layer(x)
    layer.set_weights(separate.get_weights())
    merged = layer(x)
    expected = {"sum": forward + backward, "mul": forward * backward, "ave": (forward + backward) / 2,
                None: [forward, backward]}[merge_mode]
    pairs = zip(merged, expected) if merge_mode is None else [(merged, expected)]
    for actual, wanted in pairs:
        np.testing.assert_allclose(B.convert_to_numpy(actual), wanted, atol=1e-6)
    assert layer.compute_output_shape((None, 4, 3)) == ([(None, 4, 2)] * 2 if merge_mode is None else (None, 4, 2))


def test_initial_state_is_split_between_directions(training_backend: str) -> None:
    B = backend.impl
    x = make_input(SHAPE)
    states = list(make_input((4, 2, 3), seed=3))
    layer = Bidirectional(LSTM(3, return_sequences=True))
    outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), initial_state=[B.convert_to_tensor(s) for s in states]))
    w = layer.get_weights()
    forward = run_reference(lstm_cell(w[:3]), x, states[:2])[0]
    backward = run_reference(lstm_cell(w[3:]), x, states[2:], go_backwards=True)[0][:, ::-1]
    np.testing.assert_allclose(outputs, np.concatenate([forward, backward], axis=-1), atol=1e-5)


def test_backward_layer_of_its_own(training_backend: str) -> None:
    B = backend.impl
    x = make_input(SHAPE)
    backward = SimpleRNN(2, activation="relu", go_backwards=True, return_sequences=True)
    layer = Bidirectional(SimpleRNN(2, return_sequences=True), backward_layer=backward, merge_mode="concat")
    outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x)))
    w = layer.get_weights()
    expected_backward = run_reference(simple_rnn_cell(w[3:], relu), x, zeros(2, 2), go_backwards=True)[0][:, ::-1]
    np.testing.assert_allclose(outputs[..., 2:], expected_backward, atol=1e-5)
    assert layer.backward_layer is backward and layer.forward_layer.name.startswith("forward_")
    clone = Bidirectional.from_config(layer.get_config())
    assert clone.backward_layer.get_config()["activation"] == "relu"
    with pytest.raises(ValueError, match="different go_backwards"):
        Bidirectional(SimpleRNN(2), backward_layer=SimpleRNN(2))
    with pytest.raises(ValueError, match="return_sequences"):
        Bidirectional(SimpleRNN(2), backward_layer=SimpleRNN(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match="merge_mode"):
        Bidirectional(SimpleRNN(2), merge_mode="max")


def test_masked_bidirectional_outputs_zeros_at_masked_steps(training_backend: str) -> None:
    B = backend.impl
    x = make_input(SHAPE)
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    layer = Bidirectional(LSTM(3, return_sequences=True))
    outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), mask=B.convert_to_tensor(mask)))
    forward, backward, _, _ = bidirectional_lstm_reference(x, layer.get_weights(), mask)
    np.testing.assert_allclose(outputs, np.concatenate([forward, backward], axis=-1), atol=1e-5)
    assert np.all(outputs[~mask] == 0.0)
    tokens = Input((4,), dtype="int32")
    symbolic = layer(Embedding(5, 3, mask_zero=True)(tokens))
    assert symbolic._keras_mask is not None  # the mask goes on with the sequences
    last = Bidirectional(LSTM(3))(Embedding(5, 3, mask_zero=True)(tokens))
    assert getattr(last, "_keras_mask", None) is None


def test_time_distributed_dense() -> None:
    check_layer(lambda: TimeDistributed(Dense(2)), SHAPE, lambda x, w: x @ w[0] + w[1], expected_output_shape=(2, 4, 2))


def test_time_distributed_passes_the_mask_on_and_configs_round_trip(training_backend: str) -> None:
    tokens = Input((4,), dtype="int32")
    outputs = TimeDistributed(Dense(2))(Embedding(5, 3, mask_zero=True)(tokens))
    assert outputs._keras_mask is not None
    layer = TimeDistributed(Dense(2, activation="relu"), name="per_step")
    clone = TimeDistributed.from_config(layer.get_config())
    assert clone.name == "per_step" and clone.layer.get_config()["activation"] == "relu"
    assert isinstance(clone, Wrapper)
    with pytest.raises(ValueError, match="rank at least 3"):
        TimeDistributed(Dense(2))(backend.impl.ones((2, 3)))
    with pytest.raises(ValueError, match="layer instance"):
        TimeDistributed("dense")


def test_bidirectional_model_fits(training_backend: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=(64, 5))
    y = (x[:, -1] > 3).astype("float32")  # only the last token matters: the backward direction sees it first
    lamina.set_random_seed(0)
    model = lamina.Sequential([Embedding(6, 8), Bidirectional(GRU(6)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.03), loss="binary_crossentropy")
    losses = model.fit(x, y, epochs=4, batch_size=16, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0], losses


class Doubling:
    """A plain-object cell without a config: h = h + 2 x."""

    state_size = 3

    def call(self, inputs: object, states: list) -> tuple:
        h = states[0] + 2.0 * inputs
        return h, [h]


def test_bidirectional_copies_unregistered_cells(training_backend: str) -> None:
    B = backend.impl
    x = make_input(SHAPE)
    outputs = B.convert_to_numpy(Bidirectional(lamina.layers.RNN(Doubling(), return_sequences=True))(
        B.convert_to_tensor(x)))
    np.testing.assert_allclose(outputs[..., :3], 2 * np.cumsum(x, axis=1), atol=1e-5)
    np.testing.assert_allclose(outputs[..., 3:], 2 * np.cumsum(x[:, ::-1], axis=1)[:, ::-1], atol=1e-5)


# --- masks through check_layer ------------------------------------------------------------------------------

STEP_MASK = np.array([[True, False, True], [False, True, True]])


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_passes_the_mask_on_only_with_the_sequences(merge_mode: str) -> None:
    check_layer(lambda: Bidirectional(GRU(2, return_sequences=True), merge_mode=merge_mode), (2, 3, 2),
                input_mask=STEP_MASK, expected_mask=STEP_MASK, train=False)
    if merge_mode == "concat":
        check_layer(lambda: Bidirectional(SimpleRNN(2)), (2, 3, 2), input_mask=STEP_MASK, expected_mask=None,
                    train=False)


def test_bidirectional_without_merging_gives_each_direction_the_mask() -> None:
    with backend.use("torch") as B:
        layer = Bidirectional(SimpleRNN(2, return_sequences=True), merge_mode=None)
        x, mask = B.convert_to_tensor(make_input((2, 3, 2))), B.convert_to_tensor(STEP_MASK)
        masks = layer.compute_mask(x, mask)
        assert len(masks) == 2
        for each in masks:
            np.testing.assert_array_equal(B.convert_to_numpy(each), STEP_MASK)
        assert Bidirectional(SimpleRNN(2), merge_mode=None).compute_mask(x, mask) == [None, None]


def test_time_distributed_passes_the_input_mask_on() -> None:
    """As Keras 3: the output keeps the input's step mask (the wrapped layer's own mask is not asked for)."""
    check_layer(lambda: TimeDistributed(Dense(2)), (2, 3, 4), input_mask=STEP_MASK, expected_mask=STEP_MASK,
                train=False)
