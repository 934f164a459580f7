"""Training from a plain Python generator: Keras 2's fit_generator, and fit with a generator."""

import numpy as np

from lamina.layers import Dense
from lamina.models import Sequential


def batches(batch_size: int = 32, seed: int = 0):
    """An endless stream of (x, y) batches of a noisy linear task."""
    rng = np.random.default_rng(seed)
    while True:
        x = rng.normal(size=(batch_size, 10)).astype("float32")
        y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
        yield x, y


def main(epochs: int = 10) -> dict:
    model = Sequential()
    model.add(Dense(16, activation="relu", input_dim=10))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    old_style = model.fit_generator(batches(), steps_per_epoch=20, epochs=epochs, verbose=0)
    new_style = model.fit(batches(seed=1), steps_per_epoch=20, epochs=epochs, verbose=0)
    score = model.evaluate_generator(batches(seed=2), steps=5)
    return {"fit_generator": old_style.history, "fit": new_style.history, "score": score}


if __name__ == "__main__":
    print(main())
