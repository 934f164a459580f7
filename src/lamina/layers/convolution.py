"""Convolution layers: Conv1D, Conv2D, Conv3D (channels_last)."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.layer import InputSpec, Layer

__all__ = ["Conv1D", "Conv2D", "Conv3D"]


def normalize_tuple(value: int | Sequence[int], rank: int, name: str, owner: str) -> tuple[int, ...]:
    """`value` as a tuple of `rank` positive ints (an int is repeated); a ValueError names `name` otherwise."""
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(f"{owner} {name} must be a positive int or a tuple of {rank} positive ints, got {value!r}.")
    return values


def normalize_data_format(data_format: str | None, owner: str) -> str:
    """'channels_last' (the default); 'channels_first' is refused until the backends support it."""
    data_format = data_format or "channels_last"
    if data_format == "channels_first":
        raise ValueError(f"{owner} data_format='channels_first' is not supported yet; use 'channels_last' "
                         "(inputs shaped (batch, *spatial, channels)).")
    if data_format != "channels_last":
        raise ValueError(f"{owner} data_format must be 'channels_last' or 'channels_first', got {data_format!r}.")
    return data_format


class Conv(Layer):
    """N-d convolution over channels_last inputs: activation(conv(inputs, kernel) + bias).

    The kernel has shape (*kernel_size, in_channels // groups, filters); subclasses fix `rank`.
    """

    rank: int = 2
    paddings: tuple[str, ...] = ("valid", "same")
    casts_inputs = True

    def __init__(self, filters: int, kernel_size: int | Sequence[int], strides: int | Sequence[int] = 1,
                 padding: str = "valid", data_format: str | None = None, dilation_rate: int | Sequence[int] = 1,
                 groups: int = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(f"{owner} filters must be a positive integer, got {filters!r}.")
        if not isinstance(groups, int) or groups <= 0 or filters % groups:
            raise ValueError(f"{owner} groups must be a positive integer that divides filters ({filters}), "
                             f"got {groups!r}.")
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in self.paddings:
            expected = " or ".join(repr(p) for p in self.paddings)
            raise ValueError(f"{owner} padding must be {expected}, got {padding!r}.")
        self.filters = filters
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, self.rank, "strides", owner)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        self.padding = padding
        self.data_format = normalize_data_format(data_format, owner)
        self.groups = groups
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def build(self, input_shape: tuple) -> None:
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known channel dimension (the last), "
                             f"got input shape {input_shape}.")
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input channels ({channels}) must be "
                             f"divisible by groups ({self.groups}).")
        self.kernel = self.add_weight(shape=(*self.kernel_size, channels // self.groups, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        padding = self.padding
        if padding == "causal":  # pad the start of the time axis so that output t sees inputs up to t only
            reach = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            inputs, padding = B.pad(inputs, ((0, 0), (reach, 0), (0, 0))), "valid"
        outputs = B.conv(inputs, self.kernel, self.strides, padding, self.dilation_rate, self.groups)
        if self.bias is not None:
            outputs = B.add(outputs, self.bias)
        return self.activation(outputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate, "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Conv1D(Conv):
    """1-d convolution over (batch, steps, channels); padding may also be 'causal'."""

    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(Conv):
    """2-d convolution over (batch, height, width, channels)."""

    rank = 2


class Conv3D(Conv):
    """3-d convolution over (batch, depth, height, width, channels)."""

    rank = 3
