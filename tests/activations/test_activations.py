"""Activations by name on torch and jax against NumPy, with Keras 3's defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lamina import activations, backend

BACKENDS = ["torch", "jax"]
X = np.linspace(-7.0, 7.0, 24, dtype="float32").reshape(4, 6)
ERF = np.vectorize(math.erf)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(x))


def _hard_sigmoid(x):
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


REFERENCES = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sigmoid,
    "hard_sigmoid": _hard_sigmoid,  # Keras 3: relu6(x + 3) / 6
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "hard_swish": lambda x: x * _hard_sigmoid(x),
    "tanh": np.tanh,
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + ERF(x / np.sqrt(2))),  # Keras 3 default: approximate=False
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "softplus": _softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),  # Keras 3 default negative_slope=0.2
    "exponential": np.exp,
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "glu": lambda x: x[:, :3] * _sigmoid(x[:, 3:]),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "log_sigmoid": lambda x: np.log(_sigmoid(x)),
    "soft_shrink": lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0.0),
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0.0, 1.0),
    "sparsemax": lambda x: _sparsemax(x),
    "squareplus": lambda x: (x + np.sqrt(x**2 + 4)) / 2,
    "tanh_shrink": lambda x: x - np.tanh(x),
}
# Functions with a required argument beyond x: called with these.
EXTRA_ARGUMENTS = {"threshold": (dict(threshold=0.5, default_value=-2.0), lambda x: np.where(x > 0.5, x, -2.0))}


def _sparsemax(x, axis=-1):
    """Sparsemax by its textbook definition: sort, find the support, shift and clip."""
    z = np.moveaxis(x, axis, -1)
    ordered = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cumulative = np.cumsum(ordered, axis=-1)
    support = 1 + k * ordered > cumulative
    size = support.sum(axis=-1, keepdims=True)
    tau = (np.take_along_axis(cumulative, size - 1, axis=-1) - 1) / size
    return np.moveaxis(np.maximum(z - tau, 0.0), -1, axis)


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def test_every_name_has_a_reference() -> None:
    assert set(activations.ALL) == set(REFERENCES) | set(EXTRA_ARGUMENTS)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_threshold_and_the_options_of_the_newer_activations(backend_name: str) -> None:
    x = X.astype("float64")
    with backend.use(backend_name) as B:
        t = B.convert_to_tensor(X)
        kwargs, reference = EXTRA_ARGUMENTS["threshold"]
        np.testing.assert_allclose(_np(activations.threshold(t, **kwargs)), reference(x), rtol=1e-6)
        np.testing.assert_allclose(_np(activations.celu(t, alpha=2.0)),
                                   np.where(x > 0, x, 2.0 * np.expm1(x / 2.0)), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(activations.hard_shrink(t, threshold=2.0)), np.where(np.abs(x) > 2, x, 0))
        np.testing.assert_allclose(_np(activations.soft_shrink(t, threshold=2.0)),
                                   np.sign(x) * np.maximum(np.abs(x) - 2.0, 0.0), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(_np(activations.squareplus(t, b=1.0)), (x + np.sqrt(x**2 + 1)) / 2, rtol=1e-5)
        np.testing.assert_allclose(_np(activations.glu(t, axis=0)), x[:2] * _sigmoid(x[2:]), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(activations.sparsemax(t * 0.1, axis=0)), _sparsemax(x * 0.1, axis=0),
                                   rtol=1e-5, atol=1e-6)
        with pytest.raises(ValueError, match="even"):
            activations.glu(B.convert_to_tensor(X[:, :5]))


def test_sparsemax_gives_sparse_probabilities() -> None:
    with backend.use("torch") as B:
        output = _np(activations.sparsemax(B.convert_to_tensor(np.array([[3.0, 1.0, 0.2, 2.9]], "float32"))))
    np.testing.assert_allclose(output.sum(), 1.0, rtol=1e-6)
    assert (output == 0).sum() == 2


def test_keras_aliases_and_deserialize() -> None:
    assert activations.swish is activations.silu and activations.hard_swish is activations.hard_silu
    assert activations.deserialize("relu") is activations.relu
    assert activations.deserialize(activations.serialize(activations.sparsemax)) is activations.sparsemax
    keras_layout = {"module": "keras.activations", "class_name": "function", "config": "gelu",
                    "registered_name": "function"}
    assert activations.get(keras_layout) is activations.gelu
    with pytest.raises(ValueError, match="lambda"):
        activations.deserialize({"class_name": "__lambda__", "config": {"code": "AA=="}})


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(REFERENCES))
def test_by_name_matches_numpy(backend_name: str, name: str) -> None:
    expected = REFERENCES[name](X.astype("float64"))
    with backend.use(backend_name) as B:
        output = activations.get(name)(B.convert_to_tensor(X))
        np.testing.assert_allclose(_np(output), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_options(backend_name: str) -> None:
    x = X.astype("float64")
    with backend.use(backend_name) as B:
        t = B.convert_to_tensor(X)
        np.testing.assert_allclose(_np(activations.softmax(t, axis=0)), _softmax(x, axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(activations.log_softmax(t, axis=0)), np.log(_softmax(x, axis=0)),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(_np(activations.elu(t, alpha=0.5)), np.where(x > 0, x, 0.5 * np.expm1(x)),
                                   rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(activations.leaky_relu(t, negative_slope=0.05)), np.where(x > 0, x, 0.05 * x),
                                   rtol=1e-5, atol=1e-6)
        tanh_gelu = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
        np.testing.assert_allclose(_np(activations.gelu(t, approximate=True)), tanh_gelu, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("negative_slope, max_value, threshold", [
    (0.0, 6.0, 0.0), (0.0, None, 1.5), (0.1, None, 0.0), (0.1, 4.0, -1.0), (0.3, 2.0, 1.0)])
def test_relu_options(backend_name: str, negative_slope: float, max_value: float | None, threshold: float) -> None:
    x = X.astype("float64")
    expected = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        expected = np.minimum(expected, max_value)
    expected = expected + negative_slope * np.minimum(x - threshold, 0.0)
    with backend.use(backend_name) as B:
        output = activations.relu(B.convert_to_tensor(X), negative_slope=negative_slope, max_value=max_value,
                                  threshold=threshold)
        np.testing.assert_allclose(_np(output), expected, rtol=1e-5, atol=1e-6)


def test_get_and_serialize() -> None:
    assert activations.get(None) is activations.linear
    assert activations.get("relu") is activations.relu
    custom = lambda x: x  # noqa: E731
    assert activations.get(custom) is custom
    assert activations.serialize(activations.gelu) == "gelu"
    with pytest.raises(TypeError, match="activation must be"):
        activations.get(3)


@pytest.mark.parametrize("identifier, suggestion", [("relu7", "'relu'"), ("sigmod", "'sigmoid'"),
                                                    ("softmaxx", "'softmax'")])
def test_unknown_name_suggests_the_closest(identifier: str, suggestion: str) -> None:
    with pytest.raises(ValueError, match=f"Unknown activation '{identifier}'. Did you mean {suggestion}"):
        activations.get(identifier)
