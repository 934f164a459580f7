"""Neural-network ops of the jax backend: activations, convolution, pooling, scanned RNNs, losses."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from lamina.backend import logits as _logits
from lamina.backend.jax.core import convert_to_tensor, unwrap
from lamina.backend.jax.numpy import _unwrapping

logits_of = _logits.logits_of

relu = _unwrapping(jax.nn.relu)
relu6 = _unwrapping(jax.nn.relu6)
tanh = _unwrapping(jnp.tanh)
softplus = _unwrapping(jax.nn.softplus)
softsign = _unwrapping(jax.nn.soft_sign)
silu = _unwrapping(jax.nn.silu)
selu = _unwrapping(jax.nn.selu)


def sigmoid(x: Any) -> Any:
    x = unwrap(x)
    return _logits.record_logits(jax.nn.sigmoid(x), x, "sigmoid")


def hard_sigmoid(x: Any) -> Any:
    return jax.nn.relu6(unwrap(x) + 3.0) / 6.0


def elu(x: Any, alpha: float = 1.0) -> Any:
    return jax.nn.elu(unwrap(x), alpha)


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    return jax.nn.leaky_relu(unwrap(x), negative_slope)


def gelu(x: Any, approximate: bool = True) -> Any:
    return jax.nn.gelu(unwrap(x), approximate=approximate)


def softmax(x: Any, axis: int = -1) -> Any:
    x = unwrap(x)
    return _logits.record_logits(jax.nn.softmax(x, axis=axis), x, "softmax", axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return jax.nn.log_softmax(unwrap(x), axis=axis)


def dense(x: Any, kernel: Any, bias: Any) -> Any:
    output = jnp.matmul(unwrap(x), unwrap(kernel))
    return output if bias is None else output + unwrap(bias)


def dropout(x: Any, rate: float, seed: Any) -> Any:
    x = unwrap(x)
    keep = jax.random.bernoulli(seed.next(), 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0)


# --- loss building blocks: from probabilities (clipped to [1e-7, 1 - 1e-7]) or from logits ---------

def categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Any:
    output = unwrap(output)
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return -jnp.sum(target * jax.nn.log_softmax(output, axis=axis), axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    output = jnp.clip(output, 1e-7, 1.0 - 1e-7)
    return -jnp.sum(target * jnp.log(output), axis=axis)


def sparse_categorical_crossentropy(target: Any, output: Any, from_logits: bool = False, axis: int = -1) -> Any:
    output = unwrap(output)
    target = jnp.asarray(unwrap(target)).astype(jnp.int32)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if from_logits:
        log_probabilities = jax.nn.log_softmax(output, axis=axis)
    else:
        log_probabilities = jnp.log(jnp.clip(output, 1e-7, 1.0 - 1e-7))
    log_probabilities = jnp.moveaxis(log_probabilities, axis, -1)
    return -jnp.take_along_axis(log_probabilities, target[..., None], axis=-1)[..., 0]


def binary_crossentropy(target: Any, output: Any, from_logits: bool = False) -> Any:
    output = unwrap(output)
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return jnp.maximum(output, 0.0) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    output = jnp.clip(output, 1e-7, 1.0 - 1e-7)
    return -(target * jnp.log(output) + (1.0 - target) * jnp.log(1.0 - output))
