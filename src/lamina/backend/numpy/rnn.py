"""Recurrent layers of the NumPy backend: whole-layer loops for the standard cells, and the generic loop."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lamina.backend.numpy.nn import dense, relu, sigmoid


def _time_steps(inputs: Any, go_backwards: bool) -> np.ndarray:
    inputs = np.asarray(inputs)
    return inputs[:, ::-1] if go_backwards else inputs


def lstm(inputs: Any, h: Any, c: Any, kernel: Any, recurrent_kernel: Any, bias: Any | None,
         go_backwards: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LSTM over time (axis 1), sigmoid gates and tanh cell, Keras gate order i, f, c, o.

    kernel (features, 4 * units), recurrent_kernel (units, 4 * units), bias (4 * units).
    Returns (outputs (batch, time, units) in processing order, last h, last c).
    """
    h, c, recurrent_kernel = np.asarray(h), np.asarray(c), np.asarray(recurrent_kernel)
    projected = dense(_time_steps(inputs, go_backwards), kernel, bias)  # (batch, time, 4 * units)
    outputs = []
    for t in range(projected.shape[1]):
        i, f, g, o = np.split(projected[:, t] + h @ recurrent_kernel, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


def gru(inputs: Any, h: Any, kernel: Any, recurrent_kernel: Any, bias: Any | None,
        go_backwards: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """GRU over time, reset gate after the recurrent matmul, Keras gate order z, r, h; bias (2, 3 * units)."""
    h, recurrent_kernel = np.asarray(h), np.asarray(recurrent_kernel)
    input_bias, recurrent_bias = (None, 0.0) if bias is None else (np.asarray(bias)[0], np.asarray(bias)[1])
    projected = dense(_time_steps(inputs, go_backwards), kernel, input_bias)
    outputs = []
    for t in range(projected.shape[1]):
        x_z, x_r, x_h = np.split(projected[:, t], 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ recurrent_kernel + recurrent_bias, 3, axis=-1)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        h = z * h + (1.0 - z) * np.tanh(x_h + r * h_h)
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def simple_rnn(inputs: Any, h: Any, kernel: Any, recurrent_kernel: Any, bias: Any | None,
               activation: str, go_backwards: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Elman RNN with tanh or relu; returns (outputs in processing order, last h)."""
    h, recurrent_kernel = np.asarray(h), np.asarray(recurrent_kernel)
    act = np.tanh if activation == "tanh" else relu
    projected = dense(_time_steps(inputs, go_backwards), kernel, bias)
    outputs = []
    for t in range(projected.shape[1]):
        h = act(projected[:, t] + h @ recurrent_kernel)
        outputs.append(h)
    return np.stack(outputs, axis=1), h


def _keep(mask_t: np.ndarray, like: np.ndarray) -> np.ndarray:
    return mask_t.reshape(mask_t.shape + (1,) * (np.ndim(like) - 1))


def _map(fn: Callable, x: Any, *rest: Any) -> Any:
    """fn over an array, or over each array of a list or tuple (several inputs or outputs per step)."""
    if isinstance(x, (list, tuple)):
        return type(x)(fn(*items) for items in zip(x, *rest))
    return fn(x, *rest)


def rnn(step: Callable[[Any, list], tuple[Any, list]], inputs: Any,
        states: list, go_backwards: bool = False, mask: Any = None,
        unroll: bool = False, zero_output_for_mask: bool = False) -> tuple[Any, list]:
    """Generic recurrence over time (axis 1); a Python loop, so always unrolled.

    inputs: an array, or a list or tuple of them (then steps get and may return such lists).
    mask (batch, time) of bools: where False, a step keeps the previous states, and its output is the
    previous output (zeros at first), or zeros with zero_output_for_mask.
    """
    inputs = _map(np.asarray, inputs)
    mask = None if mask is None else np.asarray(mask)
    time = (inputs[0] if isinstance(inputs, (list, tuple)) else inputs).shape[1]
    outputs: list = []
    for t in (range(time - 1, -1, -1) if go_backwards else range(time)):
        output, new_states = step(_map(lambda x: x[:, t], inputs), states)
        if mask is not None:
            keep = mask[:, t]
            previous = outputs[-1] if outputs and not zero_output_for_mask else _map(np.zeros_like, output)
            output = _map(lambda new, old: np.where(_keep(keep, new), new, old), output, previous)
            new_states = [np.where(_keep(keep, new), new, old) for new, old in zip(new_states, states)]
        states = list(new_states)
        outputs.append(output)
    if isinstance(outputs[0], (list, tuple)):
        return type(outputs[0])(np.stack(list(o), axis=1) for o in zip(*outputs)), states
    return np.stack(outputs, axis=1), states
