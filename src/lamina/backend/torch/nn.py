"""Neural-network ops of the torch backend: activations, convolution, pooling, fused RNNs, losses."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from lamina.backend.logits import ACTIVATIONS
from lamina.backend.torch import random as _random
from lamina.backend.torch.core import convert_to_tensor

relu = torch.relu
tanh = torch.tanh
softplus = F.softplus


def softsign(x: torch.Tensor) -> torch.Tensor:
    return F.softsign(x)


def silu(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


def selu(x: torch.Tensor) -> torch.Tensor:
    return F.selu(x)


def relu6(x: torch.Tensor) -> torch.Tensor:
    return F.relu6(x)


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.hardsigmoid(x)


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
    # Under torch.inference_mode tensors carry no version counter to tell whether the logits changed since.
    if torch.compiler.is_compiling() or x.is_inference():
        return _record_logits(torch.softmax(x, dim=axis), x, "softmax", axis)
    # Eagerly, exp(log_softmax) is the softmax at a quarter of the cost of another softmax pass, and a
    # cross-entropy from these logits reuses the log-probabilities instead of computing them again.
    log_probabilities = torch.log_softmax(x, dim=axis)
    x._lamina_log_softmax = (axis % max(x.ndim, 1), x._version, log_probabilities)
    return _record_logits(torch.exp(log_probabilities), x, "softmax", axis)


def _log_softmax_of(logits: torch.Tensor, axis: int) -> torch.Tensor:
    """log_softmax(logits) over axis, taken from the softmax that computed it when the logits are unchanged."""
    if torch.compiler.is_compiling() or logits.is_inference():  # softmax kept no log-probabilities there
        return torch.log_softmax(logits, dim=axis)
    known = getattr(logits, "_lamina_log_softmax", None)
    if known is not None and known[0] == axis % max(logits.ndim, 1) and known[1] == logits._version:
        return known[2]
    return torch.log_softmax(logits, dim=axis)


def log_softmax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return torch.log_softmax(x, dim=axis)


def dense(x: torch.Tensor, kernel: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x @ kernel + bias as one fused call."""
    if bias is not None and x.ndim == 2:
        return torch.addmm(bias, x, kernel)
    output = torch.matmul(x, kernel)
    return output if bias is None else output + bias


def dropout(x: torch.Tensor, rate: float, seed: Any = None) -> torch.Tensor:
    return _random.dropout_draw(x, rate, seed)


# --- loss building blocks: from probabilities (clipped to [1e-7, 1 - 1e-7]) or from logits ---------

def categorical_crossentropy(target: Any, output: torch.Tensor, from_logits: bool = False,
                             axis: int = -1) -> torch.Tensor:
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return -(target * _log_softmax_of(output, axis)).sum(dim=axis)
    output = output / output.sum(dim=axis, keepdim=True)
    output = output.clamp(1e-7, 1.0 - 1e-7)
    return -(target * torch.log(output)).sum(dim=axis)


def sparse_categorical_crossentropy(target: Any, output: torch.Tensor, from_logits: bool = False,
                                    axis: int = -1) -> torch.Tensor:
    target = convert_to_tensor(target).long()
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = target.squeeze(-1)
    if from_logits:
        log_probabilities = _log_softmax_of(output, axis)
    else:
        log_probabilities = torch.log(output.clamp(1e-7, 1.0 - 1e-7))
    if axis not in (-1, output.ndim - 1):
        log_probabilities = log_probabilities.movedim(axis, -1)
    if log_probabilities.ndim == 2 and target.ndim == 1:  # one kernel each way, where gather takes three
        # An ignore_index no label can hold: a label of -100 (nll_loss's default) fails as any other bad label.
        return F.nll_loss(log_probabilities, target, reduction="none", ignore_index=_NO_IGNORED_CLASS)
    return -log_probabilities.gather(-1, target.unsqueeze(-1)).squeeze(-1)


_NO_IGNORED_CLASS = torch.iinfo(torch.int64).min


def binary_crossentropy(target: Any, output: torch.Tensor, from_logits: bool = False) -> torch.Tensor:
    target = convert_to_tensor(target, output.dtype)
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    output = output.clamp(1e-7, 1.0 - 1e-7)
    return -(target * torch.log(output) + (1.0 - target) * torch.log(1.0 - output))


# --- the rest of keras.ops.nn's activations -----------------------------------------------------------

def celu(x: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    return F.celu(x, alpha)


def glu(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    _check_even(x.shape, axis, "glu")
    return F.glu(x, axis)


def hard_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    return F.hardshrink(x, threshold)


def hard_silu(x: torch.Tensor) -> torch.Tensor:
    return F.hardswish(x)


hard_swish = hard_silu


def hard_tanh(x: torch.Tensor) -> torch.Tensor:
    return F.hardtanh(x)


def log_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return F.logsigmoid(x)


def soft_shrink(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    return F.softshrink(x, threshold)


def sparse_plus(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= -1.0, 0.0, torch.where(x >= 1.0, x, 0.25 * (x + 1.0) ** 2))


def sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(0.5 * (x + 1.0), 0.0, 1.0)


def squareplus(x: torch.Tensor, b: float = 4) -> torch.Tensor:
    return 0.5 * (x + torch.sqrt(x * x + b))


def tanh_shrink(x: torch.Tensor) -> torch.Tensor:
    return F.tanhshrink(x)


def threshold(x: torch.Tensor, threshold: float, default_value: float) -> torch.Tensor:
    return F.threshold(x, threshold, default_value)


def swish(x: torch.Tensor) -> torch.Tensor:
    return F.silu(x)


def sparsemax(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    """The Euclidean projection of x onto the probability simplex along axis."""
    ranked = torch.sort(x, dim=axis, descending=True).values
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    rank = torch.arange(1, x.shape[axis] + 1, dtype=x.dtype, device=x.device).reshape(shape)
    cumulative = ranked.cumsum(dim=axis)
    k = (1.0 + rank * ranked > cumulative).sum(dim=axis, keepdim=True)  # how many entries stay positive
    tau = (cumulative.gather(axis, k - 1) - 1.0) / k
    return torch.clamp(x - tau, min=0.0)


def polar(abs_: Any, angle: Any) -> torch.Tensor:
    return torch.polar(convert_to_tensor(abs_), convert_to_tensor(angle))


def _check_even(shape: Any, axis: int, op: str) -> None:
    if shape[axis] % 2:
        raise ValueError(f"{op} splits axis {axis} in two halves; it needs an even length, got shape {tuple(shape)}.")


# --- CTC ----------------------------------------------------------------------------------------------

def ctc_loss(target: Any, output: torch.Tensor, target_length: Any, output_length: Any,
             mask_index: int = 0) -> torch.Tensor:
    """The CTC loss per sample, from logits output (batch, time, classes) and padded labels target."""
    log_probabilities = torch.log_softmax(convert_to_tensor(output).float(), dim=-1).transpose(0, 1)
    return F.ctc_loss(log_probabilities, convert_to_tensor(target).long(),
                      convert_to_tensor(output_length).long(), convert_to_tensor(target_length).long(),
                      blank=mask_index, reduction="none")


def ctc_greedy_decode(inputs: Any, sequence_lengths: Any, merge_repeated: bool = True,
                      mask_index: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The best path per sample, labels first and -1 after; and minus the sum of the chosen logits."""
    inputs = convert_to_tensor(inputs).float()
    scores, labels = inputs.max(dim=-1)
    steps = torch.arange(inputs.shape[1], device=inputs.device)
    past_end = steps[None, :] >= convert_to_tensor(sequence_lengths)[:, None]
    labels = torch.where(past_end, mask_index, labels)
    scores = torch.where(past_end, 0.0, scores)
    if merge_repeated:
        repeated = F.pad(labels[:, 1:] == labels[:, :-1], (1, 0))
        labels = torch.where(repeated, mask_index, labels)
    blank = labels == mask_index
    order = torch.sort(blank.to(torch.uint8), dim=1, stable=True).indices  # kept labels first, in order
    labels = torch.where(blank, -1, labels).gather(1, order)
    return labels[None], -scores.sum(dim=1, keepdim=True)


# --- sliding blocks (NCHW) ----------------------------------------------------------------------------

def unfold(x: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> torch.Tensor:
    """The sliding blocks of an NCHW batch as (batch, channels * kernel positions, blocks)."""
    return F.unfold(convert_to_tensor(x), kernel_size, dilation=dilation, padding=padding, stride=stride)


def fold(x: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> torch.Tensor:
    """unfold's inverse: blocks (batch, channels * kernel positions, blocks) summed into an NCHW image."""
    return F.fold(convert_to_tensor(x), output_size, kernel_size, dilation=dilation, padding=padding,
                  stride=stride)
