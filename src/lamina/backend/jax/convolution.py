"""Convolution and pooling of the jax backend: XLA takes either layout through its dimension numbers.

Padding is "valid", "same" (the odd cell at the end) or explicit (before, after) pairs per spatial axis.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax.numpy as jnp
from jax import lax

from lamina.backend.jax.core import unwrap

Padding = Any  # "valid", "same", or ((before, after), ...) per spatial axis


def _dimension_numbers(rank: int, data_format: str, kernel: str = "IO") -> tuple[str, str, str]:
    spatial = "DHW"[-rank:]
    layout = f"NC{spatial}" if data_format == "channels_first" else f"N{spatial}C"
    return layout, f"{spatial}{kernel}", layout


def _padding(padding: Padding) -> Any:
    return padding.upper() if isinstance(padding, str) else tuple((int(b), int(a)) for b, a in padding)


def conv_general(inputs: Any, kernel: Any, strides: Sequence[int], padding: Padding,
                 dilation_rate: Sequence[int], groups: int, data_format: str, bias: Any = None) -> Any:
    """N-d convolution; kernel (*window, in / groups, out); XLA fuses the bias into the convolution."""
    inputs, kernel = unwrap(inputs), unwrap(kernel)
    rank = inputs.ndim - 2
    outputs = lax.conv_general_dilated(inputs, kernel, tuple(strides), _padding(padding),
                                       rhs_dilation=tuple(dilation_rate),
                                       dimension_numbers=_dimension_numbers(rank, data_format),
                                       feature_group_count=groups)
    if bias is None:
        return outputs
    bias = unwrap(bias)
    return outputs + (bias.reshape(-1, *(1,) * rank) if data_format == "channels_first" else bias)


def conv(inputs: Any, kernel: Any, strides: Sequence[int], padding: str, dilation_rate: Sequence[int],
         groups: int = 1) -> Any:
    """N-d convolution; inputs (batch, *spatial, channels), kernel (*window, in/groups, out)."""
    return conv_general(inputs, kernel, strides, padding, dilation_rate, groups, "channels_last")


def conv_transpose_general(inputs: Any, kernel: Any, strides: Sequence[int], padding: Sequence[tuple[int, int]],
                           dilation_rate: Sequence[int], data_format: str) -> Any:
    """N-d transposed convolution; kernel (*window, out, in); padding the (before, after) pairs of the
    stride-dilated input that the equivalent direct convolution sees."""
    inputs, kernel = unwrap(inputs), unwrap(kernel)
    rank = inputs.ndim - 2
    # The direct convolution that the transpose is: spread the inputs `strides` apart, flip the window, and
    # read the kernel's last axis as its input channels.
    flipped = jnp.flip(kernel, axis=tuple(range(rank)))
    return lax.conv_general_dilated(inputs, flipped, (1,) * rank, _padding(padding), lhs_dilation=tuple(strides),
                                    rhs_dilation=tuple(dilation_rate),
                                    dimension_numbers=_dimension_numbers(rank, data_format, kernel="OI"))


def _window(rank: int, sizes: Sequence[int], data_format: str) -> tuple[int, ...]:
    return (1, 1, *sizes) if data_format == "channels_first" else (1, *sizes, 1)


def max_pool_general(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str,
                     data_format: str) -> Any:
    inputs = unwrap(inputs)
    rank = inputs.ndim - 2
    return lax.reduce_window(inputs, -jnp.inf, lax.max, _window(rank, pool_size, data_format),
                             _window(rank, strides, data_format), padding.upper())


def average_pool_general(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str,
                         data_format: str) -> Any:
    inputs = unwrap(inputs)
    rank = inputs.ndim - 2
    window, steps = _window(rank, pool_size, data_format), _window(rank, strides, data_format)
    summed = lax.reduce_window(inputs, 0.0, lax.add, window, steps, padding.upper())
    if padding.lower() == "valid":
        return summed / float(math.prod(pool_size))  # a Python number: works under jit and eval_shape
    # The average covers only the real cells: divide by the count of real cells in each window.
    spatial = inputs.shape[2:] if data_format == "channels_first" else inputs.shape[1:-1]
    ones = jnp.ones(_window(rank, spatial, data_format), inputs.dtype)
    return summed / lax.reduce_window(ones, 0.0, lax.add, window, steps, "SAME")


def max_pool(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    return max_pool_general(inputs, pool_size, strides, padding, "channels_last")


def average_pool(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    return average_pool_general(inputs, pool_size, strides, padding, "channels_last")


def _bounds(size: int, out: int) -> list[tuple[int, int]]:
    return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]


def _adaptive_axis(x: Any, axis: int, out: int, mode: str) -> Any:
    """Adaptive pooling along one axis (the box of an adaptive pooling is a product of per-axis ranges)."""
    bounds = _bounds(x.shape[axis], out)
    if mode == "average":  # a (size, out) matrix of 1 / length over each range: one contraction
        weights = [[1.0 / (end - start) if start <= j < end else 0.0 for start, end in bounds]
                   for j in range(x.shape[axis])]
        moved = jnp.moveaxis(x, axis, -1) @ jnp.asarray(weights, x.dtype)
        return jnp.moveaxis(moved, -1, axis)
    # max: gather each range, padded to the longest by repeating its last index (a repeat changes no max)
    longest = max(end - start for start, end in bounds)
    index = [[min(start + k, end - 1) for k in range(longest)] for start, end in bounds]
    gathered = jnp.take(x, jnp.asarray(index).reshape(-1), axis=axis)
    shape = (*x.shape[:axis], out, longest, *x.shape[axis + 1:])
    return jnp.max(gathered.reshape(shape), axis=axis + 1)


def adaptive_pool(inputs: Any, output_size: Sequence[int], mode: str, data_format: str) -> Any:
    """Adaptive "average" or "max" pooling: output cell i of an axis of n cells covers
    [floor(i * n / out), ceil((i + 1) * n / out))."""
    x = unwrap(inputs)
    first = 2 if data_format == "channels_first" else 1
    for offset, out in enumerate(output_size):
        x = _adaptive_axis(x, first + offset, int(out), mode)
    return x
