"""Convolution and pooling of the torch backend (channels_last in, channels_last out)."""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F



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
