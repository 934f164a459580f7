"""Keras 2's backend functions (`from keras import backend as K`) as custom losses and metrics use them."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend as K
from lamina import layers, optimizers
from lamina.models import Sequential

X = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.0]], dtype="float32")


def numpy_of(x):
    return np.asarray(K.get_value(x))


def test_keras_2_defaults_that_differ_from_ops(training_backend):
    np.testing.assert_array_equal(numpy_of(K.argmax(X)), [0, 1])  # the last axis, not the flattened array
    assert K.int_shape(K.concatenate([X, X])) == (2, 6)  # joined along the last axis
    assert K.int_shape(K.repeat(X, 4)) == (2, 4, 3) and K.int_shape(K.expand_dims(X)) == (2, 3, 1)
    np.testing.assert_allclose(numpy_of(K.cumsum(X)), np.cumsum(X, axis=0))
    np.testing.assert_allclose(numpy_of(K.l2_normalize(X, axis=1)),
                               X / np.linalg.norm(X, axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(numpy_of(K.relu(X, alpha=0.1, max_value=3.5)), np.clip(np.where(X > 0, X, 0.1 * X),
                                                                                       None, 3.5))
    np.testing.assert_array_equal(numpy_of(K.in_top_k(X, np.array([0, 2]), 1)), [True, False])
    assert K.int_shape(K.batch_flatten(np.ones((2, 3, 4), "float32"))) == (2, 12) and K.ndim(X) == 2
    assert K.dtype(K.variable([1, 2])) == "float32" and K.count_params(X) == 6


def test_a_keras_2_f1_metric_and_loss_train_and_get_set_value_move_the_learning_rate(training_backend):
    def f1(y_true, y_pred):
        true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
        predicted = K.sum(K.round(K.clip(y_pred, 0, 1)))
        actual = K.sum(K.round(K.clip(y_true, 0, 1)))
        precision, recall = true_positives / (predicted + K.epsilon()), true_positives / (actual + K.epsilon())
        return 2 * precision * recall / (precision + recall + K.epsilon())

    def mean_squared(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = Sequential([layers.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizers.SGD(0.5), mean_squared, metrics=[f1])
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0] and 0.0 <= history["f1"][-1] <= 1.0
    assert K.get_value(model.optimizer.learning_rate) == pytest.approx(0.5)
    K.set_value(model.optimizer.learning_rate, 0.01)
    assert K.get_value(model.optimizer.lr) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="set_value needs a variable"):
        K.set_value(X, 1.0)
