"""Keras 3 on one backend, running the workloads through the public Keras API only.

The program is written against a small `Api` record (Sequential, Input, layers,
Callback, seeding) so that lamina_runner.py runs the very same code with `lamina`
in place of `keras`. The backend is chosen by the environment variable the driver
sets before the import (KERAS_BACKEND here, LAMINA_BACKEND for Lamina).

Training time per epoch is taken by a callback: epoch 1 from its start to its end,
each later epoch from the previous epoch's end to its own end, after the epoch's
logs have been read as Python floats (and, on CUDA, torch.cuda.synchronize), so no
asynchronous work is left outside the timed region.

Run by benchmarks/run.py; alone: KERAS_BACKEND=jax python benchmarks/keras_runner.py --backend jax --quick
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import workloads as wl

LOSSES = {"W1": "sparse_categorical_crossentropy", "W2": "categorical_crossentropy", "W3": "binary_crossentropy",
          "W5": "binary_crossentropy", "W6": "categorical_crossentropy"}


@dataclass
class Api:
    """The part of a Keras-compatible library that the benchmark uses."""

    module: ModuleType
    Sequential: Callable
    Input: Callable
    Dense: Callable
    Conv2D: Callable
    MaxPooling2D: Callable
    Flatten: Callable
    Embedding: Callable
    LSTM: Callable
    Callback: type
    set_random_seed: Callable[[int], None]
    backend_name: Callable[[], str]
    layers: ModuleType  # the whole layers namespace, for the functional workloads (W5, W6)
    Model: Callable


def load_keras() -> Api:
    import keras
    from keras import layers

    return Api(keras, keras.Sequential, keras.Input, layers.Dense, layers.Conv2D, layers.MaxPooling2D,
               layers.Flatten, layers.Embedding, layers.LSTM, keras.callbacks.Callback,
               keras.utils.set_random_seed, keras.backend.backend, layers, keras.Model)


def build_model(api: Api, name: str) -> Any:
    """The workload's model, as a Keras user writes it."""
    if name in ("W1", "W4"):
        return api.Sequential([
            api.Input(shape=(wl.MLP_INPUT,)),
            api.Dense(wl.MLP_HIDDEN[0], activation="relu"),
            api.Dense(wl.MLP_HIDDEN[1], activation="relu"),
            api.Dense(wl.CLASSES, activation="softmax"),
        ])
    if name == "W2":
        return api.Sequential([
            api.Input(shape=wl.IMAGE_SHAPE),
            api.Conv2D(32, (3, 3), activation="relu"),
            api.MaxPooling2D((2, 2)),
            api.Conv2D(64, (3, 3), activation="relu"),
            api.MaxPooling2D((2, 2)),
            api.Flatten(),
            api.Dense(128, activation="relu"),
            api.Dense(wl.CLASSES, activation="softmax"),
        ])
    if name == "W5":
        return transformer_classifier(api)
    if name == "W6":
        return bn_cnn(api)
    return api.Sequential([
        api.Input(shape=(wl.SEQ_LEN,), dtype="int32"),
        api.Embedding(wl.VOCAB, wl.EMBED_DIM),
        api.LSTM(wl.LSTM_UNITS),
        api.Dense(1, activation="sigmoid"),
    ])


def transformer_classifier(api: Api) -> Any:
    """W5: one Transformer encoder block, built with the functional API."""
    layers = api.layers
    tokens = api.Input(shape=(wl.TRANSFORMER_SEQ,), dtype="int32")
    x = layers.Embedding(wl.VOCAB, wl.EMBED_DIM)(tokens)
    attended = layers.MultiHeadAttention(num_heads=wl.HEADS, key_dim=wl.KEY_DIM)(x, x)
    x = layers.LayerNormalization()(layers.Add()([x, attended]))
    x = layers.Dense(wl.FEED_FORWARD, activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    return api.Model(tokens, layers.Dense(1, activation="sigmoid")(x))


def bn_cnn(api: Api) -> Any:
    """W6: W2's network with BatchNormalization before each ReLU."""
    layers = api.layers
    return api.Sequential([
        api.Input(shape=wl.IMAGE_SHAPE),
        layers.Conv2D(32, (3, 3)), layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3)), layers.BatchNormalization(), layers.Activation("relu"), layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(wl.CLASSES, activation="softmax"),
    ])


def device_synchronizer(backend: str) -> tuple[Callable[[], None], dict[str, Any]]:
    """A function that waits for the device, and a description of the device."""
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.synchronize, {"torch": torch.__version__, "device": "cuda",
                                            "device_name": torch.cuda.get_device_name()}
        return (lambda: None), {"torch": torch.__version__, "device": "cpu", "device_name": "cpu",
                                "torch_threads": torch.get_num_threads()}
    import jax

    device = jax.devices()[0]
    # JAX has no device-wide barrier; reading the epoch's logs as floats (done first)
    # waits for the last step's results, which come out of one executable with its update.
    return (lambda: None), {"jax": jax.__version__, "device": f"{device.platform}:{device.id}",
                            "device_name": getattr(device, "device_kind", device.platform)}


def train(api: Api, name: str, args: Any, synchronize: Callable[[], None]) -> dict[str, Any]:
    """Compile and fit the workload's model, timing every epoch with a callback."""

    class EpochTimer(api.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.ends: list[float] = []
            self.logs: dict[str, float] = {}

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            if not self.ends:
                self.start = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            self.logs = {key: float(value) for key, value in (logs or {}).items()}
            synchronize()
            self.ends.append(time.perf_counter())

    api.set_random_seed(wl.SEED)
    x, y = wl.make_data(name, args.quick)
    model = build_model(api, name)
    jit = {"jit_compile": True} if args.jit_compile else {}
    optimizer = wl.keras_optimizer(api.module.optimizers, args.optimizer)
    model.compile(optimizer=optimizer, loss=LOSSES[name], metrics=["accuracy"], **jit)
    timer = EpochTimer()
    model.fit(x, y, batch_size=wl.TRAIN_SPECS[name].batch_size, epochs=args.epochs, verbose=0,
              callbacks=[timer])
    if len(timer.ends) != args.epochs:
        raise RuntimeError(f"the timing callback saw {len(timer.ends)} epoch ends, expected {args.epochs}")
    starts = [timer.start, *timer.ends[:-1]]
    epoch_seconds = [end - start for start, end in zip(starts, timer.ends)]
    return wl.train_result(epoch_seconds, len(x), loss=timer.logs.get("loss"), accuracy=timer.logs.get("accuracy"))


def predict_latency(api: Api, args: Any) -> dict[str, Any]:
    """W4: median time of model.predict(x, batch_size=len(x), verbose=0) on the W1 model."""
    api.set_random_seed(wl.SEED)
    model = build_model(api, "W4")
    calls, warmup = wl.predict_calls(args.quick)
    return {str(size): wl.time_calls(lambda: model.predict(x, batch_size=size, verbose=0), calls, warmup)
            for size, x in wl.make_predict_inputs().items()}


def run(framework: str, load: Callable[[], Api], environment_variable: str) -> None:
    """Parse the runner arguments, import the library under test and run the workloads."""
    args = wl.runner_arguments(f"{framework} runner")
    if os.environ.get(environment_variable) != args.backend:
        wl.emit_unavailable(framework, args.backend, f"{environment_variable} must be set to {args.backend!r} "
                            f"before the import (it is {os.environ.get(environment_variable)!r})")
        return
    try:
        api = load()
        active = api.backend_name()
        if active != args.backend:
            raise RuntimeError(f"{framework} is running on backend {active!r}, not {args.backend!r}")
        synchronize, environment = device_synchronizer(args.backend)
    except Exception as error:  # noqa: BLE001 - a library that cannot load is "unavailable", not a crash
        traceback.print_exc()
        wl.emit_unavailable(framework, args.backend, f"{type(error).__name__}: {error}")
        return
    environment[framework] = getattr(api.module, "__version__", "unknown")
    environment[f"{framework}_path"] = os.path.dirname(getattr(api.module, "__file__", "") or "")
    jobs = {name: (lambda name=name: train(api, name, args, synchronize)) for name in wl.TRAIN_WORKLOADS}
    jobs["W4"] = lambda: predict_latency(api, args)
    wl.run_workloads(framework, args, jobs, environment)


if __name__ == "__main__":
    run("keras", load_keras, "KERAS_BACKEND")
