"""EinsumDense: a dense layer written as an einsum equation."""

from __future__ import annotations

import re
from typing import Any, Sequence

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.layer import Layer

__all__ = ["EinsumDense"]

# "ab,bc->ac", "...b,bc->...c" (leading axes elided) and "ab...,bc->ac..." (trailing axes elided)
_PLAIN = re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$")
_LEFT = re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$")
_RIGHT = re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]{2,})\.\.\.$")


def _parse(equation: str) -> tuple[str, str, str, str | None]:
    """(input, kernel, output) subscripts and where axes are elided: None, "left" or "right"."""
    for pattern, elided in ((_PLAIN, None), (_LEFT, "left"), (_RIGHT, "right")):
        found = pattern.match(equation.replace(" ", ""))
        if found:
            return found.group(1), found.group(2), found.group(3), elided
    raise ValueError(f"EinsumDense equation must look like 'ab,bc->ac', '...b,bc->...c' or 'ab...,bc->ac...', "
                     f"got {equation!r}.")


def analyze(equation: str, bias_axes: str | None, input_shape: Sequence[int | None],
            output_shape: Sequence[int | None]) -> tuple[list[int], list[int] | None, list[int | None]]:
    """The kernel shape, the bias shape (None without bias_axes) and the full output shape (with batch)."""
    inputs, weights, outputs, elided_side = _parse(equation)
    input_shape = list(input_shape)
    elided = len(input_shape) - len(inputs)
    full = [input_shape[0], *output_shape]
    if elided > 0 and elided_side == "left":
        full[1:1] = input_shape[1:elided]
    elif elided > 0:
        full.extend(input_shape[len(input_shape) - elided:])
    if elided_side == "left":
        input_axis = {c: i + elided - len(input_shape) for i, c in enumerate(inputs)}
        output_axis = {c: i + elided - len(full) for i, c in enumerate(outputs)}
    else:
        input_axis = {c: i for i, c in enumerate(inputs)}
        output_axis = {c: i for i, c in enumerate(outputs)}
    for c in inputs:
        if c in output_axis and full[output_axis[c]] is not None and full[output_axis[c]] != input_shape[input_axis[c]]:
            raise ValueError(f"EinsumDense {equation!r}: output_shape gives axis {c!r} size {full[output_axis[c]]}, "
                             f"but the input has {input_shape[input_axis[c]]} (input shape {tuple(input_shape)}).")
    for c in outputs:
        if c not in inputs and c not in weights:
            raise ValueError(f"EinsumDense {equation!r}: output axis {c!r} is in neither the input nor the kernel.")
    kernel_shape = []
    for c in weights:
        size = input_shape[input_axis[c]] if c in input_axis else full[output_axis[c]] if c in output_axis else None
        if size is None:
            raise ValueError(f"EinsumDense {equation!r}: the size of kernel axis {c!r} is unknown; give it in "
                             f"output_shape (got {tuple(output_shape)}) or in the input (shape {tuple(input_shape)}).")
        kernel_shape.append(size)
    return kernel_shape, _bias_shape(equation, bias_axes, outputs, output_axis, full, elided, elided_side), full


def _bias_shape(equation: str, bias_axes: str | None, outputs: str, output_axis: dict, full: list,
                elided: int, elided_side: str | None) -> list[int] | None:
    """The bias spans the output axes from the first bias axis on, with size 1 on those not in bias_axes."""
    if bias_axes is None:
        return None
    for c in bias_axes:
        if c not in outputs:
            raise ValueError(f"EinsumDense bias_axes {bias_axes!r}: axis {c!r} is not an output axis of {equation!r}.")
    first = min(outputs.find(c) for c in bias_axes)
    shape = [full[output_axis[c]] if c in bias_axes else 1 for c in outputs[first:]]
    if elided_side != "left":
        shape.extend([1] * max(elided, 0))
    return shape


class EinsumDense(Layer):
    """activation(einsum(equation, inputs, kernel) + bias): a dense layer over any axes.

    output_shape: the output's shape without the batch axis (None for sizes taken from the input);
    bias_axes: the output axes (letters of the equation) that get a bias.
    """

    casts_inputs = True  # no mask support, as in Keras 3: a mask reaching it warns and stops

    def __init__(self, equation: str, output_shape: int | Sequence[int | None], activation: Any = None,
                 bias_axes: str | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, gptq_unpacked_column_size: int | None = None,
                 quantization_config: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if lora_rank is not None:
            raise ValueError(f"EinsumDense lora_rank is not supported; expected None, got {lora_rank!r}.")
        if quantization_config is not None:
            raise ValueError(f"EinsumDense quantization is not supported; expected quantization_config=None, "
                             f"got {quantization_config!r}.")
        _parse(equation)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) else tuple(output_shape)
        self.activation = activations.get(activation)
        self.bias_axes = bias_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.full_output_shape: tuple | None = None

    def build(self, input_shape: tuple) -> None:
        kernel_shape, bias_shape, full = analyze(self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self.full_output_shape = tuple(full)
        self.kernel = self.add_weight(shape=kernel_shape, initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.bias = self.add_weight(shape=bias_shape, initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if bias_shape is not None else None

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        outputs = B.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            outputs = B.add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "output_shape": list(self.partial_output_shape), "equation": self.equation,
                "activation": activations.serialize(self.activation), "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}
