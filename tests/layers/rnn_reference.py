"""NumPy references of the recurrent cells (Keras's formulas and gate orders), stepped over time."""

from __future__ import annotations

from typing import Callable

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip((x + 3.0) / 6.0, 0.0, 1.0)


def run_reference(cell: Callable, x: np.ndarray, states: list[np.ndarray], go_backwards: bool = False,
                  mask: np.ndarray | None = None, zero_output_for_mask: bool = False) -> tuple:
    """Step `cell(x_t, states) -> states` (output = states[0]) over time; masked steps keep the states and
    repeat the previous output (zeros at first, or always zeros with zero_output_for_mask).
    Returns the outputs (processing order) and the last states."""
    outputs: list[np.ndarray] = []
    for t in (reversed(range(x.shape[1])) if go_backwards else range(x.shape[1])):
        new_states = cell(x[:, t], states)
        output = new_states[0]
        if mask is not None:
            keep = mask[:, t].reshape((-1,) + (1,) * (output.ndim - 1))
            previous = outputs[-1] if outputs and not zero_output_for_mask else np.zeros_like(output)
            output = np.where(keep, output, previous)
            new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
        states = new_states
        outputs.append(output)
    return np.stack(outputs, axis=1), states


def simple_rnn_cell(weights: list, activation: Callable = np.tanh) -> Callable:
    kernel, recurrent_kernel, bias = weights
    return lambda x_t, states: [activation(x_t @ kernel + states[0] @ recurrent_kernel + bias)]


def lstm_cell(weights: list, activation: Callable = np.tanh, gate: Callable = sigmoid) -> Callable:
    """Keras's LSTM: kernel columns are the gates i, f, c, o."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]

    def cell(x_t: np.ndarray, states: list) -> list:
        h, c = states
        z = x_t @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
        c = gate(f) * c + gate(i) * activation(g)
        return [gate(o) * activation(c), c]

    return cell


def gru_cell(weights: list, reset_after: bool = True) -> Callable:
    """Keras's GRU: kernel columns are the gates z, r, h; reset_after keeps a separate recurrent bias."""
    kernel, recurrent_kernel, bias = weights
    units = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * units))

    def cell(x_t: np.ndarray, states: list) -> list:
        h = states[0]
        x_z, x_r, x_h = np.split(x_t @ kernel + input_bias, 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ recurrent_kernel + recurrent_bias, 3, axis=-1)
        z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
        if reset_after:
            candidate = np.tanh(x_h + r * h_h)
        else:
            candidate = np.tanh(x_h + (r * h) @ recurrent_kernel[:, 2 * units:])
        return [z * h + (1 - z) * candidate]

    return cell


def zeros(batch: int, units: int, count: int = 1) -> list[np.ndarray]:
    return [np.zeros((batch, units))] * count
