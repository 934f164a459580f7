"""Run with XLA_FLAGS=--xla_force_host_platform_device_count=4 (argv: output JSON path): trains a small MLP on
one device, then data-parallel and model-parallel over the four, and records what the test compares."""

from __future__ import annotations

import json
import sys

import jax
import numpy as np

import lamina
from lamina import distribution, layers
from lamina.backend import impl as B

SEEN: list = []  # (what the probe saw inside the compiled step): the per-device shape of each batch


class Probe(layers.Layer):
    """Records, when the step is compiled, how its input batch is split over the devices."""

    def call(self, x):
        jax.debug.inspect_array_sharding(x, callback=lambda s: SEEN.append(list(s.shard_shape(x.shape))))
        return x


def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 4, size=64)


def model(probe: bool = False) -> lamina.Model:
    lamina.set_random_seed(1)
    net = lamina.Sequential([lamina.Input((6,))] + ([Probe()] if probe else []) + [
        layers.Dense(16, activation="relu", name="hidden"), layers.BatchNormalization(synchronized=True),
        layers.Dense(4, activation="softmax", name="out")])
    net.compile(optimizer=lamina.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    return net


def train(net: lamina.Model) -> dict:
    x, y = data()
    history = net.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=True)
    return {"history": history.history, "weights": [w.tolist() for w in net.get_weights()],
            "predict": net.predict(x, batch_size=16, verbose=0).tolist()}


def error(fn) -> str:
    try:
        fn()
    except ValueError as e:
        return str(e)
    return ""


def many_steps() -> bool:
    """Two fits of 64 steps each of an MLP as wide as W1's: with every step left in flight, XLA's CPU
    devices deadlocked in the gradients' all-reduce (each device's part waits on a shared thread pool)."""
    rng = np.random.default_rng(5)
    x, y = rng.random((8192, 784), dtype=np.float32), rng.integers(0, 10, 8192)
    net = lamina.Sequential([lamina.Input((784,)), layers.Dense(256, activation="relu"),
                             layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")])
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    for _ in range(2):
        net.fit(x, y, batch_size=128, epochs=1, verbose=0)
    return bool(np.isfinite(net.evaluate(x, y, batch_size=1024, verbose=0)))


def main() -> None:
    out: dict = {"devices": distribution.list_devices(), "count": distribution.get_device_count()}
    out["reference"] = train(model())

    distribution.set_distribution(distribution.DataParallel())
    out["data_parallel"] = train(model(probe=True))
    out["seen"] = SEEN
    net = model()
    before = [w.copy() for w in net.get_weights()]
    x, y = data()
    out["indivisible"] = error(lambda: net.fit(x, y, batch_size=10, epochs=1, verbose=0))
    out["untouched"] = all(np.array_equal(a, b) for a, b in zip(before, net.get_weights()))
    out["many_steps"] = many_steps()

    mesh = distribution.DeviceMesh((2, 2), ("batch", "model"))
    layout_map = distribution.LayoutMap(mesh)
    layout_map["hidden.*kernel"] = (None, "model")
    layout_map["out/kernel"] = ("model", None)
    distribution.set_distribution(distribution.ModelParallel(layout_map=layout_map, batch_dim_name="batch"))
    net = model()
    out["model_parallel"] = train(net)
    out["kernel_shards"] = B.tensor_shards(net.get_layer("hidden").kernel)
    out["out_shards"] = B.tensor_shards(net.get_layer("out").kernel)
    out["bias_shards"] = B.tensor_shards(net.get_layer("hidden").bias)
    unmatched = distribution.LayoutMap(mesh)
    unmatched["conv.*kernel"] = (None, "model")
    distribution.set_distribution(distribution.ModelParallel(layout_map=unmatched))
    out["unmatched"] = error(lambda: model().fit(x, y, batch_size=16, epochs=1, verbose=0))

    distribution.set_distribution(None)
    strategy = distribution.MirroredStrategy()
    with strategy.scope():
        net = model()
    out["replicas"] = strategy.num_replicas_in_sync
    out["after_scope"] = type(distribution.distribution()).__name__
    distribution.set_distribution(None)
    lamina.utils.multi_gpu_model(net, gpus=2)
    out["multi_gpu_mesh"] = list(distribution.distribution().device_mesh.devices)
    out["too_many_gpus"] = error(lambda: lamina.utils.multi_gpu_model(model(), gpus=8))
    out["mesh_too_big"] = error(lambda: distribution.DeviceMesh((8,), ("batch",), [f"cpu:{i}" for i in range(8)]))
    out["mesh_shape"] = error(lambda: distribution.DeviceMesh((3,), ("batch",), ["cpu:0", "cpu:1"]))
    layout = distribution.TensorLayout(("batch", None), distribution.DeviceMesh((4,), ("batch",)))
    out["tensor_shards"] = B.tensor_shards(distribution.distribute_tensor(np.ones((8, 3), "float32"), layout))
    with open(sys.argv[1], "w") as file:
        json.dump(out, file)


if __name__ == "__main__":
    main()
