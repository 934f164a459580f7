"""One of several jax processes (argv: coordinator port, process count, this process's id, output folder):
trains a small MLP data-parallel over every process's devices and writes what it learned (process 0 only)."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

os.environ["LAMINA_BACKEND"] = "jax"

import lamina  # noqa: E402
from lamina import distribution, layers  # noqa: E402


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 4, size=64)


def model() -> lamina.Model:
    lamina.set_random_seed(1)
    net = lamina.Sequential([lamina.Input((6,)), layers.Dense(16, activation="relu"), layers.BatchNormalization(),
                             layers.Dense(4, activation="softmax")])
    net.compile(optimizer=lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


def train(net: lamina.Model, verbose: int = 0) -> dict:
    x, y = data()
    history = net.fit(x, y, batch_size=16, epochs=3, verbose=verbose, shuffle=True)
    return {"history": history.history, "evaluate": net.evaluate(x, y, batch_size=16, verbose=0),
            "predict": net.predict(x, batch_size=16, verbose=0).tolist()}


def main() -> None:
    port, count, index, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    distribution.initialize(f"127.0.0.1:{port}", count, index)
    distribution.set_distribution(distribution.DataParallel())
    net = model()
    result = train(net, verbose=2)
    result["devices"] = distribution.list_devices()
    if distribution.distribution().is_chief:
        np.savez(os.path.join(out, "weights.npz"), *net.get_weights())
        with open(os.path.join(out, "result.json"), "w") as file:
            json.dump(result, file)


if __name__ == "__main__":
    main()
