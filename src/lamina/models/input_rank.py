"""Inputs one axis short or long of what a model declares, adjusted as Keras adjusts them."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import ops


def adjustable(given_shape: Sequence[Any], expected_shape: Sequence[Any]) -> bool:
    """Whether an input of `given_shape` fits `expected_shape` once a trailing axis of size 1 is added or
    dropped: (n,) for Input((1,)), or (n, 5, 1) for Input((5,))."""
    given, expected = len(given_shape), len(expected_shape)
    if given == expected - 1:
        return expected_shape[-1] == 1
    return given == expected + 1 and given_shape[-1] == 1


def adjust_rank(value: Any, expected_shape: Sequence[Any]) -> Any:
    """`value` with a trailing axis of size 1 added or dropped when that makes its rank the expected one."""
    shape = tuple(value.shape)
    if len(shape) == len(expected_shape) or not adjustable(shape, expected_shape):
        return value
    return ops.expand_dims(value, -1) if len(shape) < len(expected_shape) else ops.squeeze(value, -1)
