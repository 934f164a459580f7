"""The base Layer: activity penalties, eager input checks, input casting, refused masks, check_layer on lists."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import check_layer
from lamina import backend
from lamina.layers import LSTM, Concatenate, Conv1D, Dense, Embedding, Flatten, Input
from lamina.models import Model, Sequential


@pytest.mark.parametrize("batch", [2, 8])
def test_activity_penalty_is_that_of_the_whole_batch(training_backend: str, batch: int) -> None:
    x = np.random.default_rng(0).standard_normal((batch, 3)).astype("float32")
    B = backend.impl
    layer = Dense(4, activity_regularizer=lamina.regularizers.L2(0.1))
    outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x)))
    (penalty,) = layer.losses
    np.testing.assert_allclose(B.convert_to_numpy(penalty), 0.1 * np.sum(outputs ** 2), rtol=1e-5)


def test_activity_penalty_reaches_the_training_loss(training_backend: str) -> None:
    x = np.ones((8, 3), "float32")
    model = Sequential([Input((3,)), Dense(2, kernel_initializer="ones", activity_regularizer="l1")])
    model.compile("sgd", "mse")
    loss = model.evaluate(x, np.zeros((8, 2)), verbose=0)
    # outputs are all 3: mse 9, l1 penalty 0.01 * (8 samples * 2 units * 3), as Keras 3 adds it
    np.testing.assert_allclose(loss, 9.0 + 0.01 * 48.0, rtol=1e-5)


def test_activity_regularizer_round_trips_on_any_layer() -> None:
    layer = Flatten(activity_regularizer="l2")
    assert Flatten.from_config(layer.get_config()).activity_regularizer is not None


def test_eager_call_checks_the_input_spec(training_backend: str) -> None:
    B = backend.impl
    layer = Dense(2, name="probe")
    layer(B.ones((5, 4)))
    with pytest.raises(ValueError, match=r"probe.*last dimension 4, got 3"):
        layer(B.ones((5, 3)))
    with pytest.raises(ValueError, match=r"probe.*rank at least 2"):
        layer(B.ones((4,)))
    assert tuple(B.shape(layer(B.ones((7, 4))))) == (7, 2)  # a good shape after a bad one still works


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_and_boolean_inputs_are_cast(training_backend: str, dtype: str) -> None:
    B = backend.impl
    x = np.random.default_rng(0).integers(0, 2, size=(8, 5, 3)).astype(dtype)
    for layer in (Dense(2), LSTM(2), Conv1D(2, 3)):
        expected = B.convert_to_numpy(layer(B.convert_to_tensor(x.astype("float32"))))
        np.testing.assert_allclose(B.convert_to_numpy(layer(B.convert_to_tensor(x))), expected, rtol=1e-6)
    embedded = Embedding(4, 2)(B.convert_to_tensor(x.astype("int64")))  # Embedding keeps its integer inputs
    assert B.dtype_of(embedded) == "float32"


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_fit_and_predict_take_integer_and_boolean_inputs(training_backend: str, dtype: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, size=(16, 4, 3)).astype(dtype)
    y = rng.standard_normal((16, 1)).astype("float32")
    for model in (Sequential([Input((4, 3)), LSTM(2), Dense(1)]), Sequential([Input((4, 3)), Flatten(), Dense(1)])):
        model.compile("sgd", "mse")
        history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x.astype("float32"), verbose=0),
                                   rtol=1e-6)


def test_a_layer_without_mask_support_refuses_a_mask(training_backend: str) -> None:
    B = backend.impl
    with pytest.raises(ValueError, match="Flatten 'no_masks' does not support masking"):
        Sequential([Input((5,), dtype="int32"), Embedding(10, 2, mask_zero=True), Flatten(name="no_masks")])
    inputs = Input((5,), dtype="int32")
    with pytest.raises(ValueError, match="does not support masking"):
        Conv1D(2, 3)(Embedding(10, 2, mask_zero=True)(inputs))
    with pytest.raises(ValueError, match="does not support masking"):
        Flatten()(B.ones((2, 5, 2)), mask=B.ones((2, 5), "bool"))


def test_masks_pass_through_dense_and_merge_in_a_functional_model(training_backend: str) -> None:
    B = backend.impl
    inputs = Input((None,), dtype="int32")
    embedded = Embedding(10, 3, mask_zero=True)(inputs)
    joined = Concatenate()([Dense(2)(embedded), embedded])
    assert joined._keras_mask is not None
    outputs = LSTM(2)(joined)
    model = Model(inputs, outputs)
    padded = np.array([[4, 2, 7, 0, 0]])
    np.testing.assert_allclose(B.convert_to_numpy(model(padded)), B.convert_to_numpy(model(padded[:, :3])),
                               atol=1e-6)


def test_check_layer_takes_several_inputs() -> None:
    check_layer(lambda: Concatenate(axis=1), [(2, 3), (2, 4)], lambda x, w: np.concatenate(x, axis=1),
                expected_output_shape=(2, 7))
