"""The shared train step: its compiled forms, steps per call, freezing, threads and compile's arguments."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.callbacks import Callback
from lamina.layers import LSTM, Conv2D, Dense, Dropout, Embedding, Flatten, MaxPooling2D
from lamina.models import Sequential
from lamina.trainers.step_runner import step_mode


def _mlp(dropout: float = 0.0) -> Sequential:
    layers = [Dense(16, activation="relu", input_dim=12)]
    if dropout:
        layers.append(Dropout(dropout))
    return Sequential(layers + [Dense(3, activation="softmax")])


def _data(samples: int = 96) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((samples, 12)).astype("float32")
    return x, (x[:, :3].argmax(axis=1)).astype("int32")


def _trained_weights(steps_per_execution: int = 1, **compile_args) -> list[np.ndarray]:
    lamina.set_random_seed(7)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=steps_per_execution, **compile_args)
    x, y = _data(100)  # 100 = 6 full batches of 16 and a partial one of 4
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return model.get_weights()


def test_several_steps_per_call_give_the_weights_of_one_step_per_call(training_backend):
    one, four = _trained_weights(1), _trained_weights(4)
    for a, b in zip(one, four):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_run_eagerly_and_jit_compile_train_to_the_same_weights(training_backend):
    """Eager steps train as the default ones; jit_compile=False asks for the same eager steps as run_eagerly."""
    for a, b in zip(_trained_weights(), _trained_weights(run_eagerly=True)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert step_mode(False, False) == step_mode(True, "auto") == "eager"


def test_jit_compile_on_jax_is_the_default_step():
    with backend.use("jax"):
        for a, b in zip(_trained_weights(), _trained_weights(jit_compile=True)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("arguments, message", [
    ({"run_eagerly": "yes"}, "run_eagerly must be True or False"),
    ({"jit_compile": "xla"}, "jit_compile must be True, False or 'auto'"),
    ({"run_eagerly": True, "jit_compile": True}, "contradict"),
    ({"steps_per_execution": 0}, "steps_per_execution must be a positive integer"),
])
def test_compile_refuses_bad_step_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        _mlp().compile("adam", "mse", **arguments)


# --- torch.compile(fullgraph=True): the whole torch step is one graph -------------------------------

def _w1() -> Sequential:
    return Sequential([Dense(32, activation="relu", input_dim=20), Dropout(0.2), Dense(16, activation="relu"),
                       Dense(4, activation="softmax")])


def _w2() -> Sequential:
    return Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 3)), MaxPooling2D(), Flatten(),
                       Dropout(0.25), Dense(4, activation="softmax")])


def _w3() -> Sequential:
    return Sequential([Embedding(50, 8, input_length=6), LSTM(8), Dropout(0.2), Dense(1, activation="sigmoid")])


def _workload(name: str) -> tuple:
    rng = np.random.default_rng(3)
    if name == "W1":
        x = rng.standard_normal((40, 20)).astype("float32")
        return _w1, x, rng.integers(0, 4, 40), "sparse_categorical_crossentropy", {0: 1.0, 1: 2.0, 2: 0.5, 3: 1.0}
    if name == "W2":
        x = rng.standard_normal((40, 8, 8, 3)).astype("float32")
        return _w2, x, np.eye(4, dtype="float32")[rng.integers(0, 4, 40)], "categorical_crossentropy", {1: 3.0}
    x = rng.integers(1, 50, (40, 6))
    return _w3, x, rng.integers(0, 2, (40, 1)).astype("float32"), "binary_crossentropy", {0: 1.0, 1: 2.0}


@pytest.mark.parametrize("name", ["W1", "W2", "W3"])
def test_torch_step_compiles_as_one_graph(name, monkeypatch):
    """fullgraph=True raises at the first graph break: a host read, a Python branch on a value, ...
    Graph breaks are found while tracing, so a backend without code generation keeps this test fast."""
    from lamina.backend.torch import trainer as torch_trainer

    monkeypatch.setattr(torch_trainer, "COMPILE_BACKEND", "aot_eager")
    build, x, y, loss, class_weight = _workload(name)
    with backend.use("torch"):
        lamina.set_random_seed(5)
        model = build()
        model.compile("adam", loss, metrics=["accuracy"], jit_compile=True)
        # Batches of 20 (one shape, so one graph to trace per kind of step)
        history = model.fit(x, y, batch_size=20, epochs=2, class_weight=class_weight, verbose=0)
        assert model._runner.mode == "jit"
        assert model._runner._step("train").mode == "jit"
        assert np.isfinite(history.history["loss"]).all()
        assert 0.0 <= history.history["accuracy"][-1] <= 1.0
        model.evaluate(x, y, batch_size=20, verbose=0)
        assert model.predict(x, batch_size=20, verbose=0).shape[0] == 40


def test_torch_compiled_step_trains_like_the_eager_one():
    build, x, y, loss, class_weight = _workload("W1")
    results = []
    with backend.use("torch"):
        for jit_compile in (False, True):
            lamina.set_random_seed(5)
            model = Sequential([Dense(32, activation="relu", input_dim=20), Dense(4, activation="softmax")])
            model.compile("adam", loss, metrics=["accuracy"], jit_compile=jit_compile)
            history = model.fit(x, y, batch_size=8, epochs=2, class_weight=class_weight, shuffle=False, verbose=0)
            assert model._runner._step("train").mode == ("jit" if jit_compile else "eager")
            results.append((model.get_weights(), history.history))
    (eager_weights, eager_history), (jit_weights, jit_history) = results
    for a, b in zip(eager_weights, jit_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(eager_history["loss"], jit_history["loss"], rtol=1e-4)
    assert eager_history["accuracy"] == pytest.approx(jit_history["accuracy"])


# --- trainable changed after compile -----------------------------------------------------------------

def test_freezing_a_layer_after_compile_stops_its_training(training_backend):
    x, y = _data()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    first, last = model.layers[0], model.layers[-1]
    first.trainable = False
    frozen, free = first.get_weights(), last.get_weights()
    model.fit(x, y, epochs=1, verbose=0)  # no compile in between
    for before, after in zip(frozen, first.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert any(not np.allclose(before, after) for before, after in zip(free, last.get_weights()))
    first.trainable = True
    model.fit(x, y, epochs=1, verbose=0)
    assert any(not np.allclose(before, after) for before, after in zip(frozen, first.get_weights()))


def test_a_layer_frozen_before_the_first_fit_can_be_unfrozen_later(training_backend):
    x, y = _data()
    model = _mlp()
    model.layers[0].trainable = False
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    model.layers[0].trainable = True
    before = model.layers[0].get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    assert any(not np.allclose(b, a) for b, a in zip(before, model.layers[0].get_weights()))


# --- threads -------------------------------------------------------------------------------------------

class _Gate(Callback):
    """Holds the first training step until released, so that another thread can act meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def on_train_batch_begin(self, batch, logs=None):
        self.entered.set()
        self.release.wait(timeout=30)


def test_a_second_fit_of_the_same_model_from_another_thread_is_refused(training_backend):
    x, y = _data()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    gate = _Gate()
    worker = threading.Thread(target=lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=[gate]))
    worker.start()
    assert gate.entered.wait(timeout=30)
    try:
        with pytest.raises(RuntimeError, match="another thread is training"):
            model.fit(x, y, epochs=1, verbose=0)
        with pytest.raises(RuntimeError, match="another thread is training"):
            model.evaluate(x, y, verbose=0)
    finally:
        gate.release.set()
        worker.join(timeout=60)
    model.fit(x, y, epochs=1, verbose=0)  # free again once the first fit returned


class _Blocking(lamina.layers.Layer):
    """Passes its input through; its first call (a training step) waits inside the model until released."""

    def __init__(self, gate: _Gate, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gate = gate

    def call(self, inputs, training=None):
        if training and not self.gate.entered.is_set():
            self.gate.entered.set()
            self.gate.release.wait(timeout=30)
        return inputs


def test_predicting_in_one_thread_never_sees_training_in_another(training_backend):
    x, y = _data()
    gate = _Gate()
    training_model = Sequential([_Blocking(gate, input_shape=(12,)), Dense(16), Dropout(0.5), Dense(3)])
    training_model.compile("adam", "mse")
    predicting_model = _mlp(dropout=0.5)
    expected = predicting_model.predict(x, verbose=0)
    worker = threading.Thread(target=lambda: training_model.fit(x, np.zeros((len(x), 3)), epochs=1, verbose=0))
    worker.start()
    assert gate.entered.wait(timeout=30)
    try:
        # The other thread is inside a training step's forward pass right now.
        for _ in range(5):
            np.testing.assert_allclose(predicting_model.predict(x, verbose=0), expected, rtol=1e-6)
            np.testing.assert_allclose(backend.impl.convert_to_numpy(predicting_model(x)), expected, rtol=1e-5)
    finally:
        gate.release.set()
        worker.join(timeout=60)


def test_predict_carries_the_state_of_stateful_layers(training_backend):
    """A stateful RNN's state moves on from one predict call to the next, on every backend, until reset."""
    lamina.utils.set_random_seed(5)
    model = lamina.Sequential([lamina.Input(batch_shape=(2, 3, 4)),
                               lamina.layers.LSTM(5, stateful=True), lamina.layers.Dense(1)])
    x = np.random.default_rng(0).random((2, 3, 4)).astype("float32")
    first = model.predict(x, batch_size=2, verbose=0)
    second = model.predict(x, batch_size=2, verbose=0)
    assert not np.allclose(first, second)
    model.reset_states()
    np.testing.assert_allclose(model.predict(x, batch_size=2, verbose=0), first, rtol=1e-5)


class _CountsTraces(lamina.layers.Layer):
    """Counts its calls: under jit a call happens once per compiled program."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0

    def call(self, x):
        self.calls += 1
        return x


def test_jax_steps_on_arrays_of_other_lengths_are_compiled_once():
    """The jitted step is given its batch, not the whole array: a new array length compiles nothing new."""
    with backend.use("jax"):
        counter = _CountsTraces()
        model = Sequential([lamina.Input((3,)), counter, Dense(2)])
        model.compile("sgd", "mse", jit_compile=True)
        rng = np.random.default_rng(0)
        model.predict(rng.normal(size=(16, 3)), batch_size=8, verbose=0)
        traced = counter.calls
        for count in (32, 40, 64):
            assert model.predict(rng.normal(size=(count, 3)), batch_size=8, verbose=0).shape == (count, 2)
        assert counter.calls == traced
        model.fit(rng.normal(size=(24, 3)), rng.normal(size=(24, 2)), batch_size=8, verbose=0)
        traced = counter.calls
        model.fit(rng.normal(size=(48, 3)), rng.normal(size=(48, 2)), batch_size=8, verbose=0)
        assert counter.calls == traced
