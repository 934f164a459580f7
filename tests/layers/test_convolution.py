"""Conv1D/2D/3D through check_layer, against a NumPy convolution written with explicit window loops."""

from __future__ import annotations

import math

import numpy as np
import pytest

from check import check_layer
from lamina import backend
from lamina.layers import Conv1D, Conv2D, Conv3D


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """'same' pads so that the output has ceil(size / stride) cells; the odd cell goes at the end."""
    total = max((math.ceil(size / stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def conv_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, strides: tuple, padding: str,
                   dilation: tuple, groups: int = 1) -> np.ndarray:
    """channels_last convolution: each output cell is a dot product of one (dilated) window with the kernel."""
    rank = x.ndim - 2
    window = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]  # the dilated window's extent
    if padding == "same":
        pads = [same_padding(n, w, s) for n, w, s in zip(x.shape[1:-1], window, strides)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    elif padding == "causal":
        x = np.pad(x, [(0, 0), (window[0] - 1, 0), (0, 0)])
    out_sizes = [(n - w) // s + 1 for n, w, s in zip(x.shape[1:-1], window, strides)]
    per_group_in, filters = kernel.shape[-2], kernel.shape[-1]
    per_group_out = filters // groups
    output = np.zeros((x.shape[0], *out_sizes, filters))
    for position in np.ndindex(*out_sizes):
        cells = tuple(slice(p * s, p * s + w, d) for p, s, w, d in zip(position, strides, window, dilation))
        patch = x[(slice(None), *cells)]  # (batch, *kernel_size, in_channels)
        for g in range(groups):
            inputs = patch[..., g * per_group_in:(g + 1) * per_group_in]
            weights = kernel[..., g * per_group_out:(g + 1) * per_group_out]
            output[(slice(None), *position, slice(g * per_group_out, (g + 1) * per_group_out))] = np.tensordot(
                inputs, weights, axes=(list(range(1, rank + 2)), list(range(rank + 1))))
    return output if bias is None else output + bias


@pytest.mark.parametrize("padding,strides,dilation,steps,expected_steps", [
    ("valid", 1, 1, 9, 7), ("same", 1, 1, 9, 9), ("valid", 2, 1, 9, 4), ("same", 2, 1, 9, 5),
    ("valid", 1, 2, 9, 5), ("same", 1, 2, 9, 9), ("causal", 1, 2, 9, 9)])
def test_conv1d(padding: str, strides: int, dilation: int, steps: int, expected_steps: int) -> None:
    check_layer(lambda: Conv1D(4, 3, strides=strides, padding=padding, dilation_rate=dilation), (2, steps, 3),
                lambda x, w: conv_reference(x, w[0], w[1], (strides,), padding, (dilation,)),
                expected_output_shape=(2, expected_steps, 4))


@pytest.mark.parametrize("padding,strides,dilation,expected", [
    ("valid", 1, 1, (5, 4)), ("same", 1, 1, (7, 6)), ("valid", 2, 1, (3, 2)), ("same", 2, 1, (4, 3)),
    ("valid", 1, 2, (3, 2)), ("same", 1, 2, (7, 6))])
def test_conv2d(padding: str, strides: int, dilation: int, expected: tuple) -> None:
    check_layer(lambda: Conv2D(3, (3, 3), strides=strides, padding=padding, dilation_rate=dilation,
                               activation="relu"), (2, 7, 6, 2),
                lambda x, w: np.maximum(conv_reference(x, w[0], w[1], (strides,) * 2, padding, (dilation,) * 2), 0),
                expected_output_shape=(2, *expected, 3))


def test_conv2d_grouped_without_bias() -> None:
    check_layer(lambda: Conv2D(4, (2, 3), groups=2, use_bias=False), (2, 5, 5, 4),
                lambda x, w: conv_reference(x, w[0], None, (1, 1), "valid", (1, 1), groups=2),
                expected_output_shape=(2, 4, 3, 4))


def test_conv3d() -> None:
    check_layer(lambda: Conv3D(2, 2, strides=(1, 2, 1), padding="same"), (1, 3, 4, 3, 2),
                lambda x, w: conv_reference(x, w[0], w[1], (1, 2, 1), "same", (1, 1, 1)),
                expected_output_shape=(1, 3, 2, 3, 2))


def test_kernel_has_the_keras_layout() -> None:
    layer = Conv2D(8, (3, 5), groups=2)
    with backend.use("torch") as B:
        layer(B.zeros((1, 9, 9, 6)))
    assert [tuple(w.shape) for w in layer.weights] == [(3, 5, 3, 8), (8,)]


@pytest.mark.parametrize("arguments,message", [
    ({"padding": "full"}, "padding must be 'valid' or 'same', got 'full'"),
    ({"filters": 6, "groups": 4}, "groups"),
    ({"filters": 0}, "filters"),
    ({"kernel_size": (3,)}, "kernel_size"),
    ({"strides": 0}, "strides"),
    ({"data_format": "channels_first"}, "channels_first.*not supported"),
])
def test_bad_arguments_are_named(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Conv2D(**{"filters": 4, "kernel_size": 3, **arguments})


def test_input_channels_must_divide_by_groups() -> None:
    with backend.use("torch") as B:
        with pytest.raises(ValueError, match="divisible by groups"):
            Conv2D(4, 3, groups=2)(B.zeros((1, 5, 5, 3)))
