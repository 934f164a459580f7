"""Neural-network ops of the torch backend: activations, convolution, pooling, fused RNNs, losses."""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F

from lamina.backend.logits import ACTIVATIONS
from lamina.backend.torch.core import convert_to_tensor

relu = torch.relu
tanh = torch.tanh
softplus = F.softplus
softsign = F.softsign
silu = F.silu
selu = F.selu
relu6 = F.relu6
hard_sigmoid = F.hardsigmoid


def _record_logits(probabilities: torch.Tensor, logits: torch.Tensor, activation: str,
                   axis: int | None = None) -> torch.Tensor:
    # An attribute on the output tensor, not a table keyed by id(): torch.compile traces attributes.
    axis = None if axis is None else axis % max(probabilities.ndim, 1)
    probabilities._lamina_logits = (logits, activation, axis)
    return probabilities


def logits_of(probabilities: Any, activation: str = "softmax", axis: int = -1) -> torch.Tensor | None:
    """The logits that `activation` ("softmax" over `axis`, or "sigmoid") turned into exactly this
    `probabilities` tensor, or None when it came from anywhere else."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    entry = getattr(probabilities, "_lamina_logits", None)
    if entry is None or entry[1] != activation:
        return None
    if activation == "softmax" and entry[2] != axis % max(probabilities.ndim, 1):
        return None
    return entry[0]


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    return _record_logits(torch.sigmoid(x), x, "sigmoid")


def elu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    return F.elu(x, alpha)


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.2) -> torch.Tensor:
    return F.leaky_relu(x, negative_slope)


def gelu(x: torch.Tensor, approximate: bool = True) -> torch.Tensor:
    return F.gelu(x, approximate="tanh" if approximate else "none")


def softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return _record_logits(torch.softmax(x, dim=axis), x, "softmax", axis)


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return torch.log_softmax(x, dim=axis)


def dense(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x @ kernel + bias as one fused call."""
    if bias is not None and x.ndim == 2:
        return torch.addmm(bias, x, kernel)
    output = torch.matmul(x, kernel)
    return output if bias is None else output + bias


def dropout(x: torch.Tensor, rate: float, seed: Any = None) -> torch.Tensor:
    return F.dropout(x, rate, training=True)


# --- convolution and pooling (channels_last in, channels_last out) ----------------------------

def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: Sequence[int], strides: Sequence[int],
              dilation: Sequence[int], value: float = 0.0) -> torch.Tensor:
    """Pad a channels_first tensor the way 'same' padding pads (extra cell at the end)."""
    spatial = x.shape[2:]
    pads: list[int] = []
    for size, k, s, d in reversed(list(zip(spatial, kernel, strides, dilation))):
        pads.extend(_same_padding(size, k, s, d))
    return F.pad(x, pads, value=value) if any(pads) else x


def _to_channels_first(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def _to_channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, *range(2, x.ndim), 1)


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def conv(inputs: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int], padding: str,
         dilation_rate: Sequence[int], groups: int = 1) -> torch.Tensor:
    """N-d convolution; inputs (batch, *spatial, channels), kernel (*window, in/groups, out)."""
    rank = inputs.ndim - 2
    x = _to_channels_first(inputs)
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (out, in, *window)
    if padding == "same":
        x = _pad_same(x, kernel.shape[:rank], strides, dilation_rate)
    output = _CONV[rank](x, weight, None, tuple(strides), 0, tuple(dilation_rate), groups)
    return _to_channels_last(output)


def max_pool(inputs: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> torch.Tensor:
    rank = inputs.ndim - 2
    x = _to_channels_first(inputs)
    if padding == "same":
        x = _pad_same(x, pool_size, strides, (1,) * rank, value=-math.inf)
    return _to_channels_last(_MAX_POOL[rank](x, tuple(pool_size), tuple(strides)))


def average_pool(inputs: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> torch.Tensor:
    rank = inputs.ndim - 2
    x = _to_channels_first(inputs)
    if padding == "same":
        # The average covers only the real cells: pool the padded sum and divide by the cell count.
        ones = torch.ones_like(x[:1, :1])
        summed = _AVG_POOL[rank](_pad_same(x, pool_size, strides, (1,) * rank), tuple(pool_size), tuple(strides))
        counts = _AVG_POOL[rank](_pad_same(ones, pool_size, strides, (1,) * rank), tuple(pool_size), tuple(strides))
        return _to_channels_last(summed / counts)
    return _to_channels_last(_AVG_POOL[rank](x, tuple(pool_size), tuple(strides)))


# --- recurrent layers ---------------------------------------------------------------------------

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


# --- loss building blocks: from probabilities (clipped to [1e-7, 1 - 1e-7]) or from logits ---------

def categorical_crossentropy(target: Any, output: torch.Tensor, from_logits: bool = False,
                             axis: int = -1) -> torch.Tensor:
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return -(target * torch.log_softmax(output, dim=axis)).sum(dim=axis)
    output = output / output.sum(dim=axis, keepdim=True)
    output = output.clamp(1e-7, 1.0 - 1e-7)
    return -(target * torch.log(output)).sum(dim=axis)


def sparse_categorical_crossentropy(target: Any, output: torch.Tensor, from_logits: bool = False,
                                    axis: int = -1) -> torch.Tensor:
    target = convert_to_tensor(target).long()
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if from_logits:
        log_probabilities = torch.log_softmax(output, dim=axis)
    else:
        log_probabilities = torch.log(output.clamp(1e-7, 1.0 - 1e-7))
    if axis not in (-1, output.ndim - 1):
        log_probabilities = log_probabilities.movedim(axis, -1)
    return -log_probabilities.gather(-1, target.unsqueeze(-1)).squeeze(-1)


def binary_crossentropy(target: Any, output: torch.Tensor, from_logits: bool = False) -> torch.Tensor:
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = output.clamp(1e-7, 1.0 - 1e-7)
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))
