"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

import numbers
from typing import Any

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.layer import Layer

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]


def _number(owner: str, name: str, value: Any, minimum: float | None = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (minimum is not None and value < minimum):
        expected = "a non-negative float" if minimum == 0.0 else "a float"
        raise ValueError(f"{owner} {name} must be {expected}, got {value!r}.")
    return float(value)


class ReLU(Layer):
    """max(x, 0), with options: capped at max_value, x kept only above threshold, sloped below it."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_value = None if max_value is None else _number("ReLU", "max_value", max_value)
        self.negative_slope = _number("ReLU", "negative_slope", negative_slope)
        self.threshold = _number("ReLU", "threshold", threshold, minimum=None)

    def call(self, inputs: Any) -> Any:
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    def get_config(self) -> dict:
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """x for x > 0, negative_slope * x otherwise (Keras 2's `alpha` is taken as negative_slope)."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        self.negative_slope = _number("LeakyReLU", "negative_slope", negative_slope)

    def call(self, inputs: Any) -> Any:
        return backend.impl.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """A leaky relu whose negative slopes `alpha` are learned, one per input entry except along shared_axes."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, alpha_initializer: Any = "Zeros", alpha_regularizer: Any = None, alpha_constraint: Any = None,
                 shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None or isinstance(shared_axes, (list, tuple)):
            self.shared_axes = None if shared_axes is None else list(shared_axes)
        elif isinstance(shared_axes, int):
            self.shared_axes = [shared_axes]
        else:
            raise ValueError(f"PReLU shared_axes must be an int, a list of ints or None, got {shared_axes!r}.")

    def build(self, input_shape: tuple) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"PReLU shared_axes {self.shared_axes} must name axes 1 to {len(input_shape) - 1} "
                                 f"of the input shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU {self.name!r} needs known sizes on the axes it does not share, got input "
                             f"shape {tuple(input_shape)}; share the unknown axes with shared_axes.")
        self.alpha = self.add_weight(shape=tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint,
                                     name="alpha")

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        return B.subtract(B.relu(inputs), B.multiply(self.alpha, B.relu(B.negative(inputs))))

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class ELU(Layer):
    """x for x > 0, alpha * (e**x - 1) otherwise."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = _number("ELU", "alpha", alpha, minimum=None)

    def call(self, inputs: Any) -> Any:
        return backend.impl.elu(inputs, self.alpha)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


def _large_negative(dtype: str) -> float:
    """A logit that softmax turns into zero, within range of the dtype."""
    return -3e4 if dtype == "float16" else -1e9


class Softmax(Layer):
    """The softmax along `axis` (an int or several axes).

    Call with `mask` (broadcastable to the inputs, True = kept) to give the masked entries zero probability.
    """

    supports_masking = True
    casts_inputs = True

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axis, int) and not (isinstance(axis, (list, tuple)) and axis
                                              and all(isinstance(a, int) for a in axis)):
            raise ValueError(f"Softmax axis must be an int or a list of ints, got {axis!r}.")
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else axis

    def call(self, inputs: Any, mask: Any = None) -> Any:
        B = backend.impl
        if mask is not None:
            mask = self._checked_mask(inputs, mask)
            inputs = B.where(mask, inputs, _large_negative(B.dtype_of(inputs)))
        if isinstance(self.axis, list) and len(self.axis) > 1:
            axis = tuple(self.axis)
            peak = B.stop_gradient(B.max(inputs, axis=axis, keepdims=True))
            exponentials = B.exp(B.subtract(inputs, peak))
            outputs = B.divide(exponentials, B.sum(exponentials, axis=axis, keepdims=True))
        else:
            outputs = B.softmax(inputs, self.axis[0] if isinstance(self.axis, list) else self.axis)
        if mask is not None:  # a fully masked row gives zeros, not a uniform distribution
            outputs = B.multiply(outputs, B.cast(mask, B.dtype_of(outputs)))
        return outputs

    def _checked_mask(self, inputs: Any, mask: Any) -> Any:
        B = backend.impl
        inputs_shape, mask_shape = tuple(B.shape(inputs)), tuple(B.shape(mask))
        if len(mask_shape) > len(inputs_shape) or any(
                m is not None and i is not None and m not in (1, i)
                for m, i in zip(reversed(mask_shape), reversed(inputs_shape))):
            raise ValueError(f"Softmax {self.name!r}: the mask of shape {mask_shape} does not broadcast to the "
                             f"inputs of shape {inputs_shape} (each mask axis, aligned from the right, must be 1 "
                             "or the input's size). A mask of whole time steps (batch, steps), from Masking or "
                             "Embedding, fits only (batch, steps) inputs: drop it before this layer, e.g. with a "
                             "Lambda.")
        if B.dtype_of(mask) != "bool":
            mask = B.greater(mask, 0.5)
        return mask

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
