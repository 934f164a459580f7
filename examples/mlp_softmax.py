"""The Keras "getting started" MLP: Dense(64, relu) on 100 features, softmax over 10 classes, Adam."""

import numpy as np

from lamina.layers import Dense
from lamina.models import Sequential
from lamina.utils import to_categorical


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random features whose class is the argmax of a fixed linear map: learnable, not trivial."""
    rng = np.random.default_rng(seed)
    x = rng.random((samples, 100)).astype("float32")
    w = np.random.default_rng(42).normal(size=(100, 10))
    return x, to_categorical((x @ w).argmax(axis=1), num_classes=10)


def main(epochs: int = 10) -> dict:
    x_train, y_train = make_data(1000)
    x_test, y_test = make_data(200, seed=1)
    x_new = x_test[:5]

    model = Sequential()
    model.add(Dense(units=64, activation="relu", input_dim=100))
    model.add(Dense(units=10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32)
    loss, accuracy = model.evaluate(x_test, y_test)
    predictions = model.predict(x_new)
    return {"history": history.history, "loss": loss, "accuracy": accuracy, "predictions": predictions}


if __name__ == "__main__":
    print(main())
