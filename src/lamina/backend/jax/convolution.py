"""Convolution and pooling of the jax backend (channels_last in, channels_last out)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import jax.numpy as jnp
from jax import lax

from lamina.backend.jax.core import unwrap


def _dimension_numbers(rank: int) -> tuple[str, str, str]:
    spatial = "DHW"[-rank:] if rank <= 3 else None
    return f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"


def conv(inputs: Any, kernel: Any, strides: Sequence[int], padding: str, dilation_rate: Sequence[int],
         groups: int = 1) -> Any:
    """N-d convolution; inputs (batch, *spatial, channels), kernel (*window, in/groups, out)."""
    inputs, kernel = unwrap(inputs), unwrap(kernel)
    rank = inputs.ndim - 2
    return lax.conv_general_dilated(inputs, kernel, tuple(strides), padding.upper(),
                                    rhs_dilation=tuple(dilation_rate),
                                    dimension_numbers=_dimension_numbers(rank), feature_group_count=groups)


def _window(x: Any, pool_size: Sequence[int], strides: Sequence[int]) -> tuple[tuple, tuple]:
    return (1, *pool_size, 1), (1, *strides, 1)


def max_pool(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    inputs = unwrap(inputs)
    window, steps = _window(inputs, pool_size, strides)
    return lax.reduce_window(inputs, -jnp.inf, lax.max, window, steps, padding.upper())


def average_pool(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> Any:
    inputs = unwrap(inputs)
    window, steps = _window(inputs, pool_size, strides)
    summed = lax.reduce_window(inputs, 0.0, lax.add, window, steps, padding.upper())
    if padding.lower() == "valid":
        return summed / float(math.prod(pool_size))  # a Python number: works under jit and eval_shape
    counts = lax.reduce_window(jnp.ones((1, *inputs.shape[1:-1], 1), inputs.dtype), 0.0, lax.add, window, steps,
                               "SAME")
    return summed / counts
