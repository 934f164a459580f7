"""Neural-network ops of the torch backend: activations, convolution, pooling, fused RNNs, losses."""

from __future__ import annotations

from typing import Any

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
