"""Layers that merge several inputs into one: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from lamina import backend
from lamina.layers.layer import Layer
from lamina.utils import tree

__all__ = ["Add", "Average", "Concatenate", "Maximum", "Minimum", "Multiply", "Subtract", "add", "concatenate"]


class Merge(Layer):
    """Combines a list of same-shaped inputs element by element; a step is masked out if any input masks it."""

    minimum_inputs = 2
    supports_masking = True
    _creates_mask = False

    def _combine(self, inputs: Sequence[Any]) -> Any:
        raise NotImplementedError

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"{type(self).__name__} must be called on a list of inputs, got one input of shape "
                             f"{input_shape}.")
        if len(input_shape) < self.minimum_inputs:
            raise ValueError(f"{type(self).__name__} needs at least {self.minimum_inputs} inputs, "
                             f"got {len(input_shape)}.")
        self._check_shapes([tuple(s) for s in input_shape])

    def _check_shapes(self, shapes: list[tuple]) -> None:
        for shape in shapes[1:]:
            if len(shape) != len(shapes[0]) or any(a is not None and b is not None and a != b
                                                   for a, b in zip(shape[1:], shapes[0][1:])):
                raise ValueError(f"{type(self).__name__} needs inputs of the same shape, got {shapes}.")

    def call(self, inputs: Sequence[Any]) -> Any:
        return self._combine(list(inputs))

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        masks = [m for m in tree.flatten(previous_mask) if m is not None]
        return functools.reduce(backend.impl.logical_and, masks) if masks else None


def _reducing(name: str, combine: Callable[[Any, Any], Any], doc: str) -> type:
    def _combine(self: Merge, inputs: Sequence[Any]) -> Any:
        return functools.reduce(combine, inputs)

    return type(name, (Merge,), {"_combine": _combine, "__doc__": doc})


Add = _reducing("Add", lambda a, b: backend.impl.add(a, b), "The element-wise sum of the inputs.")
Multiply = _reducing("Multiply", lambda a, b: backend.impl.multiply(a, b), "The element-wise product of the inputs.")
Maximum = _reducing("Maximum", lambda a, b: backend.impl.maximum(a, b), "The element-wise maximum of the inputs.")
Minimum = _reducing("Minimum", lambda a, b: backend.impl.minimum(a, b), "The element-wise minimum of the inputs.")


class Subtract(Merge):
    """The first input minus the second."""

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"Subtract needs exactly 2 inputs, got {len(input_shape)}.")

    def _combine(self, inputs: Sequence[Any]) -> Any:
        return backend.impl.subtract(inputs[0], inputs[1])


class Average(Merge):
    """The element-wise mean of the inputs."""

    def _combine(self, inputs: Sequence[Any]) -> Any:
        return functools.reduce(backend.impl.add, inputs) / float(len(inputs))


class Concatenate(Merge):
    """Joins the inputs along `axis`; the other axes must agree."""

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = axis

    def _check_shapes(self, shapes: list[tuple]) -> None:
        rank = len(shapes[0])
        axis = self.axis % rank
        for shape in shapes[1:]:
            if len(shape) != rank or any(a is not None and b is not None and a != b
                                         for i, (a, b) in enumerate(zip(shape, shapes[0])) if i not in (0, axis)):
                raise ValueError(f"Concatenate on axis {self.axis} needs inputs that agree on every other axis, "
                                 f"got {shapes}.")

    def _combine(self, inputs: Sequence[Any]) -> Any:
        return backend.impl.concatenate(inputs, axis=self.axis)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """Joined along the feature axis, a step is kept where every input keeps it; along another axis the
        masks are joined too (an unmasked input counts as all kept)."""
        B = backend.impl
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        rank = len(B.shape(inputs[0]))
        axis = self.axis % rank
        if axis == rank - 1:
            return super().compute_mask(inputs, previous_mask)
        shapes = [tuple(B.shape(m)) for m in previous_mask if m is not None]
        if any(len(s) != rank - 1 for s in shapes):
            raise ValueError(f"Concatenate {self.name!r} on axis {self.axis} needs masks shaped like the inputs "
                             f"without their last axis, got masks of shapes {shapes}.")
        return B.concatenate([B.cast(m, "bool") if m is not None else B.ones(B.shape(x)[:-1], "bool")
                              for x, m in zip(inputs, previous_mask)], axis=axis)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    return Add(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    return Concatenate(axis=axis, **kwargs)(inputs)
