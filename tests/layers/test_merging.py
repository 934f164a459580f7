"""Merging layers: values against NumPy on every backend, symbolic shapes, errors, configs, in a trained model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lamina
from lamina import backend
from lamina.layers import (Add, Average, Concatenate, Dense, Input, Maximum, Minimum, Multiply, Subtract, add,
                           concatenate)
from lamina.models import Model

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(5)
A, B_, C = (rng.normal(size=(4, 3)).astype("float32") for _ in range(3))

# layer class -> (inputs, NumPy reference)
CASES = {
    "Add": (Add, [A, B_, C], lambda a, b, c: a + b + c),
    "Subtract": (Subtract, [A, B_], lambda a, b: a - b),
    "Multiply": (Multiply, [A, B_, C], lambda a, b, c: a * b * c),
    "Average": (Average, [A, B_, C], lambda a, b, c: (a + b + c) / 3),
    "Maximum": (Maximum, [A, B_, C], lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    "Minimum": (Minimum, [A, B_], np.minimum),
    "Concatenate": (Concatenate, [A, B_[:, :2]], lambda a, b: np.concatenate([a, b], axis=-1)),
}


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_values_match_numpy(backend_name: str, name: str) -> None:
    cls, inputs, reference = CASES[name]
    with backend.use(backend_name) as B:
        output = cls()([B.convert_to_tensor(x) for x in inputs])
        np.testing.assert_allclose(_np(output), reference(*inputs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_symbolic_shapes_keep_the_batch_unknown(name: str) -> None:
    cls, inputs, reference = CASES[name]
    symbolic = [Input(shape=x.shape[1:]) for x in inputs]
    output = cls()(symbolic)
    assert output.shape == (None, *reference(*inputs).shape[1:])


def test_same_numbers_and_gradients_in_a_trained_model() -> None:
    # Two branches merged by each layer, trained a few steps: torch and jax must agree step by step.
    def train(name: str) -> list[np.ndarray]:
        with backend.use(name):
            left, right = Input(shape=(3,)), Input(shape=(3,))
            merged = [layer([Dense(2, kernel_initializer="ones")(left), Dense(2, kernel_initializer="ones")(right)])
                      for layer in (Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(), Concatenate())]
            model = Model([left, right], Dense(1, kernel_initializer="ones")(Concatenate()(merged)))
            model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.01), loss="mse")
            model.fit([A, B_], C[:, :1], batch_size=4, epochs=2, shuffle=False, verbose=0)
            return model.get_weights()

    on_torch, on_jax = train("torch"), train("jax")
    for a, b in zip(on_torch, on_jax):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert all(np.any(w != 1.0) for w in on_torch[:4:2])  # the kernels moved: gradients flowed through the merges


def test_concatenate_along_another_axis() -> None:
    x, y = rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 5, 4)).astype("float32")
    for name in ("torch", "jax"):
        with backend.use(name) as B:
            np.testing.assert_allclose(_np(Concatenate(axis=1)([B.convert_to_tensor(x), B.convert_to_tensor(y)])),
                                       np.concatenate([x, y], axis=1), rtol=1e-6)
    assert Concatenate(axis=1)([Input(shape=(3, 4)), Input(shape=(5, 4))]).shape == (None, 8, 4)
    assert concatenate([Input(shape=(3,)), Input(shape=(2,))]).shape == (None, 5)
    assert add([Input(shape=(3,)), Input(shape=(3,))]).shape == (None, 3)


@pytest.mark.parametrize("make, inputs", [
    (Add, [Input(shape=(3,)), Input(shape=(4,))]),  # shapes differ
    (Multiply, [Input(shape=(3,))]),  # one input
    (Subtract, [Input(shape=(3,)), Input(shape=(3,)), Input(shape=(3,))]),  # three inputs
    (lambda: Concatenate(axis=-1), [Input(shape=(2, 3)), Input(shape=(4, 3))]),  # other axes differ
])
def test_bad_inputs_raise(make, inputs) -> None:
    with pytest.raises(ValueError):
        make()(inputs)


def test_a_single_tensor_is_not_a_list_of_inputs() -> None:
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(Input(shape=(3,)))


@pytest.mark.parametrize("name", list(CASES))
def test_config_round_trip(name: str) -> None:
    cls = CASES[name][0]
    layer = cls(axis=1, name=f"my_{name.lower()}") if cls is Concatenate else cls(name=f"my_{name.lower()}")
    config = json.loads(json.dumps(layer.get_config()))
    clone = cls.from_config(config)
    assert clone.get_config() == config and clone.name == layer.name
    if cls is Concatenate:
        assert clone.axis == 1


def test_default_names_are_snake_case() -> None:
    assert Concatenate().name.startswith("concatenate")
    assert Maximum().name.startswith("maximum")
