"""stateful=True: states kept between calls (and between fit's batches), reset_state(s), a fixed batch size."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import make_input
from lamina import backend
from lamina.layers import GRU, LSTM, Bidirectional, Dense, Input, SimpleRNN


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_two_halves_equal_the_whole_sequence(training_backend: str, layer_class: type) -> None:
    B = backend.impl
    x = make_input((2, 6, 3))
    whole = layer_class(4, return_sequences=True)
    expected = B.convert_to_numpy(whole(B.convert_to_tensor(x)))
    stateful = layer_class(4, return_sequences=True, stateful=True)
    stateful(B.convert_to_tensor(x[:, :3]))
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    first = B.convert_to_numpy(stateful(B.convert_to_tensor(x[:, :3])))
    second = B.convert_to_numpy(stateful(B.convert_to_tensor(x[:, 3:])))
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), expected, atol=1e-5)
    assert len(stateful.weights) == 3 and len(stateful.states) == (2 if layer_class is LSTM else 1)
    stateful.reset_state()
    np.testing.assert_allclose(B.convert_to_numpy(stateful(B.convert_to_tensor(x[:, :3]))), first, atol=1e-6)
    assert stateful.get_config()["stateful"] is True


def test_batch_size_is_fixed_by_the_first_call_or_the_input_shape(training_backend: str) -> None:
    B = backend.impl
    layer = SimpleRNN(2, stateful=True)
    layer(lamina.Input(shape=(3, 1)))  # a symbolic build leaves the batch size open and touches no state
    assert layer.states is None
    layer(B.ones((4, 3, 1)))
    assert tuple(B.shape(layer.states[0])) == (4, 2)
    with pytest.raises(ValueError, match="batches of 4 samples, got a batch of 2"):
        layer(B.ones((2, 3, 1)))
    declared = SimpleRNN(2, stateful=True, batch_input_shape=(5, 3, 1))
    declared(lamina.Input(shape=(3, 1)))
    assert tuple(B.shape(declared.states[0])) == (5, 2)
    np.testing.assert_array_equal(B.convert_to_numpy(declared.states[0]), 0.0)


def test_reset_states_can_set_values(training_backend: str) -> None:
    B = backend.impl
    layer = LSTM(2, stateful=True, return_state=True)
    layer(B.ones((1, 2, 3)))
    h, c = np.full((1, 2), 0.5, "float32"), np.full((1, 2), -0.5, "float32")
    layer.reset_states([h, c])
    fresh = LSTM(2, return_state=True)
    fresh(B.ones((1, 2, 3)))
    fresh.set_weights(layer.get_weights())
    expected = fresh(B.ones((1, 2, 3)), initial_state=[h, c])
    actual = layer(B.ones((1, 2, 3)))
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(B.convert_to_numpy(a), B.convert_to_numpy(e), atol=1e-6)


def test_stateful_bidirectional_resets_both_directions(training_backend: str) -> None:
    B = backend.impl
    layer = Bidirectional(GRU(2, stateful=True))
    first = B.convert_to_numpy(layer(B.ones((3, 2, 1))))
    assert len(layer.states) == 2
    assert not np.allclose(B.convert_to_numpy(layer(B.ones((3, 2, 1)))), first)
    layer.reset_states()
    np.testing.assert_allclose(B.convert_to_numpy(layer(B.ones((3, 2, 1)))), first, atol=1e-6)
    with pytest.raises(AttributeError, match="not stateful"):
        Bidirectional(GRU(2)).reset_states()


def test_fit_carries_states_between_batches(training_backend: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 4, 2)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    lamina.set_random_seed(0)
    rnn = LSTM(4, stateful=True)
    model = lamina.Sequential([Input((4, 2), batch_size=4), rnn, Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    B = backend.impl
    assert np.any(B.convert_to_numpy(rnn.states[0]) != 0.0)  # the last batch's final states were kept
    rnn.reset_states()
    assert np.all(B.convert_to_numpy(rnn.states[1]) == 0.0)


def test_a_model_resets_the_states_of_its_stateful_layers(training_backend: str) -> None:
    import lamina

    x = np.random.default_rng(2).random((2, 3, 4)).astype("float32")
    inner = lamina.Sequential([lamina.Input((3, 4), batch_size=2), lamina.layers.LSTM(3, stateful=True)])
    model = lamina.Sequential([lamina.Input((3, 4), batch_size=2), inner, lamina.layers.Dense(1)])
    first = backend.impl.convert_to_numpy(model(x))
    assert not np.allclose(backend.impl.convert_to_numpy(model(x)), first)
    model.reset_states()
    np.testing.assert_allclose(backend.impl.convert_to_numpy(model(x)), first, atol=1e-6)
