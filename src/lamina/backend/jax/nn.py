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


# --- the rest of keras.ops.nn's activations -----------------------------------------------------------

def celu(x: Any, alpha: float = 1.0) -> Any:
    return jax.nn.celu(unwrap(x), alpha)


def glu(x: Any, axis: int = -1) -> Any:
    x = unwrap(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu splits axis {axis} in two halves; it needs an even length, got shape {x.shape}.")
    return jax.nn.glu(x, axis)


def hard_shrink(x: Any, threshold: float = 0.5) -> Any:
    x = unwrap(x)
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


def hard_silu(x: Any) -> Any:
    return jax.nn.hard_silu(unwrap(x))


hard_swish = hard_silu


def hard_tanh(x: Any) -> Any:
    return jax.nn.hard_tanh(unwrap(x))


def log_sigmoid(x: Any) -> Any:
    return jax.nn.log_sigmoid(unwrap(x))


def soft_shrink(x: Any, threshold: float = 0.5) -> Any:
    x = unwrap(x)
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


def sparse_plus(x: Any) -> Any:
    return jax.nn.sparse_plus(unwrap(x))


def sparse_sigmoid(x: Any) -> Any:
    return jax.nn.sparse_sigmoid(unwrap(x))


def squareplus(x: Any, b: float = 4) -> Any:
    return jax.nn.squareplus(unwrap(x), b)


def tanh_shrink(x: Any) -> Any:
    x = unwrap(x)
    return x - jnp.tanh(x)


def threshold(x: Any, threshold: float, default_value: float) -> Any:
    x = unwrap(x)
    return jnp.where(x > threshold, x, jnp.asarray(default_value, x.dtype))


def swish(x: Any) -> Any:
    return jax.nn.silu(unwrap(x))


def sparsemax(x: Any, axis: int = -1) -> Any:
    """The Euclidean projection of x onto the probability simplex along axis."""
    x = unwrap(x)
    ranked = -jnp.sort(-x, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    rank = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    cumulative = jnp.cumsum(ranked, axis=axis)
    k = jnp.sum(1.0 + rank * ranked > cumulative, axis=axis, keepdims=True)  # how many entries stay positive
    tau = (jnp.take_along_axis(cumulative, k - 1, axis=axis) - 1.0) / k
    return jnp.maximum(x - tau, 0.0)


def polar(abs_: Any, angle: Any) -> Any:
    abs_, angle = unwrap(abs_), unwrap(angle)
    return abs_ * (jnp.cos(angle) + 1j * jnp.sin(angle))


# --- CTC ----------------------------------------------------------------------------------------------

_LOG_ZERO = -1e30  # log(0) kept finite, so that gradients through masked paths stay 0, not NaN


def ctc_loss(target: Any, output: Any, target_length: Any, output_length: Any, mask_index: int = 0) -> Any:
    """The CTC loss per sample, from logits output (batch, time, classes) and padded labels target."""
    log_probabilities = jax.nn.log_softmax(jnp.asarray(unwrap(output), jnp.float32), axis=-1)
    target = jnp.asarray(unwrap(target), jnp.int32)
    target_length = jnp.asarray(unwrap(target_length), jnp.int32)
    output_length = jnp.asarray(unwrap(output_length), jnp.int32)
    batch, labels = target.shape
    # the labels with a blank before, between and after them: (batch, 2 * labels + 1)
    extended = jnp.full((batch, 2 * labels + 1), mask_index, jnp.int32).at[:, 1::2].set(target)
    # a label may follow the label two places before it, skipping a blank, unless both are the same label
    skip = jnp.concatenate([jnp.zeros((batch, 2), bool), (extended[:, 2:] != extended[:, :-2])
                            & (extended[:, 2:] != mask_index)], axis=1)
    emitted = jnp.take_along_axis(log_probabilities, extended[:, None, :], axis=2)  # (batch, time, 2L+1)
    emitted = jnp.moveaxis(emitted, 1, 0)

    def step(alpha: Any, inputs: Any) -> Any:
        log_probability, time = inputs
        previous = jnp.pad(alpha, ((0, 0), (1, 0)), constant_values=_LOG_ZERO)[:, :-1]
        before = jnp.pad(alpha, ((0, 0), (2, 0)), constant_values=_LOG_ZERO)[:, :-2]
        before = jnp.where(skip, before, _LOG_ZERO)
        updated = jnp.logaddexp(jnp.logaddexp(alpha, previous), before) + log_probability
        return jnp.where((time < output_length)[:, None], updated, alpha), None

    first = jnp.where(jnp.arange(2 * labels + 1) < 2, emitted[0], _LOG_ZERO)
    alpha, _ = jax.lax.scan(step, first, (emitted[1:], jnp.arange(1, emitted.shape[0])))
    last = jnp.take_along_axis(alpha, (2 * target_length)[:, None], axis=1)[:, 0]
    before_last = jnp.take_along_axis(alpha, jnp.maximum(2 * target_length - 1, 0)[:, None], axis=1)[:, 0]
    return -jnp.where(target_length > 0, jnp.logaddexp(last, before_last), last)


def ctc_greedy_decode(inputs: Any, sequence_lengths: Any, merge_repeated: bool = True,
                      mask_index: int = 0) -> tuple[Any, Any]:
    """The best path per sample, labels first and -1 after; and minus the sum of the chosen logits."""
    inputs = jnp.asarray(unwrap(inputs), jnp.float32)
    labels, scores = jnp.argmax(inputs, axis=-1), jnp.max(inputs, axis=-1)
    past_end = jnp.arange(inputs.shape[1])[None, :] >= jnp.asarray(unwrap(sequence_lengths))[:, None]
    labels = jnp.where(past_end, mask_index, labels)
    scores = jnp.where(past_end, 0.0, scores)
    if merge_repeated:
        repeated = jnp.pad(labels[:, 1:] == labels[:, :-1], ((0, 0), (1, 0)))
        labels = jnp.where(repeated, mask_index, labels)
    blank = labels == mask_index
    order = jnp.argsort(blank, axis=1, stable=True)  # kept labels first, in order
    labels = jnp.take_along_axis(jnp.where(blank, -1, labels), order, axis=1)
    return labels[None], -jnp.sum(scores, axis=1, keepdims=True)


# --- sliding blocks (NCHW) ----------------------------------------------------------------------------

def _pair(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """The sliding blocks of an NCHW batch as (batch, channels * kernel positions, blocks)."""
    x = unwrap(x)
    padding = _pair(padding)
    patches = jax.lax.conv_general_dilated_patches(
        x, _pair(kernel_size), _pair(stride), [(p, p) for p in padding], rhs_dilation=_pair(dilation),
        precision=jax.lax.Precision.HIGHEST)
    return patches.reshape(patches.shape[0], patches.shape[1], -1)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """unfold's inverse: blocks (batch, channels * kernel positions, blocks) summed into an NCHW image."""
    x = unwrap(x)
    (height, width), (kh, kw) = _pair(output_size), _pair(kernel_size)
    (dh, dw), (ph, pw), (sh, sw) = _pair(dilation), _pair(padding), _pair(stride)
    rows = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    columns = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    blocks = x.reshape(x.shape[0], -1, kh, kw, rows, columns)
    image = jnp.zeros((x.shape[0], blocks.shape[1], height + 2 * ph, width + 2 * pw), x.dtype)
    for i in range(kh):  # one strided scatter-add per kernel position
        for j in range(kw):
            image = image.at[:, :, i * dh:i * dh + sh * rows:sh, j * dw:j * dw + sw * columns:sw].add(
                blocks[:, :, i, j])
    return image[:, :, ph:ph + height, pw:pw + width]
