"""SimpleRNNCell and SimpleRNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

from __future__ import annotations

from typing import Any

from lamina import activations, backend
from lamina.layers.layer import InputSpec
from lamina.layers.recurrent.cell import RecurrentCell, masked
from lamina.layers.recurrent.layer_arguments import CellLayer


class SimpleRNNCell(RecurrentCell):
    """One step of a fully connected RNN; state_size = output_size = units."""

    def recur(self, projected: Any, states: list[Any], recurrent_mask: Any) -> tuple[Any, list[Any]]:
        B = backend.impl
        h = self.activation(B.add(projected, B.matmul(masked(states[0], recurrent_mask), self.recurrent_kernel)))
        return h, [h]

    def fused(self, sequences: Any, states: list[Any], go_backwards: bool) -> tuple[Any, list[Any]] | None:
        if self.activation not in (activations.tanh, activations.relu):
            return None
        outputs, h = backend.impl.simple_rnn(sequences, states[0], self.kernel, self.recurrent_kernel, self.bias,
                                             self.activation.__name__, go_backwards)
        return outputs, [h]


class SimpleRNN(CellLayer):
    """Fully connected RNN over (batch, time, features); weights live in its `cell` (a SimpleRNNCell)."""

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, seed: int | None = None,
                 **kwargs: Any) -> None:
        cell = SimpleRNNCell(units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
                             recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
                             kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
                             bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                             recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
                             dropout=dropout, recurrent_dropout=recurrent_dropout, seed=seed,
                             dtype=kwargs.get("dtype"), trainable=kwargs.get("trainable", True),
                             name="simple_rnn_cell")
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
