"""Normalization and attention of the jax backend: moments, batch norm, scaled dot-product attention."""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from lamina.backend.jax.core import convert_to_tensor

DEFAULT_EPSILON = 1e-7


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def _along(vector: Any, axis: int, ndim: int) -> jax.Array:
    """A 1-d per-channel vector shaped to broadcast along `axis` of an ndim-rank array."""
    vector = convert_to_tensor(vector)
    if vector.ndim != 1:
        return vector
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return vector.reshape(shape)


def _broadcast_shape(x: jax.Array, dims: tuple[int, ...]) -> list[int]:
    return [x.shape[d] if d in dims else 1 for d in range(x.ndim)]


def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[jax.Array, jax.Array]:
    x = convert_to_tensor(x)
    dims = _axes(axes, x.ndim)
    wide = x.astype(jnp.float32) if x.dtype in (jnp.float16, jnp.bfloat16) else x
    mean = jnp.mean(wide, axis=dims, keepdims=True)
    # E[(x - mean)^2] with the mean held constant, which gives the same gradient as the variance
    variance = jnp.mean(jnp.square(wide - lax.stop_gradient(mean)), axis=dims, keepdims=True)
    if not keepdims:
        mean, variance = jnp.squeeze(mean, dims), jnp.squeeze(variance, dims)
    return mean.astype(x.dtype), variance.astype(x.dtype)


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> jax.Array:
    x = convert_to_tensor(x)
    inverse = lax.rsqrt(_along(variance, axis, x.ndim) + epsilon)
    if scale is not None:
        inverse = inverse * _along(scale, axis, x.ndim)
    shift = -_along(mean, axis, x.ndim) * inverse
    if offset is not None:
        shift = shift + _along(offset, axis, x.ndim)
    return x * inverse + shift


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1, epsilon: float | None = None,
                        rms_scaling: bool = False) -> jax.Array:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    if rms_scaling:  # Keras's formula: the variance, not the mean square, scales x
        outputs = x * lax.rsqrt(jnp.var(x, axis=dims, keepdims=True) + epsilon)
        return outputs if gamma is None else outputs * convert_to_tensor(gamma).reshape(_broadcast_shape(x, dims))
    mean = jnp.mean(x, axis=dims, keepdims=True)
    variance = jnp.mean(jnp.square(x - mean), axis=dims, keepdims=True)
    outputs = (x - mean) * lax.rsqrt(variance + epsilon)
    if gamma is not None:
        outputs = outputs * convert_to_tensor(gamma).reshape(_broadcast_shape(x, dims))
    if beta is not None:
        outputs = outputs + convert_to_tensor(beta).reshape(_broadcast_shape(x, dims))
    return outputs


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None) -> jax.Array:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    outputs = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=dims, keepdims=True) + epsilon)
    if scale is not None:
        outputs = outputs * convert_to_tensor(scale).reshape(_broadcast_shape(x, dims))
    return outputs


def normalize(x: Any, axis: Any = -1, order: Any = 2, epsilon: float | None = None) -> jax.Array:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim)
    if order == 2:
        return x * lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=dims, keepdims=True), epsilon))
    norm = jnp.linalg.vector_norm(x, ord=order, axis=dims, keepdims=True)
    return x / jnp.maximum(norm, epsilon)


def _rank4(x: Any, dtype: Any = None) -> jax.Array | None:
    if x is None:
        return None
    x = convert_to_tensor(x, dtype)
    return x.reshape((1,) * (4 - x.ndim) + x.shape) if x.ndim < 4 else x


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None, scale: Any = None,
                          is_causal: bool = False, flash_attention: Any = None,
                          attn_logits_soft_cap: Any = None) -> jax.Array:
    """Keras layout: query (batch, target, heads, depth), key/value (batch, source, kv_heads, depth)."""
    query, key, value = (convert_to_tensor(t) for t in (query, key, value))
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    bias, mask = _rank4(bias, query.dtype), _rank4(mask, "bool")
    # On the CPU, XLA runs the two einsums below about 1.8x faster than jax.nn's kernel (forward and backward,
    # measured at the Transformer benchmark's sizes); elsewhere jax.nn's kernel is the fast one.
    fused = jax.default_backend() != "cpu" or bool(flash_attention)
    if fused and attn_logits_soft_cap is None and value.shape[-1] == query.shape[-1]:
        return jax.nn.dot_product_attention(query, key, value, bias=bias, mask=mask, scale=scale, is_causal=is_causal)
    return _explicit_attention(query, key, value, bias, mask, scale, is_causal, attn_logits_soft_cap)


def _explicit_attention(query: jax.Array, key: jax.Array, value: jax.Array, bias: Any, mask: Any, scale: float,
                        is_causal: bool, cap: Any) -> jax.Array:
    """What jax.nn's kernel does not cover: a soft cap on the logits, values of another depth."""
    repeats = query.shape[-2] // key.shape[-2]
    if repeats > 1:
        key, value = jnp.repeat(key, repeats, axis=-2), jnp.repeat(value, repeats, axis=-2)
    # (batch, heads, target, source); the query is scaled, being smaller than the logits
    logits = jnp.einsum("btnh,bsnh->bnts", query * jnp.asarray(scale, query.dtype), key)
    if cap is not None:
        logits = cap * jnp.tanh(logits / cap)
    if bias is not None:
        logits = logits + bias
    keep = mask
    if is_causal:
        causal = jnp.tril(jnp.ones(logits.shape[-2:], bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = jnp.where(keep, logits, -0.7 * jnp.finfo(logits.dtype).max)
    return jnp.einsum("bnts,bsnh->btnh", jax.nn.softmax(logits, axis=-1), value)


def batch_normalization_training(x: Any, axis: int, offset: Any = None, scale: Any = None,
                                 epsilon: float = 1e-3) -> tuple[Any, Any, Any]:
    """Normalized by the batch's own moments: (outputs, mean, variance)."""
    x = convert_to_tensor(x)
    mean, variance = moments(x, tuple(a for a in range(x.ndim) if a != axis % x.ndim))
    return batch_normalization(x, mean, variance, axis, offset, scale, epsilon), mean, variance
