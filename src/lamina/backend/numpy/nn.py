"""Neural-network ops of the numpy backend: activations, convolution, pooling, RNNs, losses.

The formulas are the torch backend's, written so that no intermediate overflows
(exponentials only of non-positive numbers) and float32 stays float32 (constants
are Python floats, which NumPy never lets widen an array).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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
    """Zero each entry with probability rate and scale the rest by 1 / (1 - rate)."""
    return _random.dropout_draw(x, rate, seed)


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


# --- the rest of keras.ops.nn's activations -----------------------------------------------------------

def celu(x: Any, alpha: float = 1.0) -> np.ndarray:
    x = np.asarray(x)
    return np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha)


def glu(x: Any, axis: int = -1) -> np.ndarray:
    x = np.asarray(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu splits axis {axis} in two halves; it needs an even length, got shape {x.shape}.")
    value, gate = np.split(x, 2, axis=axis)
    return value * sigmoid(gate)


def hard_shrink(x: Any, threshold: float = 0.5) -> np.ndarray:
    x = np.asarray(x)
    return np.where(np.abs(x) > threshold, x, 0).astype(x.dtype, copy=False)


def hard_silu(x: Any) -> np.ndarray:
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def hard_tanh(x: Any) -> np.ndarray:
    return np.clip(x, -1, 1)


def log_sigmoid(x: Any) -> np.ndarray:
    return -softplus(-np.asarray(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> np.ndarray:
    x = np.asarray(x)
    return (np.sign(x) * np.maximum(np.abs(x) - threshold, 0)).astype(x.dtype, copy=False)


def sparse_plus(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return np.where(x <= -1, 0, np.where(x >= 1, x, 0.25 * (x + 1) ** 2)).astype(x.dtype, copy=False)


def sparse_sigmoid(x: Any) -> np.ndarray:
    return np.clip(0.5 * (np.asarray(x) + 1.0), 0, 1)


def squareplus(x: Any, b: float = 4) -> np.ndarray:
    x = np.asarray(x)
    return (0.5 * (x + np.sqrt(x * x + float(b)))).astype(x.dtype, copy=False)


def tanh_shrink(x: Any) -> np.ndarray:
    return x - np.tanh(x)


def threshold(x: Any, threshold: float, default_value: float) -> np.ndarray:
    x = np.asarray(x)
    return np.where(x > threshold, x, np.asarray(default_value, x.dtype))


swish = silu


def sparsemax(x: Any, axis: int = -1) -> np.ndarray:
    """The Euclidean projection of x onto the probability simplex along axis."""
    x = np.asarray(x)
    ranked = -np.sort(-x, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    rank = np.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    cumulative = np.cumsum(ranked, axis=axis)
    k = np.sum(1 + rank * ranked > cumulative, axis=axis, keepdims=True)  # how many entries stay positive
    tau = (np.take_along_axis(cumulative, k - 1, axis=axis) - 1) / k.astype(x.dtype)
    return np.maximum(x - tau, 0)


def polar(abs_: Any, angle: Any) -> np.ndarray:
    return abs_ * (np.cos(angle) + 1j * np.sin(angle))


# --- CTC ----------------------------------------------------------------------------------------------

def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any, mask_index: int = 0) -> np.ndarray:
    """The CTC loss per sample, from logits output (batch, time, classes) and padded labels target."""
    log_probabilities = log_softmax(np.asarray(output, np.float32), axis=-1)
    target = np.asarray(target, np.int64)
    target_length, output_length = np.asarray(target_length), np.asarray(output_length)
    batch, labels = target.shape
    extended = np.full((batch, 2 * labels + 1), mask_index, np.int64)
    extended[:, 1::2] = target
    skip = np.zeros(extended.shape, bool)  # a label may follow the one two before it, unless they are equal
    skip[:, 2:] = (extended[:, 2:] != extended[:, :-2]) & (extended[:, 2:] != mask_index)
    emitted = np.take_along_axis(log_probabilities, extended[:, None, :], axis=2)  # (batch, time, 2L+1)
    alpha = np.where(np.arange(2 * labels + 1) < 2, emitted[:, 0], -np.inf)
    with np.errstate(invalid="ignore"):
        for time in range(1, emitted.shape[1]):
            previous = np.pad(alpha, ((0, 0), (1, 0)), constant_values=-np.inf)[:, :-1]
            before = np.where(skip, np.pad(alpha, ((0, 0), (2, 0)), constant_values=-np.inf)[:, :-2], -np.inf)
            updated = np.logaddexp(np.logaddexp(alpha, previous), before) + emitted[:, time]
            alpha = np.where((time < output_length)[:, None], updated, alpha)
    rows = np.arange(batch)
    last = alpha[rows, 2 * target_length]
    return -np.where(target_length > 0, np.logaddexp(last, alpha[rows, np.maximum(2 * target_length - 1, 0)]), last)


def ctc_greedy_decode(inputs: Any, sequence_lengths: Any, merge_repeated: bool = True,
                      mask_index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The best path per sample, labels first and -1 after; and minus the sum of the chosen logits."""
    inputs = np.asarray(inputs, np.float32)
    labels, scores = np.argmax(inputs, axis=-1), np.max(inputs, axis=-1)
    past_end = np.arange(inputs.shape[1])[None, :] >= np.asarray(sequence_lengths)[:, None]
    labels = np.where(past_end, mask_index, labels)
    scores = np.where(past_end, 0.0, scores)
    if merge_repeated:
        repeated = np.pad(labels[:, 1:] == labels[:, :-1], ((0, 0), (1, 0)))
        labels = np.where(repeated, mask_index, labels)
    blank = labels == mask_index
    order = np.argsort(blank, axis=1, kind="stable")  # kept labels first, in order
    labels = np.take_along_axis(np.where(blank, -1, labels), order, axis=1)
    return labels[None], -np.sum(scores, axis=1, keepdims=True)


# --- sliding blocks (NCHW) ----------------------------------------------------------------------------

def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> np.ndarray:
    """The sliding blocks of an NCHW batch as (batch, channels * kernel positions, blocks)."""
    x = np.asarray(x)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = _pair(kernel_size), _pair(dilation), _pair(padding), _pair(stride)
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    rows = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    columns = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    blocks = np.stack([x[:, :, i * dh:i * dh + sh * rows:sh, j * dw:j * dw + sw * columns:sw]
                       for i in range(kh) for j in range(kw)], axis=2)  # (batch, channels, kh * kw, rows, columns)
    return blocks.reshape(x.shape[0], -1, rows * columns)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> np.ndarray:
    """unfold's inverse: blocks (batch, channels * kernel positions, blocks) summed into an NCHW image."""
    x = np.asarray(x)
    (height, width), (kh, kw) = _pair(output_size), _pair(kernel_size)
    (dh, dw), (ph, pw), (sh, sw) = _pair(dilation), _pair(padding), _pair(stride)
    rows = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    columns = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    blocks = x.reshape(x.shape[0], -1, kh, kw, rows, columns)
    image = np.zeros((x.shape[0], blocks.shape[1], height + 2 * ph, width + 2 * pw), x.dtype)
    for i in range(kh):
        for j in range(kw):
            image[:, :, i * dh:i * dh + sh * rows:sh, j * dw:j * dw + sw * columns:sw] += blocks[:, :, i, j]
    return image[:, :, ph:ph + height, pw:pw + width]
