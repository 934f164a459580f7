"""Convolution layers: Conv1D/2D/3D, Conv1DTranspose/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D.

Every layer takes data_format "channels_last" (batch, *spatial, channels) or "channels_first"
(batch, channels, *spatial); None means the configured default. Weights keep Keras's names and layouts:
kernel (*window, in / groups, filters); transposed kernel (*window, filters, in); depthwise kernel
(*window, in, depth_multiplier); pointwise kernel (*ones, in * depth_multiplier, filters); bias (outputs,).
"""

from __future__ import annotations

from typing import Any, Sequence

from lamina import activations, backend, constraints, initializers, ops, regularizers
from lamina.layers.layer import InputSpec, Layer
from lamina.ops.convolution import conv_transpose_padding, standardize_data_format, standardize_padding
from lamina.ops.symbolic import KerasTensor

__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D",
           "Convolution1DTranspose", "Convolution2D", "Convolution2DTranspose", "Convolution3D",
           "Convolution3DTranspose", "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
           "SeparableConvolution1D", "SeparableConvolution2D"]


def normalize_tuple(value: int | Sequence[int], rank: int, name: str, owner: str,
                    allow_zero: bool = False) -> tuple[int, ...]:
    """`value` as a tuple of `rank` positive ints (an int is repeated); a ValueError names `name` otherwise."""
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    lowest = 0 if allow_zero else 1
    if len(values) != rank or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lowest
                                      for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner} {name} must be a {kind} int or a tuple of {rank} {kind} ints, got {value!r}.")
    return values


def normalize_data_format(data_format: str | None, owner: str) -> str:
    """'channels_last' or 'channels_first'; None is the configured default (channels_last unless set)."""
    return standardize_data_format(data_format, f"{owner} data_format")


def conv_output_length(size: int | None, extent: int, stride: int, padding: str) -> int | None:
    """Cells along one axis after a window of `extent` cells moved by `stride` ('causal' pads extent - 1)."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    return max((size - extent) // stride + 1, 0)


class SpatialShapes:
    """Symbolic outputs from the layer's compute_output_shape: exact also for unknown spatial sizes, which a
    call traced on stand-in sizes cannot give (a window larger than the stand-in)."""

    def compute_output_spec(self, inputs: Any, *args: Any, **kwargs: Any) -> KerasTensor:
        return KerasTensor(self.compute_output_shape(tuple(inputs.shape)), self.dtype)

    def _spatial_axes(self) -> range:
        first = 2 if self.data_format == "channels_first" else 1
        return range(first, first + self.rank)

    def _with_spatial(self, input_shape: tuple, sizes: Sequence[int | None], channels: int | None) -> tuple:
        """input_shape with the spatial sizes (and the channel size, unless None) replaced."""
        shape = list(input_shape)
        for axis, size in zip(self._spatial_axes(), sizes):
            shape[axis] = size
        if channels is not None:
            shape[1 if self.data_format == "channels_first" else -1] = channels
        return tuple(shape)


class BaseConv(SpatialShapes, Layer):
    """What every convolution layer shares: argument checks, the channel axis, bias, activation, config."""

    rank: int = 2
    paddings: tuple[str, ...] = ("valid", "same")
    casts_inputs = True

    def _setup(self, kernel_size: Any, strides: Any, padding: str, data_format: str | None, dilation_rate: Any,
               activation: Any, use_bias: bool, bias_initializer: Any, bias_regularizer: Any,
               bias_constraint: Any) -> None:
        owner = type(self).__name__
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{owner} strides > 1 are not supported together with dilation_rate > 1, got "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}.")
        self.padding = standardize_padding(padding, self.paddings, owner)
        self.data_format = normalize_data_format(data_format, owner)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _input_channels(self, input_shape: tuple) -> int:
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known channel dimension (axis "
                             f"{self._channel_axis} with {self.data_format}), got input shape {input_shape}.")
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self._channel_axis: channels})
        return channels

    def _add_bias(self, size: int) -> None:
        self.bias = self.add_weight(shape=(size,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None

    def _finish(self, outputs: Any) -> Any:
        """activation(outputs + bias), the bias broadcast along the channel axis."""
        B = backend.impl
        if self.bias is not None:
            bias = self.bias
            if self.data_format == "channels_first":
                bias = B.reshape(bias, (-1, *(1,) * self.rank))
            outputs = B.add(outputs, bias)
        return self.activation(outputs)

    def _conv_output_shape(self, input_shape: tuple, channels: int) -> tuple:
        sizes = [conv_output_length(input_shape[axis], (k - 1) * d + 1, s, self.padding) for axis, k, s, d
                 in zip(self._spatial_axes(), self.kernel_size, self.strides, self.dilation_rate)]
        return self._with_spatial(input_shape, sizes, channels)

    def _base_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


def _check_filters(owner: str, filters: Any) -> None:
    if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
        raise ValueError(f"{owner} filters must be a positive integer, got {filters!r}.")


class Conv(BaseConv):
    """N-d convolution: activation(convolution_op(inputs, kernel) + bias); subclasses fix `rank`.

    Subclasses may override `convolution_op(inputs, kernel)` (by default `ops.conv` with the layer's
    strides, padding, dilation_rate and data_format), e.g. to standardize the kernel first.
    """

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 groups: int = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        _check_filters(owner, filters)
        if not isinstance(groups, int) or groups <= 0 or filters % groups:
            raise ValueError(f"{owner} groups must be a positive integer that divides filters ({filters}), "
                             f"got {groups!r}.")
        self.filters, self.groups = filters, groups
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                    bias_initializer, bias_regularizer, bias_constraint)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        # The default convolution_op runs the backend directly (the same result as ops.conv, without
        # re-checking the arguments on every call); an overriding subclass's op is called instead.
        self._direct = type(self).convolution_op is Conv.convolution_op
        self._backend_padding: Any = self.padding
        if self.padding == "causal":  # pad the start of the time axis: output t sees inputs up to t only
            self._backend_padding = (((self.kernel_size[0] - 1) * self.dilation_rate[0], 0),)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input channels ({channels}) must be "
                             f"divisible by groups ({self.groups}).")
        self.kernel = self.add_weight(shape=(*self.kernel_size, channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self._add_bias(self.filters)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._conv_output_shape(tuple(input_shape), self.filters)

    def convolution_op(self, inputs: Any, kernel: Any) -> Any:
        return ops.conv(inputs, kernel, strides=self.strides, padding=self.padding,
                        dilation_rate=self.dilation_rate, data_format=self.data_format)

    def call(self, inputs: Any) -> Any:
        if self._direct or self.padding == "causal":
            outputs = backend.impl.conv_general(inputs, self.kernel, self.strides, self._backend_padding,
                                                self.dilation_rate, self.groups, self.data_format, self.bias)
            return self.activation(outputs)  # the bias is added by the convolution
        return self._finish(self.convolution_op(inputs, self.kernel))

    def get_config(self) -> dict:
        return {**self._base_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint)}


class Conv1D(Conv):
    """1-d convolution over steps; padding may also be 'causal'."""

    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(Conv):
    """2-d convolution over (height, width)."""

    rank = 2


class Conv3D(Conv):
    """3-d convolution over (depth, height, width)."""

    rank = 3


class ConvTranspose(BaseConv):
    """N-d transposed convolution (the gradient of a convolution with respect to its input).

    Without output_padding each axis of n cells gives n * stride cells ('same') or
    n * stride + max(extent - stride, 0) ('valid'); output_padding (below the stride) sets the cells added at
    the end instead.
    """

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", output_padding: int | Sequence[int] | None = None,
                 data_format: str | None = None, dilation_rate: int | Sequence[int] = 1, activation: Any = None,
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        _check_filters(owner, filters)
        self.filters = filters
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                    bias_initializer, bias_regularizer, bias_constraint)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", owner, allow_zero=True)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{owner} output_padding must be smaller than strides on every axis, got "
                             f"output_padding={self.output_padding} and strides={self.strides}.")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        extras = self.output_padding or (None,) * self.rank
        self._pairs = tuple(conv_transpose_padding(k, s, d, self.padding, extra) for k, s, d, extra
                            in zip(self.kernel_size, self.strides, self.dilation_rate, extras))

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(shape=(*self.kernel_size, self.filters, channels),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self._add_bias(self.filters)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = [None if input_shape[axis] is None else (input_shape[axis] - 1) * s + before + after - (k - 1) * d + 1
                 for axis, k, s, d, (before, after)
                 in zip(self._spatial_axes(), self.kernel_size, self.strides, self.dilation_rate, self._pairs)]
        return self._with_spatial(tuple(input_shape), sizes, self.filters)

    def call(self, inputs: Any) -> Any:
        outputs = backend.impl.conv_transpose_general(inputs, self.kernel, self.strides, self._pairs,
                                                      self.dilation_rate, self.data_format)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**self._base_config(), "filters": self.filters, "output_padding": self.output_padding,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint)}


class Conv1DTranspose(ConvTranspose):
    """1-d transposed convolution over steps."""

    rank = 1


class Conv2DTranspose(ConvTranspose):
    """2-d transposed convolution over (height, width)."""

    rank = 2


class Conv3DTranspose(ConvTranspose):
    """3-d transposed convolution over (depth, height, width)."""

    rank = 3


def _check_multiplier(owner: str, depth_multiplier: Any) -> None:
    if not isinstance(depth_multiplier, int) or isinstance(depth_multiplier, bool) or depth_multiplier <= 0:
        raise ValueError(f"{owner} depth_multiplier must be a positive integer, got {depth_multiplier!r}.")


class DepthwiseConv(BaseConv):
    """Each input channel convolved apart with depth_multiplier filters of its own (outputs in * multiplier)."""

    def __init__(self, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 activation: Any = None, use_bias: bool = True, depthwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _check_multiplier(type(self).__name__, depth_multiplier)
        self.depth_multiplier = depth_multiplier
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                    bias_initializer, bias_regularizer, bias_constraint)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight(shape=(*self.kernel_size, channels, self.depth_multiplier),
                                      initializer=self.depthwise_initializer,
                                      regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint, name="kernel")
        self._add_bias(channels * self.depth_multiplier)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        channels = input_shape[self._channel_axis]
        return self._conv_output_shape(tuple(input_shape), None if channels is None else
                                       channels * self.depth_multiplier)

    def call(self, inputs: Any) -> Any:
        return self._finish(depthwise(self, inputs, self.kernel))

    def get_config(self) -> dict:
        return {**self._base_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint)}


def depthwise(layer: BaseConv, inputs: Any, kernel: Any) -> Any:
    """The depthwise convolution of `layer`'s arguments: one group per input channel."""
    B = backend.impl
    channels, multiplier = kernel.shape[-2], kernel.shape[-1]
    grouped = B.reshape(kernel, (*layer.kernel_size, 1, channels * multiplier))
    return B.conv_general(inputs, grouped, layer.strides, layer.padding, layer.dilation_rate, channels,
                          layer.data_format)


class DepthwiseConv1D(DepthwiseConv):
    """Depthwise 1-d convolution over steps."""

    rank = 1


class DepthwiseConv2D(DepthwiseConv):
    """Depthwise 2-d convolution over (height, width)."""

    rank = 2


class SeparableConv(BaseConv):
    """A depthwise convolution followed by a pointwise (1x1) convolution to `filters` channels."""

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", pointwise_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", depthwise_regularizer: Any = None,
                 pointwise_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None, bias_constraint: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        _check_filters(owner, filters)
        _check_multiplier(owner, depth_multiplier)
        self.filters, self.depth_multiplier = filters, depth_multiplier
        self._setup(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                    bias_initializer, bias_regularizer, bias_constraint)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape: tuple) -> None:
        channels = self._input_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            shape=(*self.kernel_size, channels, self.depth_multiplier), initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint, name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel")
        self._add_bias(self.filters)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._conv_output_shape(tuple(input_shape), self.filters)

    def call(self, inputs: Any) -> Any:
        spread = depthwise(self, inputs, self.depthwise_kernel)
        ones = (1,) * self.rank
        outputs = backend.impl.conv_general(spread, self.pointwise_kernel, ones, "valid", ones, 1, self.data_format)
        return self._finish(outputs)

    def get_config(self) -> dict:
        return {**self._base_config(), "filters": self.filters, "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint)}


class SeparableConv1D(SeparableConv):
    """Separable 1-d convolution over steps."""

    rank = 1


class SeparableConv2D(SeparableConv):
    """Separable 2-d convolution over (height, width)."""

    rank = 2


# The other names Keras exports.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (Conv1DTranspose, Conv2DTranspose,
                                                                          Conv3DTranspose)
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
