"""What the built-in cells share: kernels, dropout masks drawn once per sequence, and the sequence fast path.

A cell computes one time step: `call(inputs, states, training=False) -> (output, new_states)`. The RNN layer
drives a built-in cell faster than step by step: it projects the whole sequence at once (`project`), steps
only the recurrent part (`recur`), and runs the backend's fused recurrence (`fused`) where one applies.
"""

from __future__ import annotations

from typing import Any

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.layer import Layer


class RecurrentCell(Layer):
    """A built-in cell: `gates * units` kernel columns, input and recurrent dropout.

    Subclasses set `gates` and write `recur(projected, states, recurrent_mask) -> (output, states)`, where
    `projected` is `project(inputs)` (the input part of every gate, biases included).
    """

    gates: int = 1

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", recurrent_initializer: Any = "orthogonal",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        kwargs.pop("implementation", None)  # Keras's choice of kernel layout: the same numbers either way
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"{owner} units must be a positive integer, got {units!r}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{owner} {name} must be in [0, 1), got {rate!r}.")
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
        self.seed_generator = backend.impl.SeedGenerator(seed)
        self.state_size: Any = units
        self.output_size: Any = units
        self._sequence_masks: tuple[Any, Any] | None = None

    # --- weights ---------------------------------------------------------------------------------

    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def bias_initial_value(self) -> Any:
        return self.bias_initializer

    def kernel_shapes(self, input_shape: tuple) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shapes of kernel and recurrent_kernel for steps of this shape."""
        return (input_shape[-1], self.gates * self.units), (self.units, self.gates * self.units)

    def build(self, input_shape: tuple) -> None:
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a known feature dimension (the last), "
                             f"got input shape {input_shape}.")
        kernel_shape, recurrent_shape = self.kernel_shapes(tuple(input_shape))
        self.kernel = self.add_weight(shape=kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.recurrent_kernel = self.add_weight(shape=recurrent_shape, initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint, name="recurrent_kernel")
        self.bias = self.add_weight(shape=self.bias_shape(), initializer=self.bias_initial_value(),
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None

    # --- states and dropout --------------------------------------------------------------------------

    def state_shapes(self, step_shape: tuple) -> list[tuple]:
        """The shape of each state for input steps of this shape (batch first)."""
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [(step_shape[0], size) for size in sizes]

    def zero_states(self, step_shape: tuple, dtype: Any) -> list[Any]:
        """Zero states for input steps of this shape."""
        return [backend.impl.zeros(shape, dtype) for shape in self.state_shapes(step_shape)]

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        return self.zero_states((batch_size,), self.dtype)

    def _draw_mask(self, shape: tuple, rate: float) -> Any:
        """0 or 1 / (1 - rate), one value per sample and feature."""
        B = backend.impl
        return B.dropout(B.ones(shape, self.dtype), rate, self.seed_generator)

    def draw_masks(self, step_shape: tuple, training: bool) -> tuple[Any, Any]:
        """(input mask, recurrent mask), each None when not training or its rate is 0."""
        if not training:
            return None, None
        input_mask = self._draw_mask(step_shape, self.dropout) if self.dropout > 0.0 else None
        state_shape = self.state_shapes(step_shape)[0]
        recurrent_mask = self._draw_mask(state_shape, self.recurrent_dropout) if self.recurrent_dropout > 0.0 else None
        return input_mask, recurrent_mask

    def start_sequence(self, step_shape: tuple, training: bool) -> tuple[Any, Any]:
        """Draw this sequence's masks before the loop (every step shares them; nothing is drawn inside a scan)."""
        self._sequence_masks = self.draw_masks(step_shape, training)
        return self._sequence_masks

    def end_sequence(self) -> None:
        self._sequence_masks = None

    # --- the step ----------------------------------------------------------------------------------

    def input_bias(self) -> Any:
        return self.bias

    def project(self, inputs: Any) -> Any:
        """The input part of every gate: inputs (batch, [time,] features) @ kernel + input bias."""
        return backend.impl.dense(inputs, self.kernel, self.input_bias())

    def recur(self, projected: Any, states: list[Any], recurrent_mask: Any) -> tuple[Any, list[Any]]:
        raise NotImplementedError

    def fused(self, sequences: Any, states: list[Any], go_backwards: bool) -> tuple[Any, list[Any]] | None:
        """The whole recurrence by the backend's fused kernel, or None where none applies."""
        return None

    def call(self, inputs: Any, states: Any, training: bool | None = None) -> tuple[Any, Any]:
        """One step: inputs (batch, features), states as `state_size` -> (output, new states)."""
        single = not isinstance(states, (list, tuple))
        states = [states] if single else list(states)
        if self._sequence_masks is not None:
            input_mask, recurrent_mask = self._sequence_masks
        else:
            input_mask, recurrent_mask = self.draw_masks(tuple(backend.impl.shape(inputs)), bool(training))
        if input_mask is not None:
            inputs = backend.impl.multiply(inputs, input_mask)
        output, new_states = self.recur(self.project(inputs), states, recurrent_mask)
        return output, (new_states[0] if single else new_states)

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


def masked(h: Any, recurrent_mask: Any) -> Any:
    """h as it enters the recurrent matmul: recurrent dropout drops units of h there, never in the carried state."""
    return h if recurrent_mask is None else backend.impl.multiply(h, recurrent_mask)
