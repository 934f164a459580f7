"""EinsumDense through check_layer: equations with and without elided axes, Keras's weight shapes, errors."""

from __future__ import annotations

import numpy as np
import pytest

from check import check_layer
from lamina.layers import EinsumDense


def test_dense_equation_with_bias_and_activation() -> None:
    check_layer(lambda: EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c", activation="relu"), (3, 5),
                lambda x, w: np.maximum(x @ w[0] + w[1], 0), expected_output_shape=(3, 4))


def test_heads_projection_has_keras_weight_shapes() -> None:
    layer = EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    layer.compute_output_shape((None, 4, 5))
    assert [tuple(w.shape) for w in layer.weights] == [(5, 2, 3), (2, 3)]
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    check_layer(lambda: EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de"), (2, 4, 5),
                lambda x, w: np.einsum("abc,cde->abde", x, w[0]) + w[1], expected_output_shape=(2, 4, 2, 3))


def test_left_elided_axes_and_partial_bias() -> None:
    # bias on "c" only spans ("c", "d") with size 1 along "d"
    layer = EinsumDense("...b,bcd->...cd", output_shape=(3, 2), bias_axes="c")
    layer.compute_output_shape((None, 6, 4))
    assert tuple(layer.weights[1].shape) == (3, 1)
    check_layer(lambda: EinsumDense("...b,bcd->...cd", output_shape=(3, 2), bias_axes="c"), (2, 6, 4),
                lambda x, w: np.einsum("...b,bcd->...cd", x, w[0]) + w[1], expected_output_shape=(2, 6, 3, 2))


def test_right_elided_axes() -> None:
    check_layer(lambda: EinsumDense("ab...,bc->ac...", output_shape=3, bias_axes="c"), (2, 4, 5),
                lambda x, w: np.einsum("ab...,bc->ac...", x, w[0]) + w[1], expected_output_shape=(2, 3, 5))


def test_config_keeps_keras_keys() -> None:
    config = EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c").get_config()
    assert config["equation"] == "ab,bc->ac" and config["output_shape"] == [4] and config["bias_axes"] == "c"


@pytest.mark.parametrize("equation, output_shape, bias_axes, match", [
    ("ab->b", 3, None, "equation"),
    ("ab,bc->ac", 3, "z", "bias_axes"),
    ("ab,bc->az", 3, None, "'z'"),
])
def test_bad_equations_are_refused(equation: str, output_shape: int, bias_axes: str | None, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes).compute_output_shape((None, 5))


def test_einsum_dense_drops_a_mask_with_a_warning() -> None:
    """As in Keras 3, EinsumDense does not support masking (Dense does)."""
    mask = np.array([[True, False, True], [False, True, True]])
    with pytest.warns(UserWarning, match="EinsumDense .* does not support masking"):
        check_layer(lambda: EinsumDense("abc,cd->abd", (3, 2)), (2, 3, 4), input_mask=mask, expected_mask=None,
                    train=False)
