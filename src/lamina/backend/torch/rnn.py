"""Recurrent layers of the torch backend: fused kernels where the library has them, else a loop."""

from __future__ import annotations

from typing import Callable

import torch


def lstm(inputs: torch.Tensor, h: torch.Tensor, c: torch.Tensor, kernel: torch.Tensor,
         recurrent_kernel: torch.Tensor, bias: torch.Tensor | None,
         go_backwards: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fused LSTM (sigmoid gates, tanh cell); Keras gate order i, f, c, o matches torch's."""
    if go_backwards:
        inputs = torch.flip(inputs, (1,))
    weights = [kernel.t(), recurrent_kernel.t()]
    if bias is not None:
        weights += [bias, torch.zeros_like(bias)]
    outputs, h_last, c_last = torch.lstm(inputs, (h[None], c[None]), weights, bias is not None,
                                         1, 0.0, torch.is_grad_enabled(), False, True)
    return outputs, h_last[0], c_last[0]


def simple_rnn(inputs: torch.Tensor, h: torch.Tensor, kernel: torch.Tensor,
               recurrent_kernel: torch.Tensor, bias: torch.Tensor | None, activation: str,
               go_backwards: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused Elman RNN with tanh or relu."""
    if go_backwards:
        inputs = torch.flip(inputs, (1,))
    weights = [kernel.t(), recurrent_kernel.t()]
    if bias is not None:
        weights += [bias, torch.zeros_like(bias)]
    fused = torch.rnn_tanh if activation == "tanh" else torch.rnn_relu
    outputs, h_last = fused(inputs, h[None], weights, bias is not None, 1, 0.0,
                            torch.is_grad_enabled(), False, True)
    return outputs, h_last[0]


def rnn(step: Callable[[torch.Tensor, list], tuple[torch.Tensor, list]], inputs: torch.Tensor,
        states: list, go_backwards: bool = False, mask: torch.Tensor | None = None,
        unroll: bool = False) -> tuple[torch.Tensor, list]:
    """Generic recurrence over time (axis 1) for cells without a fused kernel; a Python loop, so always unrolled.

    mask (batch, time) of bools: where False, a step keeps the previous states and output (zeros at first).
    """
    steps = range(inputs.shape[1] - 1, -1, -1) if go_backwards else range(inputs.shape[1])
    outputs = []
    for t in steps:
        output, new_states = step(inputs[:, t], states)
        if mask is not None:
            keep = mask[:, t, None]  # (batch, 1)
            previous = outputs[-1] if outputs else torch.zeros_like(output)
            output = torch.where(keep, output, previous)
            new_states = [torch.where(keep, new, old) for new, old in zip(new_states, states)]
        states = new_states
        outputs.append(output)
    return torch.stack(outputs, dim=1), states
