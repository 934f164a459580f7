"""Normalization and attention of the NumPy backend: moments, batch norm, scaled dot-product attention."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lamina.backend.numpy.core import convert_to_tensor

DEFAULT_EPSILON = 1e-7


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def _along(vector: Any, axis: int, ndim: int) -> np.ndarray:
    """A 1-d per-channel vector shaped to broadcast along `axis` of an ndim-rank array."""
    vector = convert_to_tensor(vector)
    if vector.ndim != 1:
        return vector
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return vector.reshape(shape)


def _broadcast_shape(x: np.ndarray, dims: tuple[int, ...]) -> list[int]:
    return [x.shape[d] if d in dims else 1 for d in range(x.ndim)]


def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    x = convert_to_tensor(x)
    dims = _axes(axes, x.ndim)
    return np.mean(x, axis=dims, keepdims=keepdims), np.var(x, axis=dims, keepdims=keepdims)


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> np.ndarray:
    x = convert_to_tensor(x)
    inverse = 1.0 / np.sqrt(_along(variance, axis, x.ndim) + epsilon)
    if scale is not None:
        inverse = inverse * _along(scale, axis, x.ndim)
    outputs = (x - _along(mean, axis, x.ndim)) * inverse
    return outputs if offset is None else outputs + _along(offset, axis, x.ndim)


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1, epsilon: float | None = None,
                        rms_scaling: bool = False) -> np.ndarray:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    if rms_scaling:  # Keras's formula: the variance, not the mean square, scales x
        outputs = x / np.sqrt(np.var(x, axis=dims, keepdims=True) + epsilon)
        return outputs if gamma is None else outputs * convert_to_tensor(gamma).reshape(_broadcast_shape(x, dims))
    mean = np.mean(x, axis=dims, keepdims=True)
    outputs = (x - mean) / np.sqrt(np.var(x, axis=dims, keepdims=True) + epsilon)
    if gamma is not None:
        outputs = outputs * convert_to_tensor(gamma).reshape(_broadcast_shape(x, dims))
    if beta is not None:
        outputs = outputs + convert_to_tensor(beta).reshape(_broadcast_shape(x, dims))
    return outputs


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None) -> np.ndarray:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    outputs = x / np.sqrt(np.mean(np.square(x), axis=dims, keepdims=True) + epsilon)
    if scale is not None:
        outputs = outputs * convert_to_tensor(scale).reshape(_broadcast_shape(x, dims))
    return outputs


def normalize(x: Any, axis: Any = -1, order: Any = 2, epsilon: float | None = None) -> np.ndarray:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim)
    if order == 2:
        return x / np.sqrt(np.maximum(np.sum(np.square(x), axis=dims, keepdims=True), epsilon))
    if len(dims) == 1:
        norm = np.linalg.norm(x, ord=order, axis=dims[0], keepdims=True)
    else:
        norm = np.sum(np.abs(x) ** order, axis=dims, keepdims=True) ** (1.0 / order)
    return x / np.maximum(norm, epsilon)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None, scale: Any = None,
                          is_causal: bool = False, flash_attention: Any = None,
                          attn_logits_soft_cap: Any = None) -> np.ndarray:
    """Keras layout: query (batch, target, heads, depth), key/value (batch, source, kv_heads, depth)."""
    query, key, value = (convert_to_tensor(t) for t in (query, key, value))
    repeats = query.shape[-2] // key.shape[-2]
    key, value = np.repeat(key, repeats, axis=-2), np.repeat(value, repeats, axis=-2)
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    logits = np.einsum("...tnh,...snh->...nts", query, key) * scale
    if attn_logits_soft_cap is not None:
        logits = attn_logits_soft_cap * np.tanh(logits / attn_logits_soft_cap)
    if bias is not None:
        logits = logits + convert_to_tensor(bias)
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep = keep & np.asarray(mask, bool)
    if is_causal:
        keep = keep & np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -0.7 * np.finfo(logits.dtype).max).astype(logits.dtype)
    return np.einsum("...nts,...snh->...tnh", _softmax(logits), value).astype(query.dtype)


def batch_normalization_training(x: Any, axis: int, offset: Any = None, scale: Any = None,
                                 epsilon: float = 1e-3) -> tuple[Any, Any, Any]:
    """Normalized by the batch's own moments: (outputs, mean, variance)."""
    x = convert_to_tensor(x)
    mean, variance = moments(x, tuple(a for a in range(x.ndim) if a != axis % x.ndim))
    return batch_normalization(x, mean, variance, axis, offset, scale, epsilon), mean, variance
