"""LSTMCell and LSTM; kernel columns hold the gates in Keras order i, f, c, o.

i, f, o = recurrent_activation(...); c_t = f * c_{t-1} + i * activation(...); h_t = o * activation(c_t).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina import activations, backend
from lamina.layers.layer import InputSpec
from lamina.layers.recurrent.cell import RecurrentCell, masked
from lamina.layers.recurrent.layer_arguments import CellLayer


def forget_bias_ones(initializer: Any, units: int) -> Any:
    """An initializer of the (4 * units) bias: `initializer` for the i, c, o parts and ones for f."""

    def initialize(shape: tuple, dtype: Any = "float32") -> np.ndarray:
        return np.concatenate([np.asarray(initializer((units,), dtype)), np.ones((units,), dtype),
                               np.asarray(initializer((2 * units,), dtype))])

    return initialize


class LSTMCell(RecurrentCell):
    """One LSTM step; states [h, c]."""

    gates = 4

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [units, units]

    def bias_initial_value(self) -> Any:
        return forget_bias_ones(self.bias_initializer, self.units) if self.unit_forget_bias else self.bias_initializer

    def recur(self, projected: Any, states: list[Any], recurrent_mask: Any) -> tuple[Any, list[Any]]:
        B, gate, act = backend.impl, self.recurrent_activation, self.activation
        z = B.add(projected, B.matmul(masked(states[0], recurrent_mask), self.recurrent_kernel))
        i, f, g, o = B.split(z, 4, axis=-1)
        c = B.add(B.multiply(gate(f), states[1]), B.multiply(gate(i), act(g)))
        h = B.multiply(gate(o), act(c))
        return h, [h, c]

    def fused(self, sequences: Any, states: list[Any], go_backwards: bool) -> tuple[Any, list[Any]] | None:
        if self.activation is not activations.tanh or self.recurrent_activation is not activations.sigmoid:
            return None
        outputs, h, c = backend.impl.lstm(sequences, states[0], states[1], self.kernel, self.recurrent_kernel,
                                          self.bias, go_backwards)
        return outputs, [h, c]

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class LSTM(CellLayer):
    """Long short-term memory over (batch, time, features); weights live in its `cell` (an LSTMCell)."""

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, use_cudnn: Any = "auto", **kwargs: Any) -> None:
        cell = LSTMCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                        kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                        bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                        kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                        bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                        recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                        dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                        dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True), name="lstm_cell")
        super().__init__(cell, use_cudnn=use_cudnn, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
