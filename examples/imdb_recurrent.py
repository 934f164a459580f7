"""The IMDB-style sentiment model: Embedding, then LSTM(32) (or SimpleRNN), then a sigmoid."""

import numpy as np

from lamina.layers import LSTM, Dense, Embedding, SimpleRNN
from lamina.models import Sequential


def make_data(samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sequences of 20 word ids; positive reviews contain word 1 ('good') more often than word 2 ('bad')."""
    rng = np.random.default_rng(seed)
    x = rng.integers(3, 500, (samples, 20))
    y = rng.integers(0, 2, samples)
    for i, label in enumerate(y):
        x[i, rng.choice(20, 4, replace=False)] = 1 if label else 2
    return x, y.astype("float32")


def main(recurrent: str = "lstm", epochs: int = 4) -> dict:
    x_train, y_train = make_data(512)
    x_test, y_test = make_data(128, seed=1)

    model = Sequential()
    model.add(Embedding(500, 32))
    model.add(LSTM(32) if recurrent == "lstm" else SimpleRNN(32))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=epochs, batch_size=32, validation_split=0.2)
    loss, accuracy = model.evaluate(x_test, y_test)
    return {"history": history.history, "loss": loss, "accuracy": accuracy}


if __name__ == "__main__":
    print(main())
