"""Convolution layers through check_layer (both data formats), against NumPy convolutions written with explicit
window loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from check import check_layer
import lamina
from lamina import backend, ops
from lamina.layers import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose, Convolution2D,
                           Convolution2DTranspose, DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
                           SeparableConvolution2D)


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
                expected_output_shape=(2, expected_steps, 4), train=padding == "causal" or strides == 2)


@pytest.mark.parametrize("padding,strides,dilation,expected", [
    ("valid", 1, 1, (5, 4)), ("same", 1, 1, (7, 6)), ("valid", 2, 1, (3, 2)), ("same", 2, 1, (4, 3)),
    ("valid", 1, 2, (3, 2)), ("same", 1, 2, (7, 6))])
def test_conv2d(padding: str, strides: int, dilation: int, expected: tuple) -> None:
    check_layer(lambda: Conv2D(3, (3, 3), strides=strides, padding=padding, dilation_rate=dilation,
                               activation="relu"), (2, 7, 6, 2),
                lambda x, w: np.maximum(conv_reference(x, w[0], w[1], (strides,) * 2, padding, (dilation,) * 2), 0),
                expected_output_shape=(2, *expected, 3), train=strides == 2)


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
    ({"data_format": "channels_middle"}, "data_format must be 'channels_last' or 'channels_first'"),
    ({"strides": 2, "dilation_rate": 2}, "strides > 1 are not supported together with dilation_rate > 1"),
])
def test_bad_arguments_are_named(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Conv2D(**{"filters": 4, "kernel_size": 3, **arguments})


def test_input_channels_must_divide_by_groups() -> None:
    with backend.use("torch") as B:
        with pytest.raises(ValueError, match="divisible by groups"):
            Conv2D(4, 3, groups=2)(B.zeros((1, 5, 5, 3)))


def first(reference):  # noqa: ANN001, ANN201
    """A channels_last reference turned into a channels_first one (the weights keep their layout)."""
    return lambda x, w: np.moveaxis(reference(np.moveaxis(x, 1, -1), w), -1, 1)


def channels_first_shape(shape: tuple) -> tuple:
    return (shape[0], shape[-1], *shape[1:-1])


def test_conv_channels_first() -> None:
    check_layer(lambda: Conv2D(4, (2, 3), strides=(2, 1), padding="same", groups=2, data_format="channels_first"),
                (2, 4, 5, 6), first(lambda x, w: conv_reference(x, w[0], w[1], (2, 1), "same", (1, 1), groups=2)),
                expected_output_shape=(2, 4, 3, 6))
    check_layer(lambda: Conv1D(3, 3, padding="causal", dilation_rate=2, data_format="channels_first"), (2, 2, 7),
                first(lambda x, w: conv_reference(x, w[0], w[1], (1,), "causal", (2,))), expected_output_shape=(2, 3, 7))
    check_layer(lambda: Conv3D(2, 2, data_format="channels_first"), (1, 2, 3, 3, 3),
                first(lambda x, w: conv_reference(x, w[0], w[1], (1, 1, 1), "valid", (1, 1, 1))),
                expected_output_shape=(1, 2, 2, 2, 2), train=False)


class StandardizedConv2D(Conv2D):
    """Keras's documented subclass: the kernel standardized before each convolution."""

    def convolution_op(self, inputs, kernel):  # noqa: ANN001, ANN201
        mean, var = ops.mean(kernel, axis=(0, 1, 2), keepdims=True), ops.var(kernel, axis=(0, 1, 2), keepdims=True)
        return ops.conv(inputs, (kernel - mean) / ops.sqrt(var + 1e-10), strides=self.strides, padding=self.padding,
                        dilation_rate=self.dilation_rate, data_format=self.data_format)


def test_overriding_convolution_op_changes_the_convolution() -> None:
    def reference(x: np.ndarray, w: list) -> np.ndarray:
        kernel = w[0]
        standardized = (kernel - kernel.mean(axis=(0, 1, 2))) / np.sqrt(kernel.var(axis=(0, 1, 2)) + 1e-10)
        return conv_reference(x, standardized, w[1], (1, 1), "same", (1, 1))

    check_layer(lambda: StandardizedConv2D(3, 3, padding="same"), (2, 5, 5, 2), reference, atol=1e-4)


def conv_transpose_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, strides: tuple, padding: str,
                             output_padding: tuple | None, dilation: tuple) -> np.ndarray:
    """channels_last: each input cell adds its kernel-weighted copy at cell * stride of the full output, which
    is then cut as the gradient of a forward convolution with that padding would see it."""
    rank = x.ndim - 2
    extents = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation)]
    full = np.zeros((x.shape[0], *[(n - 1) * s + e for n, s, e in zip(x.shape[1:-1], strides, extents)],
                     kernel.shape[-2]))
    for position in np.ndindex(*x.shape[1:-1]):
        contribution = np.einsum("bi,...oi->b...o", x[(slice(None), *position)], kernel)  # (batch, *window, out)
        cells = tuple(slice(p * s, p * s + e, d) for p, s, e, d in zip(position, strides, extents, dilation))
        full[(slice(None), *cells)] += contribution
    sizes, starts = [], []
    for n, s, e, k in zip(x.shape[1:-1], strides, extents, range(rank)):
        extra = output_padding[k] if output_padding is not None else None
        if padding == "valid":
            size = n * s + max(e - s, 0) if extra is None else (n - 1) * s + e + extra
        else:
            size = n * s if extra is None else (n - 1) * s + e - 2 * (e // 2) + extra
        sizes.append(size)
        starts.append(0 if padding == "valid" else max((n - 1) * s + e - size, 0) // 2)
    padded = np.pad(full, [(0, 0), *[(0, max(st + sz - f, 0)) for st, sz, f in
                                      zip(starts, sizes, full.shape[1:-1])], (0, 0)])
    cut = padded[(slice(None), *[slice(st, st + sz) for st, sz in zip(starts, sizes)])]
    return cut + bias


@pytest.mark.parametrize("padding,strides,output_padding,dilation,expected", [
    ("valid", 2, None, 1, (9, 6)), ("same", 2, None, 1, (8, 6)), ("valid", 2, 1, 1, (10, 7)),
    ("same", 3, 1, 1, (11, 7)), ("same", 1, None, 2, (4, 3)), ("valid", 1, None, 2, (8, 5))])
def test_conv2d_transpose(padding: str, strides: int, output_padding: int | None, dilation: int,
                          expected: tuple) -> None:
    def reference(x: np.ndarray, w: list) -> np.ndarray:
        extra = None if output_padding is None else (output_padding,) * 2
        return conv_transpose_reference(x, w[0], w[1], (strides,) * 2, padding, extra, (dilation,) * 2)

    check_layer(lambda: Conv2DTranspose(3, (3, 2), strides=strides, padding=padding, output_padding=output_padding,
                                        dilation_rate=dilation), (2, 4, 3, 2), reference,
                expected_output_shape=(2, *expected, 3), train=output_padding is not None)


def test_conv_transpose_1d_3d_and_channels_first() -> None:
    check_layer(lambda: Conv1DTranspose(2, 3, strides=2, padding="same", data_format="channels_first"), (2, 3, 4),
                first(lambda x, w: conv_transpose_reference(x, w[0], w[1], (2,), "same", None, (1,))),
                expected_output_shape=(2, 2, 8))
    check_layer(lambda: Conv3DTranspose(2, 2, strides=(1, 2, 1)), (1, 2, 2, 2, 2),
                lambda x, w: conv_transpose_reference(x, w[0], w[1], (1, 2, 1), "valid", None, (1, 1, 1)),
                expected_output_shape=(1, 3, 4, 3, 2), train=False)


def depthwise_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None, strides: tuple, padding: str,
                        dilation: tuple) -> np.ndarray:
    """Input channel c convolved with kernel[..., c, m] gives output channel c * multiplier + m."""
    channels, multiplier = kernel.shape[-2:]
    outputs = [conv_reference(x[..., c:c + 1], kernel[..., c:c + 1, :], None, strides, padding, dilation)
               for c in range(channels)]
    output = np.concatenate(outputs, axis=-1)
    return output if bias is None else output + bias


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_depthwise_conv2d(data_format: str) -> None:
    def reference(x: np.ndarray, w: list) -> np.ndarray:
        return depthwise_reference(x, w[0], w[1], (2, 1), "same", (1, 1))

    shape = (2, 5, 4, 3)
    check_layer(lambda: DepthwiseConv2D((3, 2), strides=(2, 1), padding="same", depth_multiplier=2,
                                        data_format=data_format),
                shape if data_format == "channels_last" else channels_first_shape(shape),
                reference if data_format == "channels_last" else first(reference))


def test_depthwise_conv1d() -> None:
    check_layer(lambda: DepthwiseConv1D(3, dilation_rate=2, use_bias=False), (2, 8, 3),
                lambda x, w: depthwise_reference(x, w[0], None, (1,), "valid", (2,)), expected_output_shape=(2, 4, 3))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_separable_conv2d(data_format: str) -> None:
    def reference(x: np.ndarray, w: list) -> np.ndarray:
        spread = depthwise_reference(x, w[0], None, (1, 1), "valid", (1, 1))
        return conv_reference(spread, w[1], w[2], (1, 1), "valid", (1, 1))

    shape = (2, 5, 4, 2)
    check_layer(lambda: SeparableConv2D(3, 2, depth_multiplier=2, data_format=data_format),
                shape if data_format == "channels_last" else channels_first_shape(shape),
                reference if data_format == "channels_last" else first(reference))


def test_separable_conv1d() -> None:
    check_layer(lambda: SeparableConv1D(4, 3, strides=2, padding="same"), (2, 7, 3),
                lambda x, w: conv_reference(depthwise_reference(x, w[0], None, (2,), "same", (1,)), w[1], w[2], (1,),
                                            "valid", (1,)), expected_output_shape=(2, 4, 4))


def test_weights_have_keras_names_and_layouts() -> None:
    layers = {"transpose": Conv2DTranspose(5, (3, 2)), "depthwise": DepthwiseConv2D(3, depth_multiplier=2),
              "separable": SeparableConv2D(5, 3, depth_multiplier=2), "first": Conv2D(5, 3, data_format="channels_first")}
    with backend.use("torch") as B:
        for key, layer in layers.items():
            layer(B.zeros((1, 4, 6, 6) if key == "first" else (1, 6, 6, 4)))
    shapes = {key: [(w.name.split("/")[-1], tuple(w.shape)) for w in layer.weights] for key, layer in layers.items()}
    assert shapes == {"transpose": [("kernel", (3, 2, 5, 4)), ("bias", (5,))],
                      "depthwise": [("kernel", (3, 3, 4, 2)), ("bias", (8,))],
                      "separable": [("depthwise_kernel", (3, 3, 4, 2)), ("pointwise_kernel", (1, 1, 8, 5)),
                                    ("bias", (5,))],
                      "first": [("kernel", (3, 3, 4, 5)), ("bias", (5,))]}


def test_aliases_and_config_keys() -> None:
    assert Convolution2D is Conv2D and Convolution2DTranspose is Conv2DTranspose
    assert SeparableConvolution2D is SeparableConv2D
    config = SeparableConv2D(4, 3, depthwise_regularizer="l2", pointwise_constraint="non_neg").get_config()
    assert {"filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "depth_multiplier",
            "activation", "use_bias", "depthwise_initializer", "pointwise_initializer", "bias_initializer",
            "depthwise_regularizer", "pointwise_regularizer", "bias_regularizer", "activity_regularizer",
            "depthwise_constraint", "pointwise_constraint", "bias_constraint"} <= set(config)
    assert config["depthwise_regularizer"] is not None and config["pointwise_constraint"] is not None
    transpose = Conv2DTranspose(4, 3, strides=2, output_padding=1).get_config()
    assert transpose["output_padding"] == (1, 1) and "groups" not in transpose
    assert DepthwiseConv2D(3).get_config()["depth_multiplier"] == 1


def test_kernel_regularizer_adds_a_loss() -> None:
    with backend.use("torch") as B:
        layer = Conv2D(2, 2, kernel_regularizer="l2")
        layer(B.ones((1, 3, 3, 1)))
        kernel = B.convert_to_numpy(layer.kernel.value)
        assert len(layer.losses) == 1
        np.testing.assert_allclose(float(B.convert_to_numpy(layer.losses[0])), 0.01 * np.sum(kernel ** 2), rtol=1e-5)


def test_transpose_output_padding_must_be_below_the_stride() -> None:
    with pytest.raises(ValueError, match="output_padding must be smaller than strides"):
        Conv2DTranspose(2, 3, strides=2, output_padding=2)


def test_unknown_spatial_sizes_stay_unknown_in_functional_models() -> None:
    import lamina

    for name in ("torch", "jax"):
        with backend.use(name):
            x = lamina.Input(shape=(None, None, 3))
            y = SeparableConv2D(4, 5)(Conv2DTranspose(3, 3, strides=2)(Conv2D(6, 5, strides=2)(x)))
            assert tuple(y.shape) == (None, None, None, 4)
            z = Conv1D(2, 3, data_format="channels_first")(lamina.Input(shape=(3, None)))
            assert tuple(z.shape) == (None, 2, None)


def test_data_format_none_follows_the_configured_image_data_format() -> None:
    import lamina

    assert Conv2D(2, 3).data_format == "channels_last"
    lamina.config.set_image_data_format("channels_first")
    try:
        layer = Conv2D(2, 3)
        with backend.use("numpy"):
            outputs = layer(np.zeros((1, 4, 5, 5), "float32"))
        assert layer.data_format == "channels_first" and outputs.shape == (1, 2, 3, 3)
    finally:
        lamina.config.set_image_data_format("channels_last")


def test_convolutions_drop_a_mask_with_a_warning() -> None:
    """As Keras 3: convolutions do not support masking; a mask reaching one stops there."""
    mask = np.array([[True, False, True, True], [False, True, True, True]])
    with pytest.warns(UserWarning, match="Conv1D .* does not support masking"):
        check_layer(lambda: Conv1D(2, 2), (2, 4, 3), input_mask=mask, expected_mask=None, train=False)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_bias_is_added_on_every_backend_as_numpy_adds_it(data_format):
    """The bias goes into the backends' convolution call: the same numbers as convolution then addition."""
    from lamina.layers import Conv2D

    x = np.random.default_rng(3).normal(size=(2, 5, 6, 3) if data_format == "channels_last" else (2, 3, 5, 6))
    x = x.astype("float32")
    rng = np.random.default_rng(4)
    kernel, bias = rng.normal(size=(3, 3, 3, 4)).astype("float32"), rng.normal(size=4).astype("float32")
    with backend.use("numpy"):
        without_bias = Conv2D(4, 3, padding="same", data_format=data_format, use_bias=False)
        without_bias.build(x.shape)
        without_bias.set_weights([kernel])
        expected = np.asarray(without_bias(x)) + (bias if data_format == "channels_last" else bias[:, None, None])
    for name in ("numpy", "torch", "jax"):
        with backend.use(name):
            layer = Conv2D(4, 3, padding="same", data_format=data_format)
            layer.build(x.shape)
            layer.set_weights([kernel, bias])
            result = backend.impl.convert_to_numpy(layer(x))
        np.testing.assert_allclose(result, expected, rtol=1e-4, atol=1e-4, err_msg=name)


STRIDED_POINTWISE = """
import numpy as np, lamina
from lamina import layers
inputs = lamina.Input((16, 16, 8))
outputs = layers.GlobalAveragePooling2D()(layers.Conv2D(16, 1, strides=2, padding="same")(inputs))
model = lamina.Model(inputs, layers.Dense(1)(outputs))
model.compile(optimizer="sgd", loss="mse")
rng = np.random.default_rng(0)
model.fit(rng.normal(size=(7, 16, 16, 8)), rng.normal(size=(7, 1)), batch_size=7, epochs=2, verbose=0)
print("trained")
"""


def test_a_strided_pointwise_convolution_trains_on_torch_for_any_batch():
    """torch's CPU kernel for the weight gradient of a strided 1x1 convolution corrupted memory (a batch of 7,
    8 input channels) and killed the process; Lamina runs it as a 1x1 convolution of every other cell."""
    import os
    import subprocess
    import sys

    environment = {**os.environ, "LAMINA_BACKEND": "torch", "MALLOC_CHECK_": "3"}
    done = subprocess.run([sys.executable, "-c", STRIDED_POINTWISE], capture_output=True, text=True, timeout=120,
                          env=environment)
    assert done.returncode == 0 and "trained" in done.stdout, done.stderr[-2000:]


def test_a_strided_pointwise_convolution_and_its_kernel_gradient_match_numpy():
    import torch

    from lamina.layers import Conv2D

    x = np.random.default_rng(5).normal(size=(7, 9, 10, 8)).astype("float32")
    kernel = np.random.default_rng(6).normal(size=(1, 1, 8, 16)).astype("float32")
    sampled = x[:, ::2, ::3].astype("float64")  # "same" with a 1x1 window pads nothing: every s-th cell
    expected = np.einsum("nhwc,cd->nhwd", sampled, kernel[0, 0])
    expected_gradient = 2 * np.einsum("nhwc,nhwd->cd", sampled, expected)  # of sum(output ** 2)
    for name in ("torch", "jax"):
        with backend.use(name):
            layer = Conv2D(16, 1, strides=(2, 3), padding="same", use_bias=False)
            layer.build(x.shape)
            layer.set_weights([kernel])
            output = layer(x)
            np.testing.assert_allclose(backend.impl.convert_to_numpy(output), expected, rtol=1e-4, atol=1e-4,
                                       err_msg=name)
            if name == "torch":
                (output ** 2).sum().backward()
                np.testing.assert_allclose(layer.kernel.grad.numpy()[0, 0], expected_gradient, rtol=1e-4)
