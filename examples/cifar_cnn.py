"""The small CIFAR-style CNN: two Conv2D/MaxPooling2D stages, then Dense(128) and a softmax."""

import numpy as np

from lamina.layers import Conv2D, Dense, Flatten, MaxPooling2D
from lamina.models import Sequential
from lamina.utils import to_categorical


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """32x32 colour images; the class is which quadrant holds a bright square."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, samples)
    x = rng.random((samples, 32, 32, 3)).astype("float32") * 0.3
    for i, label in enumerate(labels):
        row, col = divmod(int(label), 2)
        x[i, row * 16 + 4:row * 16 + 12, col * 16 + 4:col * 16 + 12, :] += 0.7
    return x, to_categorical(labels, num_classes=10)


def main(epochs: int = 3) -> dict:
    x_train, y_train = make_data(256)
    x_test, y_test = make_data(64, seed=1)

    model = Sequential()
    model.add(Conv2D(32, (3, 3), activation="relu", input_shape=(32, 32, 3)))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Flatten())
    model.add(Dense(128, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_data=(x_test, y_test))
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {"history": history.history, "loss": loss, "accuracy": accuracy}


if __name__ == "__main__":
    print(main())
