"""ConvLSTM1D/2D/3D: an LSTM whose input and recurrent transformations are convolutions.

Inputs (batch, time, *spatial, channels) (channels_last) or (batch, time, channels, *spatial); states and
outputs have `filters` channels over the spatial size of the input convolution. The recurrent convolution
always uses stride 1 and "same" padding. Gates in Keras order i, f, c, o along the kernels' last axis.
"""

from __future__ import annotations

import math
from typing import Any

from lamina import activations, backend
from lamina.layers.layer import InputSpec
from lamina.layers.recurrent.cell import RecurrentCell, masked
from lamina.layers.recurrent.layer_arguments import CellLayer
from lamina.layers.recurrent.lstm import forget_bias_ones


def _tuple(value: Any, rank: int, name: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(f"ConvLSTM{rank}D {name} must be a positive int or {rank} of them, got {value!r}.")
    return values


def conv_output_size(size: int | None, kernel: int, stride: int, padding: str, dilation: int) -> int | None:
    """The length of one spatial axis after the input convolution."""
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


class ConvLSTMCell(RecurrentCell):
    """One ConvLSTM step on channels-last tensors; states [h, c] of shape (batch, *output_spatial, filters)."""

    gates = 4

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True, unit_forget_bias: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(filters, activation=activation, use_bias=use_bias, **kwargs)
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"ConvLSTM{rank}D padding must be 'valid' or 'same', got {padding!r}.")
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"ConvLSTM{rank}D data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}.")
        self.rank, self.filters, self.padding, self.data_format = rank, filters, padding, data_format
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size")
        self.strides = _tuple(strides, rank, "strides")
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"ConvLSTM{rank}D takes strides > 1 or dilation_rate > 1, not both; got strides "
                             f"{self.strides} and dilation_rate {self.dilation_rate}.")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [filters, filters]

    def kernel_shapes(self, input_shape: tuple) -> tuple[tuple[int, ...], tuple[int, ...]]:
        width = 4 * self.filters
        return (*self.kernel_size, input_shape[-1], width), (*self.kernel_size, self.filters, width)

    def bias_initial_value(self) -> Any:
        return forget_bias_ones(self.bias_initializer, self.filters) if self.unit_forget_bias else self.bias_initializer

    def state_shapes(self, step_shape: tuple) -> list[tuple]:
        spatial = [conv_output_size(n, k, s, self.padding, d)
                   for n, k, s, d in zip(step_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate)]
        return [(step_shape[0], *spatial, self.filters)] * 2

    def project(self, inputs: Any) -> Any:
        """The input convolution of one step (batch, *spatial, channels), or of all steps of a sequence."""
        B = backend.impl
        shape = tuple(B.shape(inputs))
        folded = len(shape) == self.rank + 3
        x = B.reshape(inputs, (shape[0] * shape[1], *shape[2:])) if folded else inputs
        x = B.conv(x, self.kernel, self.strides, self.padding, self.dilation_rate)
        if self.bias is not None:
            x = B.add(x, self.bias)
        return B.reshape(x, (shape[0], shape[1], *B.shape(x)[1:])) if folded else x

    def recur(self, projected: Any, states: list[Any], recurrent_mask: Any) -> tuple[Any, list[Any]]:
        B, gate, act = backend.impl, self.recurrent_activation, self.activation
        recurrent = B.conv(masked(states[0], recurrent_mask), self.recurrent_kernel, (1,) * self.rank, "same",
                           (1,) * self.rank)
        i, f, g, o = B.split(B.add(projected, recurrent), 4, axis=-1)
        c = B.add(B.multiply(gate(f), states[1]), B.multiply(gate(i), act(g)))
        h = B.multiply(gate(o), act(c))
        return h, [h, c]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("units")
        return {**config, "rank": self.rank, "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


def _channels_to_last(x: Any, first_spatial_axis: int) -> Any:
    """(..., channels, *spatial) -> (..., *spatial, channels), channels at first_spatial_axis - 1."""
    rank = len(backend.impl.shape(x))
    axes = (*range(first_spatial_axis - 1), *range(first_spatial_axis, rank), first_spatial_axis - 1)
    return backend.impl.transpose(x, axes)


def _channels_to_first(x: Any, channel_axis: int) -> Any:
    """(..., *spatial, channels) -> (..., channels, *spatial), channels moved to channel_axis."""
    rank = len(backend.impl.shape(x))
    axes = (*range(channel_axis), rank - 1, *range(channel_axis, rank - 1))
    return backend.impl.transpose(x, axes)


class ConvLSTM(CellLayer):
    """The ConvLSTM layer of any rank; use ConvLSTM1D, ConvLSTM2D or ConvLSTM3D."""

    def __init__(self, rank: int, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, **kwargs: Any) -> None:
        cell = ConvLSTMCell(rank, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                            dilation_rate=dilation_rate, activation=activation,
                            recurrent_activation=recurrent_activation, use_bias=use_bias,
                            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                            dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                            dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                            name="conv_lstm_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, activity_regularizer=activity_regularizer,
                         **kwargs)
        self.input_spec = InputSpec(ndim=rank + 3)
        self._step_shape: tuple | None = None

    @property
    def _channels_first(self) -> bool:
        return self.cell.data_format == "channels_first"

    def build(self, sequences_shape: tuple) -> None:
        shape = tuple(sequences_shape)
        if self._channels_first:
            shape = (*shape[:2], *shape[3:], shape[2])
        self._step_shape = (shape[0], *shape[2:])
        super().build(shape)

    def get_initial_state(self, batch_size: int) -> list[Any]:
        if self._step_shape is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} must be built before get_initial_state.")
        states = self._zero_states((batch_size, *self._step_shape[1:]))
        return [_channels_to_first(s, 1) for s in states] if self._channels_first else states

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None, training: bool | None = None) -> Any:
        if not self._channels_first:
            return super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        sequences = _channels_to_last(sequences, 3)
        if initial_state is not None:
            initial_state = [_channels_to_last(s, 2) for s in initial_state]
        result = super().call(sequences, initial_state=initial_state, mask=mask, training=training)
        outputs = result if isinstance(result, list) else [result]
        outputs = [_channels_to_first(outputs[0], 2 if self.return_sequences else 1),
                   *(_channels_to_first(s, 1) for s in outputs[1:])]
        return outputs if isinstance(result, list) else outputs[0]

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("rank")
        return config


class ConvLSTM1D(ConvLSTM):
    """ConvLSTM over (batch, time, steps, channels)."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        super().__init__(1, filters, kernel_size, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """ConvLSTM over (batch, time, rows, cols, channels)."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        super().__init__(2, filters, kernel_size, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """ConvLSTM over (batch, time, dim1, dim2, dim3, channels)."""

    def __init__(self, filters: int, kernel_size: Any, **kwargs: Any) -> None:
        super().__init__(3, filters, kernel_size, **kwargs)
