"""Neural-network ops of the numpy backend: activations, convolution, pooling, RNNs, losses.

The formulas are the torch backend's, written so that no intermediate overflows
(exponentials only of non-positive numbers) and float32 stays float32 (constants
are Python floats, which NumPy never lets widen an array).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from lamina.backend import logits as _logits
from lamina.backend.numpy import random as _random
from lamina.backend.numpy.core import convert_to_tensor

logits_of = _logits.logits_of

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def relu(x: Any) -> np.ndarray:
    return np.maximum(x, 0)


def sigmoid(x: Any) -> np.ndarray:
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return _logits.record_logits(np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)), x, "sigmoid")


tanh = np.tanh


def softplus(x: Any) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softsign(x: Any) -> np.ndarray:
    return x / (1.0 + np.abs(x))


def silu(x: Any) -> np.ndarray:
    return x * sigmoid(x)


def elu(x: Any, alpha: float = 1.0) -> np.ndarray:
    x = np.asarray(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def selu(x: Any) -> np.ndarray:
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def relu6(x: Any) -> np.ndarray:
    return np.clip(x, 0, 6)


def hard_sigmoid(x: Any) -> np.ndarray:
    """relu6(x + 3) / 6, torch's hardsigmoid."""
    return np.clip(np.asarray(x) + 3.0, 0, 6) / 6.0


def leaky_relu(x: Any, negative_slope: float = 0.2) -> np.ndarray:
    x = np.asarray(x)
    return np.where(x > 0, x, x * negative_slope)


def _erf(x: np.ndarray) -> np.ndarray:
    """The error function to 1.5e-7 (Abramowitz and Stegun 7.1.26); NumPy has none."""
    t = 1.0 / (1.0 + 0.3275911 * np.abs(x))
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(x) * (1.0 - poly * np.exp(-x * x))


def gelu(x: Any, approximate: bool = True) -> np.ndarray:
    x = np.asarray(x)
    if approximate:
        return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return _logits.record_logits(e / np.sum(e, axis=axis, keepdims=True), x, "softmax", axis)


def log_softmax(x: Any, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def dense(x: Any, kernel: Any, bias: Any | None) -> np.ndarray:
    """x @ kernel + bias."""
    output = np.matmul(x, kernel)
    return output if bias is None else np.add(output, bias, out=output)


def dropout(x: Any, rate: float, seed: Any = None) -> np.ndarray:
    """Zero each entry with probability rate and scale the rest by 1 / (1 - rate).

    Like the torch backend, it draws from the backend's global generator (set_seed) and
    ignores `seed`.
    """
    x = np.asarray(x)
    if rate >= 1.0:
        return np.zeros_like(x)
    keep = _random.generator().random(x.shape, dtype=np.float32) >= rate
    return x * keep / (1.0 - rate)


# --- convolution and pooling (channels_last in, channels_last out) ----------------------------

def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: np.ndarray, window: Sequence[int], strides: Sequence[int],
              dilation: Sequence[int], value: float = 0.0) -> np.ndarray:
    """Pad the spatial axes of a channels_last array as 'same' pads (the extra cell at the end)."""
    pads = [_same_padding(size, k, s, d) for size, k, s, d in zip(x.shape[1:-1], window, strides, dilation)]
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


# --- recurrent layers ---------------------------------------------------------------------------

def lstm(inputs: Any, h: Any, c: Any, kernel: Any, recurrent_kernel: Any, bias: Any | None,
         go_backwards: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LSTM over time (axis 1), sigmoid gates and tanh cell, Keras gate order i, f, c, o.

    kernel (features, 4 * units), recurrent_kernel (units, 4 * units), bias (4 * units).
    Returns (outputs (batch, time, units) in processing order, last h, last c).
    """
    inputs, h, c = np.asarray(inputs), np.asarray(h), np.asarray(c)
    recurrent_kernel = np.asarray(recurrent_kernel)
    if go_backwards:
        inputs = inputs[:, ::-1]
    projected = dense(inputs, kernel, bias)  # (batch, time, 4 * units): the input part of every step
    outputs = []
    for t in range(projected.shape[1]):
        z = projected[:, t] + h @ recurrent_kernel
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def simple_rnn(inputs: Any, h: Any, kernel: Any, recurrent_kernel: Any, bias: Any | None,
               activation: str, go_backwards: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Elman RNN with tanh or relu; returns (outputs in processing order, last h)."""
    inputs, h, recurrent_kernel = np.asarray(inputs), np.asarray(h), np.asarray(recurrent_kernel)
    if go_backwards:
        inputs = inputs[:, ::-1]
    act = np.tanh if activation == "tanh" else relu
    projected = dense(inputs, kernel, bias)
    outputs = []
    for t in range(projected.shape[1]):
        h = act(projected[:, t] + h @ recurrent_kernel)
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def rnn(step: Callable[[np.ndarray, list], tuple[np.ndarray, list]], inputs: Any,
        states: list, go_backwards: bool = False, mask: Any = None,
        unroll: bool = False) -> tuple[np.ndarray, list]:
    """Generic recurrence over time (axis 1) for cells without a fused kernel; a Python loop, so always unrolled.

    mask (batch, time) of bools: where False, a step keeps the previous states and output (zeros at first).
    """
    inputs = np.asarray(inputs)
    steps = range(inputs.shape[1] - 1, -1, -1) if go_backwards else range(inputs.shape[1])
    outputs = []
    for t in steps:
        output, new_states = step(inputs[:, t], states)
        if mask is not None:
            keep = np.asarray(mask)[:, t, None]  # (batch, 1)
            output = np.where(keep, output, outputs[-1] if outputs else np.zeros_like(output))
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        states = new_states
        outputs.append(output)
    return np.stack(outputs, axis=1), states


# --- loss building blocks: from probabilities (clipped to [1e-7, 1 - 1e-7]) or from logits ---------

def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                             axis: int = -1) -> np.ndarray:
    output = np.asarray(output)
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return -np.sum(target * log_softmax(output, axis=axis), axis=axis)
    output = np.clip(output / np.sum(output, axis=axis, keepdims=True), 1e-7, 1.0 - 1e-7)
    return -np.sum(target * np.log(output), axis=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False,
                                    axis: int = -1) -> np.ndarray:
    output = np.asarray(output)
    target = convert_to_tensor(target).astype(np.int64, copy=False)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target[..., 0]
    if from_logits:
        log_probabilities = log_softmax(output, axis=axis)
    else:
        log_probabilities = np.log(np.clip(output, 1e-7, 1.0 - 1e-7))
    log_probabilities = np.moveaxis(log_probabilities, axis, -1)
    return -np.take_along_axis(log_probabilities, target[..., None], axis=-1)[..., 0]


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> np.ndarray:
    output = np.asarray(output)
    target = convert_to_tensor(target, output.dtype)
    if from_logits:  # log(1 + exp(-|x|)) + max(x, 0) - x * target, stable for any x
        return np.maximum(output, 0) - output * target + np.log1p(np.exp(-np.abs(output)))
    output = np.clip(output, 1e-7, 1.0 - 1e-7)
    return -(target * np.log(output) + (1.0 - target) * np.log(1.0 - output))
