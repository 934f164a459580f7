"""GRUCell and GRU; kernel columns hold the gates in Keras order z (update), r (reset), h (candidate).

With reset_after=True (the default, cuDNN's formula) the bias is (2, 3 * units): the input bias, then the
recurrent bias, and the reset gate scales the recurrent candidate after its matmul; with reset_after=False
the bias is (3 * units,) and the reset gate scales h before the matmul. h_t = z * h_{t-1} + (1 - z) * candidate.
"""

from __future__ import annotations

from typing import Any

from lamina import activations, backend
from lamina.layers.layer import InputSpec
from lamina.layers.recurrent.cell import RecurrentCell, masked
from lamina.layers.recurrent.layer_arguments import CellLayer


class GRUCell(RecurrentCell):
    """One GRU step; one state h."""

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = reset_after

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self) -> Any:
        return self.bias[0] if self.bias is not None and self.reset_after else self.bias

    def recur(self, projected: Any, states: list[Any], recurrent_mask: Any) -> tuple[Any, list[Any]]:
        B, gate, act, units = backend.impl, self.recurrent_activation, self.activation, self.units
        h_previous = states[0]
        h = masked(h_previous, recurrent_mask)
        x_z, x_r, x_h = B.split(projected, 3, axis=-1)
        if self.reset_after:
            recurrent_bias = self.bias[1] if self.bias is not None else None
            h_z, h_r, h_h = B.split(B.dense(h, self.recurrent_kernel, recurrent_bias), 3, axis=-1)
            z, r = gate(B.add(x_z, h_z)), gate(B.add(x_r, h_r))
            candidate = act(B.add(x_h, B.multiply(r, h_h)))
        else:
            h_z, h_r = B.split(B.matmul(h, self.recurrent_kernel[:, :2 * units]), 2, axis=-1)
            z, r = gate(B.add(x_z, h_z)), gate(B.add(x_r, h_r))
            candidate = act(B.add(x_h, B.matmul(B.multiply(r, h), self.recurrent_kernel[:, 2 * units:])))
        h = B.add(B.multiply(z, h_previous), B.multiply(B.subtract(1.0, z), candidate))
        return h, [h]

    def fused(self, sequences: Any, states: list[Any], go_backwards: bool) -> tuple[Any, list[Any]] | None:
        if (not self.reset_after or self.activation is not activations.tanh
                or self.recurrent_activation is not activations.sigmoid):
            return None
        outputs, h = backend.impl.gru(sequences, states[0], self.kernel, self.recurrent_kernel, self.bias,
                                      go_backwards)
        return outputs, [h]

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


class GRU(CellLayer):
    """Gated recurrent unit over (batch, time, features); weights live in its `cell` (a GRUCell)."""

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False, reset_after: bool = True,
                 use_cudnn: Any = "auto", **kwargs: Any) -> None:
        cell = GRUCell(units, activation=activation, recurrent_activation=recurrent_activation, use_bias=use_bias,
                       kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
                       bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                       recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
                       kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
                       bias_constraint=bias_constraint, dropout=dropout, recurrent_dropout=recurrent_dropout,
                       reset_after=reset_after, seed=seed, dtype=kwargs.get("dtype"),
                       trainable=kwargs.get("trainable", True), name="gru_cell")
        super().__init__(cell, use_cudnn=use_cudnn, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
