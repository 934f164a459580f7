"""Recurrent layers of the NumPy backend: fused kernels where the library has them, else a loop."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lamina.backend.numpy.nn import dense, relu, sigmoid



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
