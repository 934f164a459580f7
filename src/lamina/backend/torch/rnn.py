"""Recurrent layers of the torch backend: torch's fused kernels where they apply, else a loop."""

from __future__ import annotations

from typing import Any, Callable

import torch


def _fused_weights(kernel: torch.Tensor, recurrent_kernel: torch.Tensor, input_bias: torch.Tensor | None,
                   recurrent_bias: torch.Tensor | None) -> list[torch.Tensor]:
    """Keras's (in, gates * units) kernels as torch's (gates * units, in) weights, then the two biases."""
    weights = [kernel.t(), recurrent_kernel.t()]
    if input_bias is not None:
        weights += [input_bias, recurrent_bias if recurrent_bias is not None else torch.zeros_like(input_bias)]
    return weights


def _compiled_on_cpu(x: torch.Tensor) -> bool:
    """Whether torch.compile traces this call on the CPU, where inductor fails on the oneDNN recurrent kernels
    (torch.lstm and its kin): there a loop of plain ops runs instead, which inductor fuses itself."""
    return torch.compiler.is_compiling() and x.device.type == "cpu"


def _lstm_loop(inputs: torch.Tensor, h: torch.Tensor, c: torch.Tensor, kernel: torch.Tensor,
               recurrent_kernel: torch.Tensor,
               bias: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    projected = inputs @ kernel if bias is None else inputs @ kernel + bias
    outputs = []
    for t in range(inputs.shape[1]):
        i, f, g, o = (projected[:, t] + h @ recurrent_kernel).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h, c


def lstm(inputs: torch.Tensor, h: torch.Tensor, c: torch.Tensor, kernel: torch.Tensor,
         recurrent_kernel: torch.Tensor, bias: torch.Tensor | None,
         go_backwards: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fused LSTM (sigmoid gates, tanh cell); Keras gate order i, f, c, o matches torch's."""
    if go_backwards:
        inputs = torch.flip(inputs, (1,))
    if _compiled_on_cpu(inputs):
        return _lstm_loop(inputs, h, c, kernel, recurrent_kernel, bias)
    weights = _fused_weights(kernel, recurrent_kernel, bias, None)
    outputs, h_last, c_last = torch.lstm(inputs, (h[None], c[None]), weights, bias is not None,
                                         1, 0.0, torch.is_grad_enabled(), False, True)
    return outputs, h_last[0], c_last[0]


def _z_r_h_to_r_z_h(x: torch.Tensor) -> torch.Tensor:
    """Keras's GRU gate blocks z, r, h (last axis) in torch's order r, z, n."""
    z, r, h = torch.chunk(x, 3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


def _gru_loop(inputs: torch.Tensor, h: torch.Tensor, kernel: torch.Tensor, recurrent_kernel: torch.Tensor,
              bias: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    projected = inputs @ kernel if bias is None else inputs @ kernel + bias[0]
    outputs = []
    for t in range(inputs.shape[1]):
        recurrent = h @ recurrent_kernel if bias is None else h @ recurrent_kernel + bias[1]
        x_z, x_r, x_h = projected[:, t].chunk(3, dim=-1)
        h_z, h_r, h_h = recurrent.chunk(3, dim=-1)
        z, r = torch.sigmoid(x_z + h_z), torch.sigmoid(x_r + h_r)
        h = z * h + (1.0 - z) * torch.tanh(x_h + r * h_h)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


def gru(inputs: torch.Tensor, h: torch.Tensor, kernel: torch.Tensor, recurrent_kernel: torch.Tensor,
        bias: torch.Tensor | None, go_backwards: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused GRU with the reset gate after the recurrent matmul (torch's formula, Keras's reset_after=True)."""
    if go_backwards:
        inputs = torch.flip(inputs, (1,))
    if _compiled_on_cpu(inputs):
        return _gru_loop(inputs, h, kernel, recurrent_kernel, bias)
    biases = (None, None) if bias is None else (_z_r_h_to_r_z_h(bias[0]), _z_r_h_to_r_z_h(bias[1]))
    weights = _fused_weights(_z_r_h_to_r_z_h(kernel), _z_r_h_to_r_z_h(recurrent_kernel), *biases)
    outputs, h_last = torch.gru(inputs, h[None], weights, bias is not None, 1, 0.0,
                                torch.is_grad_enabled(), False, True)
    return outputs, h_last[0]


def simple_rnn(inputs: torch.Tensor, h: torch.Tensor, kernel: torch.Tensor,
               recurrent_kernel: torch.Tensor, bias: torch.Tensor | None, activation: str,
               go_backwards: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Fused Elman RNN with tanh or relu."""
    if go_backwards:
        inputs = torch.flip(inputs, (1,))
    if _compiled_on_cpu(inputs):
        act = torch.tanh if activation == "tanh" else torch.relu
        projected = inputs @ kernel if bias is None else inputs @ kernel + bias
        outputs = []
        for t in range(inputs.shape[1]):
            h = act(projected[:, t] + h @ recurrent_kernel)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h
    weights = _fused_weights(kernel, recurrent_kernel, bias, None)
    fused = torch.rnn_tanh if activation == "tanh" else torch.rnn_relu
    outputs, h_last = fused(inputs, h[None], weights, bias is not None, 1, 0.0,
                            torch.is_grad_enabled(), False, True)
    return outputs, h_last[0]


def _keep(mask_t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """mask_t (batch,) shaped to broadcast against `like` (batch, ...)."""
    return mask_t.reshape(mask_t.shape + (1,) * (like.dim() - 1))


def _map(fn: Callable, x: Any, *rest: Any) -> Any:
    """fn over a tensor, or over each tensor of a list or tuple (several inputs or outputs per step)."""
    if isinstance(x, (list, tuple)):
        return type(x)(fn(*items) for items in zip(x, *rest))
    return fn(x, *rest)


def rnn(step: Callable[[Any, list], tuple[Any, list]], inputs: Any, states: list,
        go_backwards: bool = False, mask: torch.Tensor | None = None, unroll: bool = False,
        zero_output_for_mask: bool = False) -> tuple[Any, list]:
    """Generic recurrence over time (axis 1) for cells without a fused kernel; a Python loop, so always unrolled.

    inputs: a tensor, or a list or tuple of them (then steps get and may return such lists).
    mask (batch, time) of bools: where False, a step keeps the previous states, and its output is the
    previous output (zeros at first), or zeros with zero_output_for_mask.
    """
    time = (inputs[0] if isinstance(inputs, (list, tuple)) else inputs).shape[1]
    outputs: list = []
    for t in (range(time - 1, -1, -1) if go_backwards else range(time)):
        output, new_states = step(_map(lambda x: x[:, t], inputs), states)
        if mask is not None:
            keep = mask[:, t]
            previous = outputs[-1] if outputs and not zero_output_for_mask else _map(torch.zeros_like, output)
            output = _map(lambda new, old: torch.where(_keep(keep, new), new, old), output, previous)
            new_states = [torch.where(_keep(keep, new), new, old) for new, old in zip(new_states, states)]
        states = list(new_states)
        outputs.append(output)
    if isinstance(outputs[0], (list, tuple)):
        return type(outputs[0])(torch.stack(list(o), dim=1) for o in zip(*outputs)), states
    return torch.stack(outputs, dim=1), states
