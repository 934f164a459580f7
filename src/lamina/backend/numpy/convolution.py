"""Convolution and pooling of the NumPy backend.

Computed channels_last (channels_first inputs are transposed there and back). Padding is "valid", "same"
(the odd cell at the end) or explicit (before, after) pairs per spatial axis.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: np.ndarray, window: Sequence[int], strides: Sequence[int],
              dilation: Sequence[int], value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes of a channels_last array as 'same' pads (the extra cell at the end)."""
    return _pad_pairs(x, [_same_padding(size, k, s, d)
                          for size, k, s, d in zip(x.shape[1:-1], window, strides, dilation)], value)


def _pad_pairs(x: np.ndarray, pads: Sequence[tuple[int, int]], value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes of a channels_last array by (before, after) pairs."""
    if not any(before or after for before, after in pads):
        return x
    return np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=value)


def _windows(x: np.ndarray, window: Sequence[int], strides: Sequence[int],
             dilation: Sequence[int]) -> np.ndarray:
    """A strided view (batch, *out, channels, *window) of every window that the op visits."""
    rank = x.ndim - 2
    effective = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    for axis, (size, span) in enumerate(zip(x.shape[1:-1], effective), start=1):
        if size < span:
            raise ValueError(f"The window spans {span} cells along spatial axis {axis}, "
                             f"but the input has only {size} there; use padding='same' or a smaller window.")
    view = sliding_window_view(x, effective, axis=tuple(range(1, rank + 1)))
    positions = tuple(slice(None, None, s) for s in strides)
    taps = tuple(slice(None, None, d) for d in dilation)
    return view[(slice(None), *positions, slice(None), *taps)]


def conv(inputs: Any, kernel: Any, strides: Sequence[int], padding: str,
         dilation_rate: Sequence[int], groups: int = 1) -> np.ndarray:
    """N-d convolution; inputs (batch, *spatial, channels), kernel (*window, in/groups, out).

    Gathers the windows (im2col) and multiplies them by the kernel: one batched
    matrix product over the groups.
    """
    x, kernel = np.asarray(inputs), np.asarray(kernel)
    rank = x.ndim - 2
    window = kernel.shape[:rank]
    in_per_group, filters = kernel.shape[rank], kernel.shape[rank + 1]
    if x.shape[-1] != in_per_group * groups or filters % groups:
        raise ValueError(f"conv with {groups} group(s): expected inputs with {in_per_group * groups} channels and "
                         f"a number of filters divisible by {groups}, got inputs of shape {x.shape} and "
                         f"a kernel of shape {kernel.shape}.")
    if padding == "same":
        x = _pad_same(x, window, strides, dilation_rate)
    elif padding != "valid":
        x = _pad_pairs(x, padding)
    patches = _windows(x, window, strides, dilation_rate)  # (batch, *out, channels, *window)
    batch, out = patches.shape[0], patches.shape[1:rank + 1]
    patches = patches.reshape(batch, *out, groups, in_per_group, *window)
    # -> (groups, batch, *out, *window, in_per_group) -> (groups, batch * out, window * in_per_group)
    patches = np.moveaxis(patches, (rank + 1, rank + 2), (0, -1))
    patches = patches.reshape(groups, -1, math.prod(window) * in_per_group)
    # kernel (*window, in_per_group, groups, out_per_group) -> (groups, window * in_per_group, out_per_group)
    weights = np.moveaxis(kernel.reshape(*window, in_per_group, groups, filters // groups), rank + 1, 0)
    weights = weights.reshape(groups, -1, filters // groups)
    output = np.matmul(patches, weights)  # (groups, batch * out, out_per_group)
    output = np.moveaxis(output.reshape(groups, batch, *out, filters // groups), 0, -2)
    return output.reshape(batch, *out, filters)


def max_pool(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> np.ndarray:
    x = np.asarray(inputs)
    rank = x.ndim - 2
    if padding == "same":
        x = _pad_same(x, pool_size, strides, (1,) * rank, value=-math.inf)
    windows = _windows(x, pool_size, strides, (1,) * rank)
    return windows.max(axis=tuple(range(-rank, 0)))


def average_pool(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> np.ndarray:
    x = np.asarray(inputs)
    rank = x.ndim - 2
    window_axes, unit = tuple(range(-rank, 0)), (1,) * rank
    if padding != "same":
        return _windows(x, pool_size, strides, unit).mean(axis=window_axes)
    # The average covers only the real cells: sum the padded windows and divide by the cell count.
    summed = _windows(_pad_same(x, pool_size, strides, unit), pool_size, strides, unit).sum(axis=window_axes)
    ones = np.ones((1, *x.shape[1:-1], 1), dtype=x.dtype)
    counts = _windows(_pad_same(ones, pool_size, strides, unit), pool_size, strides, unit).sum(axis=window_axes)
    return summed / counts


def _channels_last(function: Any) -> Any:
    """Runs `function` (channels_last in and out) on inputs of either layout."""

    def run(inputs: Any, data_format: str, *args: Any) -> np.ndarray:
        x = np.asarray(inputs)
        if data_format != "channels_first":
            return function(x, *args)
        output = function(np.moveaxis(x, 1, -1), *args)
        return np.moveaxis(output, -1, 1)

    return run


def conv_general(inputs: Any, kernel: Any, strides: Sequence[int], padding: Any,
                 dilation_rate: Sequence[int], groups: int, data_format: str, bias: Any = None) -> np.ndarray:
    """N-d convolution; kernel (*window, in / groups, out)."""
    outputs = _channels_last(conv)(inputs, data_format, kernel, strides, padding, dilation_rate, groups)
    if bias is None:
        return outputs
    bias = np.asarray(bias)
    return outputs + (bias.reshape(-1, *(1,) * (outputs.ndim - 2)) if data_format == "channels_first" else bias)


def _conv_transpose_last(x: np.ndarray, kernel: Any, strides: Sequence[int], padding: Sequence[tuple[int, int]],
                         dilation_rate: Sequence[int]) -> np.ndarray:
    kernel = np.asarray(kernel)
    rank = x.ndim - 2
    # The direct convolution that the transpose is: the inputs spread `strides` apart, the window flipped,
    # the kernel's last axis read as its input channels.
    spread = np.zeros((x.shape[0], *[(n - 1) * s + 1 for n, s in zip(x.shape[1:-1], strides)], x.shape[-1]),
                      dtype=x.dtype)
    spread[(slice(None), *[slice(None, None, s) for s in strides])] = x
    flipped = np.flip(kernel, axis=tuple(range(rank))).swapaxes(-1, -2)
    return conv(spread, flipped, (1,) * rank, padding, dilation_rate)


def conv_transpose_general(inputs: Any, kernel: Any, strides: Sequence[int], padding: Sequence[tuple[int, int]],
                           dilation_rate: Sequence[int], data_format: str) -> np.ndarray:
    """N-d transposed convolution; kernel (*window, out, in); padding the (before, after) pairs of the
    stride-dilated input that the equivalent direct convolution sees."""
    return _channels_last(_conv_transpose_last)(inputs, data_format, kernel, strides, padding, dilation_rate)


def max_pool_general(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str,
                     data_format: str) -> np.ndarray:
    return _channels_last(max_pool)(inputs, data_format, pool_size, strides, padding)


def average_pool_general(inputs: Any, pool_size: Sequence[int], strides: Sequence[int], padding: str,
                         data_format: str) -> np.ndarray:
    return _channels_last(average_pool)(inputs, data_format, pool_size, strides, padding)


def _adaptive_last(x: np.ndarray, output_size: Sequence[int], mode: str) -> np.ndarray:
    reduce = np.max if mode == "max" else np.mean
    for axis, out in enumerate(output_size, start=1):
        size = x.shape[axis]
        ranges = [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]
        parts = [reduce(np.take(x, range(start, end), axis=axis), axis=axis, keepdims=True) for start, end in ranges]
        x = np.concatenate(parts, axis=axis)
    return x


def adaptive_pool(inputs: Any, output_size: Sequence[int], mode: str, data_format: str) -> np.ndarray:
    """Adaptive "average" or "max" pooling: output cell i of an axis of n cells covers
    [floor(i * n / out), ceil((i + 1) * n / out))."""
    return _channels_last(_adaptive_last)(inputs, data_format, output_size, mode)
