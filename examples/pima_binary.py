"""The "first neural network" tutorial: 8 features, Dense(10) and Dense(8), a sigmoid output, 150 epochs."""

import numpy as np

from lamina.layers import Dense
from lamina.models import Sequential


def make_data(samples: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Eight measurements; the label says whether a weighted sum of them passes a threshold."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, 8)).astype("float32")
    y = (X @ np.array([1.0, -2.0, 0.5, 1.5, 0.0, -1.0, 2.0, 0.3]) > 0).astype("float32")
    return X, y


def main(epochs: int = 150) -> dict:
    X, y = make_data()

    model = Sequential()
    model.add(Dense(10, input_dim=8, activation="relu"))
    model.add(Dense(8, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(X, y, epochs=epochs, batch_size=10, verbose=0)
    scores = model.evaluate(X, y)
    print(f"{model.metrics_names[1]}: {scores[1] * 100:.2f}%")
    return {"history": history.history, "scores": scores}


if __name__ == "__main__":
    print(main())
