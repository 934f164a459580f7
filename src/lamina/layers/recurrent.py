"""Recurrent layers: SimpleRNN, LSTM, GRU.

Each runs the backend's fused recurrence when its activations are the ones the fused op computes, and
otherwise steps a Python cell function through the backend's generic `rnn` (a loop in torch, `lax.scan`
in jax); both paths compute the same formulas. Inputs are (batch, time, features); the input
projection `inputs @ kernel + bias` is done once for all time steps, before the recurrence.

A mask (batch, time), from Embedding(mask_zero=True) or passed as `mask=`, makes masked steps keep the
previous states and output, so a padded sequence ends where the unpadded one does; masked and unrolled
(`unroll=True`) recurrences take the generic path.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.layer import InputSpec, Layer

__all__ = ["GRU", "LSTM", "SimpleRNN"]


class Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: weights, dropout masks, initial states and outputs.

    A subclass sets `gates` (the kernel holds `gates * units` columns), `state_names`, and writes
    `recur(inputs, states, recurrent_mask) -> (outputs, states)`.
    """

    gates: int = 1
    state_names: tuple[str, ...] = ("h",)
    casts_inputs = True
    _creates_mask = False

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"{owner} units must be a positive integer, got {units!r}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{owner} {name} must be in [0, 1), got {rate!r}.")
        if stateful:
            raise ValueError(f"{owner} stateful=True is not supported yet; pass the state explicitly with "
                             "return_state=True and initial_state=... instead.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout, self.seed = float(dropout), float(recurrent_dropout), seed
        self.return_sequences, self.return_state = return_sequences, return_state
        self.go_backwards, self.stateful, self.unroll = go_backwards, stateful, bool(unroll)
        self.seed_generator = backend.impl.SeedGenerator(seed)
        self.input_spec = InputSpec(ndim=3)

    # --- weights ---------------------------------------------------------------------------------

    def bias_shape(self) -> tuple[int, ...]:
        """One bias per kernel column."""
        return (self.gates * self.units,)

    def bias_initial_value(self) -> Any:
        """The initializer of the bias (LSTM sets its forget-gate part to ones)."""
        return self.bias_initializer

    def input_bias(self) -> Any:
        """The bias added to the input projection (GRU keeps a second, recurrent one)."""
        return self.bias

    def build(self, input_shape: tuple) -> None:
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known feature dimension (the last), "
                             f"got input shape {input_shape}.")
        width = self.gates * self.units
        self.kernel = self.add_weight(shape=(features, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, width), initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel")
        self.bias = self.add_weight(shape=self.bias_shape(), initializer=self.bias_initial_value(),
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(ndim=3, axes={-1: features})

    # --- the call ----------------------------------------------------------------------------------

    def _dropout_mask(self, shape: tuple, rate: float) -> Any:
        """0 or 1 / (1 - rate), drawn once per call and shared by all time steps (as Keras does)."""
        B = backend.impl
        return B.dropout(B.ones(shape, self.dtype), rate, self.seed_generator)

    def _initial_states(self, inputs: Any, initial_state: Any) -> list[Any]:
        B = backend.impl
        if initial_state is None:
            batch = B.shape(inputs)[0]
            return [B.zeros((batch, self.units), self.dtype) for _ in self.state_names]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        if len(states) != len(self.state_names):
            raise ValueError(f"{type(self).__name__} initial_state must hold {len(self.state_names)} tensor(s) "
                             f"({', '.join(self.state_names)}), got {len(states)}.")
        return [B.convert_to_tensor(s) for s in states]

    def call(self, inputs: Any, initial_state: Any = None, training: bool | None = None, mask: Any = None) -> Any:
        """inputs (batch, time, features) -> (batch, units), or (batch, time, units) with return_sequences.

        mask (batch, time), optional: steps where it is False keep the previous states and output.
        """
        B = backend.impl
        if mask is not None:
            mask = B.cast(mask, "bool")
        states = self._initial_states(inputs, initial_state)
        recurrent_mask = None
        if training and self.dropout > 0.0:
            batch, _, features = B.shape(inputs)
            inputs = B.multiply(inputs, self._dropout_mask((batch, 1, features), self.dropout))
        if training and self.recurrent_dropout > 0.0:
            recurrent_mask = self._dropout_mask((B.shape(inputs)[0], self.units), self.recurrent_dropout)
        outputs, states = self.recur(inputs, states, recurrent_mask, mask)
        output = outputs if self.return_sequences else states[0]  # h: the last output, carried over masked steps
        return [output, *states] if self.return_state else output

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        output_mask = previous_mask if self.return_sequences else None
        return [output_mask] + [None] * len(self.state_names) if self.return_state else output_mask

    def _fused(self, recurrent_mask: Any, mask: Any) -> bool:
        """Whether the backend's fused recurrence may run: no recurrent dropout, no mask, not unrolled."""
        return recurrent_mask is None and mask is None and not self.unroll

    def recur(self, inputs: Any, states: list[Any], recurrent_mask: Any, mask: Any) -> tuple[Any, list[Any]]:
        """The recurrence: (outputs (batch, time, units) in processing order, final states)."""
        raise NotImplementedError

    def _generic(self, cell: Callable[[Any, Any, list[Any]], tuple[Any, list[Any]]], inputs: Any, states: list[Any],
                 recurrent_mask: Any, mask: Any) -> tuple[Any, list[Any]]:
        """Run `cell(projected_input_t, h_for_matmul, states)` over time with the backend's generic rnn.

        Recurrent dropout masks only the h that enters the recurrent matmul, never the carried state.
        """
        B = backend.impl
        projected = B.dense(inputs, self.kernel, self.input_bias())  # (batch, time, gates * units)

        def step(x_t: Any, states: list[Any]) -> tuple[Any, list[Any]]:
            h = states[0] if recurrent_mask is None else B.multiply(states[0], recurrent_mask)
            return cell(x_t, h, states)

        return B.rnn(step, projected, states, self.go_backwards, mask=mask, unroll=self.unroll)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll}


class SimpleRNN(Recurrent):
    """Elman RNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

    def recur(self, inputs: Any, states: list[Any], recurrent_mask: Any, mask: Any) -> tuple[Any, list[Any]]:
        B = backend.impl
        if self._fused(recurrent_mask, mask) and self.activation in (activations.tanh, activations.relu):
            outputs, h = B.simple_rnn(inputs, states[0], self.kernel, self.recurrent_kernel, self.bias,
                                      self.activation.__name__, self.go_backwards)
            return outputs, [h]

        def cell(x_t: Any, h: Any, states: list[Any]) -> tuple[Any, list[Any]]:
            h = self.activation(B.add(x_t, B.matmul(h, self.recurrent_kernel)))
            return h, [h]

        return self._generic(cell, inputs, states, recurrent_mask, mask)


class LSTM(Recurrent):
    """Long short-term memory; kernel columns hold the gates in Keras order i, f, c, o.

    i, f, o = recurrent_activation(...); c_t = f * c_{t-1} + i * activation(...); h_t = o * activation(c_t).
    """

    gates = 4
    state_names = ("h", "c")

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    def bias_initial_value(self) -> Any:
        if not self.unit_forget_bias:
            return self.bias_initializer
        units, rest = self.units, self.bias_initializer

        def forget_gate_ones(shape: tuple, dtype: Any = "float32") -> np.ndarray:  # biases i | f = 1 | c, o
            return np.concatenate([rest((units,), dtype), np.ones((units,), dtype), rest((2 * units,), dtype)])

        return forget_gate_ones

    def recur(self, inputs: Any, states: list[Any], recurrent_mask: Any, mask: Any) -> tuple[Any, list[Any]]:
        B = backend.impl
        if (self._fused(recurrent_mask, mask) and self.activation is activations.tanh
                and self.recurrent_activation is activations.sigmoid):
            outputs, h, c = B.lstm(inputs, states[0], states[1], self.kernel, self.recurrent_kernel, self.bias,
                                   self.go_backwards)
            return outputs, [h, c]
        gate, act = self.recurrent_activation, self.activation

        def cell(x_t: Any, h: Any, states: list[Any]) -> tuple[Any, list[Any]]:
            i, f, g, o = B.split(B.add(x_t, B.matmul(h, self.recurrent_kernel)), 4, axis=-1)
            c = B.add(B.multiply(gate(f), states[1]), B.multiply(gate(i), act(g)))
            h = B.multiply(gate(o), act(c))
            return h, [h, c]

        return self._generic(cell, inputs, states, recurrent_mask, mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRU(Recurrent):
    """Gated recurrent unit; kernel columns hold the gates in Keras order z (update), r (reset), h.

    With reset_after=True (the default, cuDNN-compatible) the bias is (2, 3 * units): the input bias,
    then the recurrent bias, and the reset gate scales the recurrent candidate after its matmul;
    with reset_after=False the bias is (3 * units,) and the reset gate scales h before the matmul.
    """

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

    def recur(self, inputs: Any, states: list[Any], recurrent_mask: Any, mask: Any) -> tuple[Any, list[Any]]:
        B = backend.impl
        gate, act, units = self.recurrent_activation, self.activation, self.units
        recurrent_bias = self.bias[1] if self.bias is not None and self.reset_after else None

        def cell(x_t: Any, h: Any, states: list[Any]) -> tuple[Any, list[Any]]:
            x_z, x_r, x_h = B.split(x_t, 3, axis=-1)
            if self.reset_after:
                h_z, h_r, h_h = B.split(B.dense(h, self.recurrent_kernel, recurrent_bias), 3, axis=-1)
                z, r = gate(B.add(x_z, h_z)), gate(B.add(x_r, h_r))
                candidate = act(B.add(x_h, B.multiply(r, h_h)))
            else:
                h_z, h_r = B.split(B.matmul(h, self.recurrent_kernel[:, :2 * units]), 2, axis=-1)
                z, r = gate(B.add(x_z, h_z)), gate(B.add(x_r, h_r))
                candidate = act(B.add(x_h, B.matmul(B.multiply(r, h), self.recurrent_kernel[:, 2 * units:])))
            h = B.add(B.multiply(z, states[0]), B.multiply(B.subtract(1.0, z), candidate))
            return h, [h]

        return self._generic(cell, inputs, states, recurrent_mask, mask)

    def get_config(self) -> dict:
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}
