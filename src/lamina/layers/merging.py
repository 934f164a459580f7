"""Layers that merge several inputs into one: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate,
Dot, and their functional forms (add, subtract, ...)."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from lamina import backend
from lamina.layers.layer import Layer

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract", "add", "average",
           "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]


class Merge(Layer):
    """Combines a list of same-shaped inputs element by element.

    Masks (as Keras 3): the output keeps a step that any input keeps, and has no mask unless every input has
    one. Maximum, Minimum and Multiply also leave the masked entries of an input out of the result.
    """

    minimum_inputs = 2
    supports_masking = True
    _creates_mask = False

    def _combine(self, inputs: Sequence[Any]) -> Any:
        raise NotImplementedError

    def build(self, input_shape: Any) -> None:
        if (not isinstance(input_shape, (list, tuple)) or not input_shape
                or not isinstance(input_shape[0], (list, tuple))):
            raise ValueError(f"{type(self).__name__} must be called on a list of inputs, got one input of shape "
                             f"{input_shape}.")
        if len(input_shape) < self.minimum_inputs:
            raise ValueError(f"{type(self).__name__} needs at least {self.minimum_inputs} inputs, "
                             f"got {len(input_shape)}.")
        self._check_shapes([tuple(s) for s in input_shape])

    def _check_shapes(self, shapes: list[tuple]) -> None:
        """Same rank, and along each axis the same size or 1 (broadcast), as Keras allows."""
        for shape in shapes[1:]:
            if len(shape) != len(shapes[0]) or any(a is not None and b is not None and a != b and 1 not in (a, b)
                                                   for a, b in zip(shape[1:], shapes[0][1:])):
                raise ValueError(f"{type(self).__name__} needs inputs of the same shape (or of size 1 along an "
                                 f"axis, broadcast), got {shapes}.")

    def call(self, inputs: Sequence[Any], mask: Any = None) -> Any:
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(inputs)
        if any(m is not None for m in masks):
            return self._combine_masked(list(inputs), masks)
        return self._combine(list(inputs))

    def _combine_masked(self, inputs: list[Any], masks: list[Any]) -> Any:
        """The merge of inputs whose steps may be masked (one mask or None per input)."""
        return self._combine(inputs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        masks = list(previous_mask) if isinstance(previous_mask, (list, tuple)) else [previous_mask]
        if previous_mask is None or any(m is None for m in masks):
            return None
        return functools.reduce(backend.impl.logical_or, masks)


def _spread(mask: Any, x: Any) -> Any:
    """A step mask (batch, steps) spread over x's last axis: a boolean tensor of x's shape, or None."""
    B = backend.impl
    return None if mask is None else B.broadcast_to(B.expand_dims(B.cast(mask, "bool"), -1), tuple(B.shape(x)))


def _masked_extreme(op: Callable[[Any, Any], Any], inputs: list[Any], masks: list[Any]) -> Any:
    """An element-wise maximum or minimum where a masked entry gives way to the other inputs' entry."""
    B = backend.impl
    output, output_mask = inputs[0], _spread(masks[0], inputs[0])
    for x, mask in zip(inputs[1:], masks[1:]):
        mask = _spread(mask, x)
        if mask is not None:
            x = B.where(mask, x, output)
        if output_mask is not None:
            output = B.where(output_mask, output, x)
        output_mask = B.logical_or(output_mask, mask) if mask is not None and output_mask is not None else None
        output = op(output, x)
    return output


def _masked_product(inputs: list[Any], masks: list[Any]) -> Any:
    """An element-wise product where masked entries count as 1; zero where every input is masked (when all
    inputs carry a mask)."""
    B = backend.impl
    spread = [_spread(m, x) for x, m in zip(inputs, masks)]
    factors = [x if m is None else B.where(m, x, B.ones_like(x)) for x, m in zip(inputs, spread)]
    output = functools.reduce(B.multiply, factors)
    if all(m is not None for m in spread):
        output = B.where(functools.reduce(B.logical_or, spread), output, B.zeros_like(output))
    return output


def _reducing(name: str, combine: Callable[[Any, Any], Any], doc: str,
              masked: Callable[[list, list], Any] | None = None) -> type:
    """A Merge that folds `combine` over its inputs; `masked(inputs, masks)` merges inputs that carry masks."""
    def _combine(self: Merge, inputs: Sequence[Any]) -> Any:
        return functools.reduce(combine, inputs)

    members: dict = {"_combine": _combine, "__doc__": doc}
    if masked is not None:
        members["_combine_masked"] = lambda self, inputs, masks: masked(inputs, masks)
    return type(name, (Merge,), members)


Add = _reducing("Add", lambda a, b: backend.impl.add(a, b), "The element-wise sum of the inputs.")
Multiply = _reducing("Multiply", lambda a, b: backend.impl.multiply(a, b), "The element-wise product of the inputs.",
                     _masked_product)
Maximum = _reducing("Maximum", lambda a, b: backend.impl.maximum(a, b), "The element-wise maximum of the inputs.",
                    lambda inputs, masks: _masked_extreme(backend.impl.maximum, inputs, masks))
Minimum = _reducing("Minimum", lambda a, b: backend.impl.minimum(a, b), "The element-wise minimum of the inputs.",
                    lambda inputs, masks: _masked_extreme(backend.impl.minimum, inputs, masks))


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
        """As Keras: each mask is spread over its input's shape (an unmasked input counts as all kept), the
        spread masks are joined along `axis`, and a step is kept where any of its features is."""
        B = backend.impl
        if previous_mask is None or all(m is None for m in previous_mask):
            return None
        spread = []
        for x, mask in zip(inputs, previous_mask):
            shape = tuple(B.shape(x))
            if mask is None:
                spread.append(B.ones(shape, "float32"))
                continue
            mask = B.cast(mask, "float32")
            if len(B.shape(mask)) < len(shape):
                mask = B.broadcast_to(B.expand_dims(mask, -1), shape)
            spread.append(mask)
        return B.greater(B.max(B.concatenate(spread, axis=self.axis), axis=-1), 0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class Dot(Merge):
    """The dot product of two batches of tensors along `axes` (one int for both, or one per input).

    normalize: L2-normalize each input along its axis first, which gives cosine similarities.
    The output drops the contracted axes: (batch, n, d) and (batch, m, d) with axes=2 give (batch, n, m);
    two vectors per sample give (batch, 1).
    """

    _creates_mask = False

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, int):
            pass
        elif not (isinstance(axes, (list, tuple)) and len(axes) == 2 and all(isinstance(a, int) for a in axes)):
            raise ValueError(f"Dot axes must be an int or a list of two ints, got {axes!r}.")
        self.axes = list(axes) if isinstance(axes, (list, tuple)) else axes
        self.normalize = bool(normalize)

    def _resolved_axes(self, shapes: Sequence[tuple]) -> tuple[int, int]:
        axes = self.axes if isinstance(self.axes, list) else [self.axes, self.axes]
        resolved = tuple(a % len(shape) if a < 0 else a for a, shape in zip(axes, shapes))
        for axis, shape in zip(resolved, shapes):
            if not 1 <= axis < len(shape):
                raise ValueError(f"Dot axes {self.axes} must name a non-batch axis of each input; got input shapes "
                                 f"{[tuple(s) for s in shapes]}.")
        return resolved  # type: ignore[return-value]

    def _check_shapes(self, shapes: list[tuple]) -> None:
        if len(shapes) != 2:
            raise ValueError(f"Dot needs exactly 2 inputs, got {len(shapes)}.")
        first, second = self._resolved_axes(shapes)
        a, b = shapes[0][first], shapes[1][second]
        if a is not None and b is not None and a != b:
            raise ValueError(f"Dot: the inputs' sizes along axes {self.axes} differ: {a} and {b} (input shapes "
                             f"{shapes[0]} and {shapes[1]}).")
        if shapes[0][0] is not None and shapes[1][0] is not None and shapes[0][0] != shapes[1][0]:
            raise ValueError(f"Dot needs inputs of the same batch size, got {shapes[0][0]} and {shapes[1][0]}.")

    def _combine(self, inputs: Sequence[Any]) -> Any:
        B = backend.impl
        x, y = inputs
        shapes = [tuple(B.shape(x)), tuple(B.shape(y))]
        first, second = self._resolved_axes(shapes)
        if self.normalize:
            x, y = _l2_normalize(x, first), _l2_normalize(y, second)
        letters = iter("bcdefghijklmnopqrstuvwxyz")
        contracted = "a"
        x_letters = ["z"] + [contracted if i == first else next(letters) for i in range(1, len(shapes[0]))]
        y_letters = ["z"] + [contracted if i == second else next(letters) for i in range(1, len(shapes[1]))]
        kept = [c for c in x_letters[1:] + y_letters[1:] if c != contracted]
        output = B.einsum(f"{''.join(x_letters)},{''.join(y_letters)}->z{''.join(kept)}", x, y)
        return B.expand_dims(output, 1) if not kept else output

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _l2_normalize(x: Any, axis: int) -> Any:
    B = backend.impl
    return B.divide(x, B.sqrt(B.maximum(B.sum(B.square(x), axis=axis, keepdims=True), 1e-12)))


def add(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """The element-wise sum of the inputs (an Add layer, called)."""
    return Add(**kwargs)(inputs)


def subtract(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """The first input minus the second (a Subtract layer, called)."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """The element-wise product of the inputs (a Multiply layer, called)."""
    return Multiply(**kwargs)(inputs)


def average(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """The element-wise mean of the inputs (an Average layer, called)."""
    return Average(**kwargs)(inputs)


def maximum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """The element-wise maximum of the inputs (a Maximum layer, called)."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: Sequence[Any], **kwargs: Any) -> Any:
    """The element-wise minimum of the inputs (a Minimum layer, called)."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: Sequence[Any], axis: int = -1, **kwargs: Any) -> Any:
    """The inputs joined along `axis` (a Concatenate layer, called)."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence[Any], axes: Any = -1, **kwargs: Any) -> Any:
    """The dot product of two inputs along `axes` (a Dot layer, called)."""
    return Dot(axes=axes, **kwargs)(inputs)
