"""Neural-network ops of the jax backend: activations, convolution, pooling, scanned RNNs, losses."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
from jax import lax

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


# --- convolution and pooling (channels_last) -------------------------------------------------

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


# --- recurrent layers (lax.scan over time) ----------------------------------------------------

def _time_major(x: Any, go_backwards: bool) -> Any:
    x = jnp.swapaxes(x, 0, 1)
    return jnp.flip(x, 0) if go_backwards else x


# The input projection is done inside each step, not for all steps up front: on the CPU, XLA runs
# the scan twice as fast this way (measured on the LSTM benchmark).

def lstm(inputs: Any, h: Any, c: Any, kernel: Any, recurrent_kernel: Any, bias: Any,
         go_backwards: bool = False) -> tuple[Any, Any, Any]:
    """LSTM with sigmoid gates and tanh cell, gates in Keras order i, f, c, o."""
    kernel, recurrent_kernel = unwrap(kernel), unwrap(recurrent_kernel)
    bias = 0.0 if bias is None else unwrap(bias)

    def step(carry: tuple, x_t: Any) -> tuple:
        h, c = carry
        z = x_t @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    (h, c), outputs = lax.scan(step, (unwrap(h), unwrap(c)), _time_major(unwrap(inputs), go_backwards))
    return jnp.swapaxes(outputs, 0, 1), h, c


def simple_rnn(inputs: Any, h: Any, kernel: Any, recurrent_kernel: Any, bias: Any, activation: str,
               go_backwards: bool = False) -> tuple[Any, Any]:
    kernel, recurrent_kernel = unwrap(kernel), unwrap(recurrent_kernel)
    bias = 0.0 if bias is None else unwrap(bias)
    act = jnp.tanh if activation == "tanh" else jax.nn.relu

    def step(h: Any, x_t: Any) -> tuple:
        h = act(x_t @ kernel + h @ recurrent_kernel + bias)
        return h, h

    h, outputs = lax.scan(step, unwrap(h), _time_major(unwrap(inputs), go_backwards))
    return jnp.swapaxes(outputs, 0, 1), h


def rnn(step: Callable[[Any, list], tuple[Any, list]], inputs: Any, states: list,
        go_backwards: bool = False, mask: Any = None, unroll: bool = False) -> tuple[Any, list]:
    """Generic recurrence over time (axis 1), scanned; unroll=True unrolls the scan fully.

    mask (batch, time) of bools: where False, a step keeps the previous states and output (zeros at first).
    """
    inputs, states = _time_major(unwrap(inputs), go_backwards), [unwrap(s) for s in states]
    if mask is None:
        def body(carry: list, x_t: Any) -> tuple:
            output, carry = step(x_t, carry)
            return list(carry), output

        states, outputs = lax.scan(body, states, inputs, unroll=unroll)
        return jnp.swapaxes(outputs, 0, 1), states

    def masked_body(carry: tuple, step_inputs: tuple) -> tuple:
        (old_states, previous), (x_t, keep) = carry, step_inputs
        output, new_states = step(x_t, old_states)
        keep = keep[:, None]  # (batch, 1)
        output = jnp.where(keep, output, previous)
        new_states = [jnp.where(keep, new, old) for new, old in zip(new_states, old_states)]
        return (new_states, output), output

    first = jax.eval_shape(lambda x_t, s: step(x_t, s)[0], inputs[0], states)
    carry = (states, jnp.zeros(first.shape, first.dtype))
    (states, _), outputs = lax.scan(masked_body, carry, (inputs, _time_major(unwrap(mask), go_backwards)),
                                    unroll=unroll)
    return jnp.swapaxes(outputs, 0, 1), states


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
