"""SwapEMAWeights: evaluation runs on the optimizer's moving averages, training continues on the trained weights."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import callbacks, layers, models, optimizers

rng = np.random.default_rng(0)
X = rng.normal(size=(16, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")


def _model(use_ema: bool = True) -> models.Model:
    model = models.Sequential([layers.Input((3,)), layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=optimizers.SGD(0.1, use_ema=use_ema, ema_momentum=0.5), loss="mse")
    return model


def _mse(kernel: np.ndarray) -> float:
    return float(np.mean((X @ kernel - Y) ** 2))


def test_evaluate_and_predict_use_the_averages_then_swap_back(training_backend: str) -> None:
    model = _model()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], np.asarray(model.optimizer._averages[0]))  # fit's end
    model.train_on_batch(X[:8], Y[:8])  # one more step: the weights leave their average
    trained = model.get_weights()[0]
    average = np.asarray(model.optimizer._averages[0])
    assert not np.allclose(trained, average)
    swap = callbacks.SwapEMAWeights()
    loss = model.evaluate(X, Y, verbose=0, callbacks=[swap])
    assert loss == pytest.approx(_mse(average), rel=1e-5)
    np.testing.assert_array_equal(model.get_weights()[0], trained)
    np.testing.assert_allclose(model.predict(X, verbose=0, callbacks=[swap]), X @ average, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.get_weights()[0], trained)


def test_swap_on_epoch_leaves_the_averages_in_the_model(training_backend: str) -> None:
    model = _model()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0, callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True)])
    kernel = model.get_weights()[0]
    np.testing.assert_allclose(np.asarray(model.optimizer._averages[0]), kernel)
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)  # the weights and averages hold separate buffers again
    assert not np.allclose(model.get_weights()[0], kernel)


def test_needs_an_optimizer_with_ema() -> None:
    model = _model(use_ema=False)
    with pytest.raises(ValueError, match="use_ema=True"):
        model.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
