"""A custom layer: weights made in build(), the math in call(), trained inside a Sequential model."""

import numpy as np

from lamina import ops
from lamina.layers import Dense, Layer
from lamina.models import Sequential


class Linear(Layer):
    """y = x w + b, written by hand."""

    def __init__(self, units: int = 32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True,
                                 name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True, name="b")

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def main(epochs: int = 30) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]]) + 0.5).astype("float32")

    model = Sequential([Linear(8, input_shape=(4,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return {"history": history.history, "loss": model.evaluate(x, y, verbose=0)}


if __name__ == "__main__":
    print(main())
