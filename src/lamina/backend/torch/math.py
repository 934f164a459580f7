"""keras.ops' math family on the torch backend: special functions, segment reductions, top-k, sequences.

The package imports it through linalg.py (whose star import re-exports it).
"""

from __future__ import annotations

from typing import Any

import torch

from lamina.backend.torch.core import convert_to_tensor

__all__ = ["cdist", "erf", "erfc", "erfinv", "extract_sequences", "in_top_k", "logdet", "logsumexp", "rsqrt",
           "segment_max", "segment_min", "segment_prod", "segment_sum", "top_k"]


def _floating(x: Any) -> torch.Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() else x.float()


def erf(x: Any) -> torch.Tensor:
    return torch.special.erf(_floating(x))


def erfc(x: Any) -> torch.Tensor:
    return torch.special.erfc(_floating(x))


def erfinv(x: Any) -> torch.Tensor:
    return torch.special.erfinv(_floating(x))


def rsqrt(x: Any) -> torch.Tensor:
    return torch.rsqrt(_floating(x))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _floating(x)
    axis = tuple(range(x.ndim)) if axis is None else axis
    return torch.logsumexp(x, dim=axis, keepdim=keepdims)


def logdet(x: Any) -> torch.Tensor:
    """log det x of a Hermitian positive-definite x."""
    return torch.logdet(_floating(x))


def cdist(x: Any, y: Any) -> torch.Tensor:
    """Euclidean distances between the rows of x (..., m, d) and of y (..., n, d): (..., m, n)."""
    x, y = _floating(x), _floating(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist expects x (..., m, d) and y (..., n, d) with the same d, got shapes "
                         f"{tuple(x.shape)} and {tuple(y.shape)}.")
    difference = x.unsqueeze(-2) - y.unsqueeze(-3)
    return torch.sqrt((difference * difference).sum(-1))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """The k largest values along the last axis and their indices (the lower index first among ties)."""
    values, indices = torch.sort(convert_to_tensor(x), dim=-1, descending=True, stable=True)
    return values[..., :k], indices[..., :k]


def in_top_k(targets: Any, predictions: Any, k: int) -> torch.Tensor:
    """Whether each target's prediction is among the k largest of its row (ties count as in)."""
    predictions = convert_to_tensor(predictions)
    target_values = predictions.gather(-1, convert_to_tensor(targets).long().unsqueeze(-1))
    kth = torch.topk(predictions, k, dim=-1).values[..., -1:]
    return (target_values >= kth).squeeze(-1)


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> torch.Tensor:
    """Frames of sequence_length along the last axis, every sequence_stride: (..., frames, sequence_length)."""
    return convert_to_tensor(x).unfold(-1, sequence_length, sequence_stride)


def _segment(data: Any, segment_ids: Any, num_segments: int | None, reduction: str) -> torch.Tensor:
    data = convert_to_tensor(data)
    segment_ids = convert_to_tensor(segment_ids).long()
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1  # a host read: pass num_segments inside compiled code
    # ids out of [0, num_segments) go to one extra row, dropped at the end
    segment_ids = torch.where((segment_ids >= 0) & (segment_ids < num_segments), segment_ids, num_segments)
    index = segment_ids.reshape((-1,) + (1,) * (data.ndim - 1)).expand(data.shape)
    initial = {"sum": 0, "prod": 1, "amax": -float("inf") if data.is_floating_point() else torch.iinfo(data.dtype).min,
               "amin": float("inf") if data.is_floating_point() else torch.iinfo(data.dtype).max}[reduction]
    result = torch.full((num_segments + 1,) + tuple(data.shape[1:]), initial, dtype=data.dtype, device=data.device)
    return result.scatter_reduce(0, index, data, reduction)[:-1]


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> torch.Tensor:
    return _segment(data, segment_ids, num_segments, "sum")


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> torch.Tensor:
    return _segment(data, segment_ids, num_segments, "prod")


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> torch.Tensor:
    return _segment(data, segment_ids, num_segments, "amax")


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> torch.Tensor:
    return _segment(data, segment_ids, num_segments, "amin")
