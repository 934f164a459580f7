"""Normalization and attention of the torch backend: moments, batch norm, scaled dot-product attention."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from lamina.backend.torch.core import convert_to_tensor

DEFAULT_EPSILON = 1e-7


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes))


def _along(vector: Any, axis: int, ndim: int) -> torch.Tensor:
    """A 1-d per-channel vector shaped to broadcast along `axis` of an ndim-rank tensor."""
    vector = convert_to_tensor(vector)
    if vector.ndim != 1:
        return vector
    shape = [1] * ndim
    shape[axis % ndim] = -1
    return vector.reshape(shape)


def moments(x: Any, axes: Any, keepdims: bool = False, synchronized: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    x = convert_to_tensor(x)
    dims = _axes(axes, x.ndim)
    if x.dtype in (torch.float16, torch.bfloat16):  # accumulate in float32, as the statistics need it
        variance, mean = torch.var_mean(x.float(), dim=dims, correction=0, keepdim=keepdims)
        return mean.to(x.dtype), variance.to(x.dtype)
    variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=keepdims)
    return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, axis: int, offset: Any = None, scale: Any = None,
                        epsilon: float = 1e-3) -> torch.Tensor:
    x = convert_to_tensor(x)
    # One multiply-add over x: (x - mean) * inv + offset == x * inv + (offset - mean * inv).
    inverse = torch.rsqrt(_along(variance, axis, x.ndim) + epsilon)
    if scale is not None:
        inverse = inverse * _along(scale, axis, x.ndim)
    shift = -_along(mean, axis, x.ndim) * inverse
    if offset is not None:
        shift = shift + _along(offset, axis, x.ndim)
    return torch.addcmul(shift, x, inverse)


def layer_normalization(x: Any, gamma: Any = None, beta: Any = None, axis: Any = -1, epsilon: float | None = None,
                        rms_scaling: bool = False) -> torch.Tensor:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    if rms_scaling:  # Keras's formula: the variance, not the mean square, scales x
        outputs = x * torch.rsqrt(torch.var(x, dim=dims, correction=0, keepdim=True) + epsilon)
        return outputs if gamma is None else outputs * convert_to_tensor(gamma).reshape(
            [x.shape[d] if d in dims else 1 for d in range(x.ndim)])
    trailing = dims == tuple(range(x.ndim - len(dims), x.ndim))
    if trailing:
        shape = tuple(x.shape[d] for d in dims)
        gamma = None if gamma is None else convert_to_tensor(gamma).reshape(shape)
        beta = None if beta is None else convert_to_tensor(beta).reshape(shape)
        return F.layer_norm(x, shape, gamma, beta, epsilon)
    variance, mean = torch.var_mean(x, dim=dims, correction=0, keepdim=True)
    outputs = (x - mean) * torch.rsqrt(variance + epsilon)
    broadcast = [x.shape[d] if d in dims else 1 for d in range(x.ndim)]
    if gamma is not None:
        outputs = outputs * convert_to_tensor(gamma).reshape(broadcast)
    if beta is not None:
        outputs = outputs + convert_to_tensor(beta).reshape(broadcast)
    return outputs


def rms_normalization(x: Any, scale: Any = None, axis: Any = -1, epsilon: float | None = None) -> torch.Tensor:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = _axes(axis, x.ndim)
    if dims == tuple(range(x.ndim - len(dims), x.ndim)):
        shape = tuple(x.shape[d] for d in dims)
        weight = None if scale is None else convert_to_tensor(scale).reshape(shape)
        return F.rms_norm(x, shape, weight, epsilon)
    outputs = x * torch.rsqrt(torch.mean(torch.square(x), dim=dims, keepdim=True) + epsilon)
    if scale is not None:
        outputs = outputs * convert_to_tensor(scale).reshape([x.shape[d] if d in dims else 1 for d in range(x.ndim)])
    return outputs


def normalize(x: Any, axis: Any = -1, order: Any = 2, epsilon: float | None = None) -> torch.Tensor:
    x = convert_to_tensor(x)
    epsilon = DEFAULT_EPSILON if epsilon is None else epsilon
    dims = tuple(range(x.ndim)) if axis is None else _axes(axis, x.ndim)
    if order == 2:
        return x * torch.rsqrt(torch.clamp(torch.sum(torch.square(x), dim=dims, keepdim=True), min=epsilon))
    norm = torch.linalg.vector_norm(x, ord=order, dim=dims, keepdim=True)
    return x / torch.clamp(norm, min=epsilon)


def _large_negative(dtype: torch.dtype) -> float:
    return torch.finfo(dtype).min / 2  # twice of it (bias plus mask) still is no -inf


def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None, mask: Any = None, scale: Any = None,
                          is_causal: bool = False, flash_attention: Any = None,
                          attn_logits_soft_cap: Any = None) -> torch.Tensor:
    """Keras layout: query (batch, target, heads, depth), key/value (batch, source, kv_heads, depth)."""
    query, key, value = (convert_to_tensor(t) for t in (query, key, value))
    # (batch, heads, time, depth) for torch's fused kernel
    q, k, v = (t.transpose(-3, -2) for t in (query, key, value))
    repeats = q.shape[-3] // k.shape[-3]
    if repeats > 1:
        k, v = k.repeat_interleave(repeats, dim=-3), v.repeat_interleave(repeats, dim=-3)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    if attn_logits_soft_cap is not None:
        return _attention_with_cap(q, k, v, bias, mask, float(scale), is_causal, attn_logits_soft_cap)
    additive = _additive_mask(bias, mask, is_causal, q, k.shape[-2])
    causal = is_causal and additive is None
    outputs = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, is_causal=causal, scale=float(scale))
    return outputs.transpose(-3, -2)


def _additive_mask(bias: Any, mask: Any, is_causal: bool, q: torch.Tensor, source: int) -> torch.Tensor | None:
    """bias, mask and the causal mask as one additive tensor (None when there is none, or only the causal
    one, which the fused kernel applies itself). Masked logits get a large negative number rather than
    -inf, so that a fully masked row attends uniformly instead of giving NaN."""
    if mask is None and not (is_causal and bias is not None):
        return None if bias is None else convert_to_tensor(bias, q.dtype)
    if mask is not None:
        mask = convert_to_tensor(mask).to(torch.bool)
    if is_causal:
        causal = torch.ones(q.shape[-2], source, dtype=torch.bool, device=q.device).tril()
        mask = causal if mask is None else mask & causal
    additive = torch.where(mask, 0.0, _large_negative(q.dtype)).to(q.dtype)
    return additive if bias is None else additive + convert_to_tensor(bias, q.dtype)


def _attention_with_cap(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: Any, mask: Any, scale: float,
                        is_causal: bool, cap: float) -> torch.Tensor:
    logits = torch.matmul(q, k.transpose(-1, -2)) * scale
    logits = cap * torch.tanh(logits / cap)
    if bias is not None:
        logits = logits + convert_to_tensor(bias, logits.dtype)
    if mask is not None or is_causal:
        keep = torch.ones_like(logits, dtype=torch.bool)
        if mask is not None:
            keep = keep & convert_to_tensor(mask).to(torch.bool)
        if is_causal:
            keep = keep & torch.ones(logits.shape[-2:], dtype=torch.bool, device=logits.device).tril()
        logits = torch.where(keep, logits, _large_negative(logits.dtype))
    return torch.matmul(torch.softmax(logits, dim=-1), v).transpose(-3, -2)


def batch_normalization_training(x: Any, axis: int, offset: Any = None, scale: Any = None,
                                 epsilon: float = 1e-3) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """torch's fused batch norm (one kernel each way, fast on the channels-last layout a convolution leaves):
    (outputs, batch mean, biased batch variance)."""
    x = convert_to_tensor(x)
    axis = axis % x.ndim
    channels_second = x.movedim(axis, 1) if axis != 1 else x
    weight = None if scale is None else convert_to_tensor(scale)
    bias = None if offset is None else convert_to_tensor(offset)
    outputs, mean, inverse_std = torch.native_batch_norm(channels_second, weight, bias, None, None, True, 0.0,
                                                         epsilon)
    variance = torch.reciprocal(torch.square(inverse_std)) - epsilon
    return (outputs.movedim(1, axis) if axis != 1 else outputs), mean, variance
