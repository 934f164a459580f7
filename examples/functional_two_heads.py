"""The functional API: two inputs, a layer shared by both branches, two named outputs with their own losses."""

import numpy as np

from lamina.layers import Concatenate, Dense, Input
from lamina.models import Model


def make_data(samples: int = 512, seed: int = 0) -> tuple[list, dict]:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(samples, 6)).astype("float32")
    b = rng.normal(size=(samples, 6)).astype("float32")
    score = (a.sum(axis=1) - b.sum(axis=1))[:, None].astype("float32")
    label = (a[:, 0] > b[:, 0]).astype("int64")
    return [a, b], {"score": score, "label": label}


def main(epochs: int = 20) -> dict:
    inputs, targets = make_data()
    left = Input(shape=(6,), name="left")
    right = Input(shape=(6,), name="right")
    shared = Dense(16, activation="relu", name="shared")
    merged = Concatenate()([shared(left), shared(right)])
    hidden = Dense(16, activation="relu")(merged)
    score = Dense(1, name="score")(hidden)
    label = Dense(2, activation="softmax", name="label")(hidden)
    model = Model(inputs=[left, right], outputs=[score, label])
    model.compile(optimizer="adam", loss={"score": "mse", "label": "sparse_categorical_crossentropy"},
                  loss_weights={"score": 0.5, "label": 1.0}, metrics={"label": ["accuracy"]})
    history = model.fit(inputs, targets, epochs=epochs, batch_size=32, verbose=0)
    return {"history": history.history, "evaluate": model.evaluate(inputs, targets, verbose=0, return_dict=True)}


if __name__ == "__main__":
    print(main())
