"""The MNIST-style MLP with integer labels: Dense(256) on flattened 28x28 images, sparse cross-entropy."""

import numpy as np

from lamina.layers import Dense, Dropout
from lamina.models import Sequential


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """784-pixel 'images' whose label is set by which block of pixels is brightest."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, samples)
    x = rng.random((samples, 784)).astype("float32") * 0.5
    for label in range(10):
        x[y == label, label * 78:(label + 1) * 78] += 0.5
    return x, y


def main(epochs: int = 5) -> dict:
    x_train, y_train = make_data(2000)
    x_test, y_test = make_data(500, seed=1)

    model = Sequential()
    model.add(Dense(256, activation="relu", input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=128)
    test_loss, test_accuracy = model.evaluate(x_test, y_test)
    return {"history": history.history, "loss": test_loss, "accuracy": test_accuracy}


if __name__ == "__main__":
    print(main())
