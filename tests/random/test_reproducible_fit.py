"""lamina.utils.set_random_seed makes a whole program repeatable: weights, shuffling and dropout in fit."""

from __future__ import annotations

import numpy as np

import lamina
from lamina.layers import Dense, Dropout, GaussianNoise
from lamina.models import Sequential


def _train(seed: int) -> list[np.ndarray]:
    lamina.utils.set_random_seed(seed)
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)), Dropout(0.5), GaussianNoise(0.1), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    model.fit(x, y, epochs=2, batch_size=8, shuffle=True, verbose=0)
    return model.get_weights()


def test_the_same_seed_gives_the_same_trained_weights(training_backend: str) -> None:
    first, again, other = _train(7), _train(7), _train(8)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))
