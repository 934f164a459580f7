"""Activation layers through check_layer (ReLU, LeakyReLU, PReLU, ELU, Softmax), plus Softmax's mask and
the arguments' checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from check import check_layer
from lamina import backend
from lamina.layers import ELU, Input, LeakyReLU, PReLU, ReLU, Softmax


def softmax(x: np.ndarray, axis=-1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("kwargs, reference", [
    ({}, lambda x: np.maximum(x, 0)),
    ({"max_value": 0.5, "negative_slope": 0.1, "threshold": -0.2},
     lambda x: np.where(x > -0.2, np.minimum(x, 0.5), 0.0) + 0.1 * np.minimum(x + 0.2, 0.0)),
])
def test_relu(kwargs, reference) -> None:
    check_layer(lambda: ReLU(**kwargs), (3, 4), lambda x, w: reference(x), expected_output_shape=(3, 4))


def test_relu_rejects_negative_arguments() -> None:
    with pytest.raises(ValueError, match="max_value"):
        ReLU(max_value=-1.0)
    with pytest.raises(ValueError, match="negative_slope"):
        ReLU(negative_slope=-0.1)


def test_leaky_relu_default_and_keras2_alpha() -> None:
    check_layer(LeakyReLU, (3, 4), lambda x, w: np.where(x > 0, x, 0.3 * x), expected_output_shape=(3, 4))
    layer = LeakyReLU(alpha=0.05)
    assert layer.negative_slope == 0.05 and layer.get_config()["negative_slope"] == 0.05
    assert "alpha" not in layer.get_config()


def test_prelu_learns_one_slope_per_unshared_entry() -> None:
    def reference(x, w):
        return np.where(x > 0, x, w[0] * x)

    def make() -> PReLU:
        return PReLU(alpha_initializer="random_uniform", shared_axes=[1])

    check_layer(make, (2, 3, 4), reference, expected_output_shape=(2, 3, 4))
    layer = make()
    layer(np.zeros((1, 3, 4), "float32"))
    assert [w.name for w in layer.weights] == ["alpha"] and tuple(layer.weights[0].shape) == (1, 4)
    assert PReLU.from_config(json.loads(json.dumps(layer.get_config()))).shared_axes == [1]
    with pytest.raises(ValueError, match="shared_axes"):
        PReLU(shared_axes=[3])(np.zeros((1, 3, 4), "float32"))


def test_prelu_starts_as_relu() -> None:
    check_layer(PReLU, (2, 5), lambda x, w: np.maximum(x, 0), expected_output_shape=(2, 5), train=False)


def test_elu() -> None:
    check_layer(lambda: ELU(alpha=0.5), (3, 4), lambda x, w: np.where(x > 0, x, 0.5 * np.expm1(x)),
                expected_output_shape=(3, 4))


@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_softmax(axis) -> None:
    numpy_axis = tuple(axis) if isinstance(axis, list) else axis
    check_layer(lambda: Softmax(axis=axis), (2, 3, 4), lambda x, w: softmax(x, numpy_axis),
                expected_output_shape=(2, 3, 4))


def test_softmax_mask_gives_masked_entries_zero_probability() -> None:
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    mask = np.array([[True, False, True, True], [False, False, False, False]])
    expected = np.zeros_like(x)
    expected[0, [0, 2, 3]] = softmax(x[0, [0, 2, 3]])  # a fully masked row gives zeros
    for name in ("torch", "jax", "numpy"):
        with backend.use(name) as B:
            output = B.convert_to_numpy(Softmax()(B.convert_to_tensor(x), mask=B.convert_to_tensor(mask)))
            np.testing.assert_allclose(output, expected, rtol=1e-5, atol=1e-6)
            float_mask = B.convert_to_tensor(mask.astype("float32"))  # > 0.5 means kept
            np.testing.assert_allclose(B.convert_to_numpy(Softmax()(B.convert_to_tensor(x), mask=float_mask)),
                                       expected, rtol=1e-5, atol=1e-6)
    with backend.use("torch") as B:
        with pytest.raises(ValueError, match="does not broadcast"):
            Softmax()(B.convert_to_tensor(x), mask=B.convert_to_tensor(np.ones((2, 3), bool)))


def test_softmax_symbolic_and_config() -> None:
    assert Softmax(axis=[1, 2])(Input(shape=(3, 4))).shape == (None, 3, 4)
    assert Softmax.from_config(Softmax(axis=[1, 2]).get_config()).axis == [1, 2]
    with pytest.raises(ValueError, match="axis"):
        Softmax(axis="last")


@pytest.mark.parametrize("make", [ReLU, ELU, LeakyReLU, PReLU], ids=["ReLU", "ELU", "LeakyReLU", "PReLU"])
def test_activation_layers_pass_the_mask_on(make) -> None:  # noqa: ANN001
    mask = np.array([[True, False, True], [False, True, True]])
    check_layer(make, (2, 3, 4), input_mask=mask, expected_mask=mask, train=False)


def test_softmax_passes_its_mask_on() -> None:
    """Softmax uses a mask of its inputs' shape (masked entries get probability 0) and passes it on."""
    mask = np.array([[True, False, True, True], [False, True, True, True]])
    check_layer(Softmax, (2, 4), input_mask=mask, expected_mask=mask, train=False)
