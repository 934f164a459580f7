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
    """Zero each entry with probability rate and scale the rest by 1 / (1 - rate).

    Like the torch backend, it draws from the backend's global generator (set_seed) and
    ignores `seed`.
    """
    x = np.asarray(x)
    if rate >= 1.0:
        return np.zeros_like(x)
    keep = _random.generator().random(x.shape, dtype=np.float32) >= rate
    return x * keep / (1.0 - rate)


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
