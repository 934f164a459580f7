"""Convolution and pooling of the torch backend.

torch's kernels are channels_first: channels_last inputs are permuted once on the way in and once on the
way out. Padding is "valid", "same" (the odd cell at the end) or explicit (before, after) pairs per
spatial axis.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F

Padding = Any  # "valid", "same", or ((before, after), ...) per spatial axis


def _same_padding(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    effective = (kernel - 1) * dilation + 1
    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pairs(x: torch.Tensor, padding: Padding, window: Sequence[int], strides: Sequence[int],
           dilation: Sequence[int]) -> list[tuple[int, int]]:
    """(before, after) per spatial axis of a channels_first tensor."""
    if padding == "valid":
        return [(0, 0)] * len(window)
    if padding == "same":
        return [_same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[2:], window, strides, dilation)]
    return [(int(before), int(after)) for before, after in padding]


def _pad(x: torch.Tensor, pairs: Sequence[tuple[int, int]], value: float = 0.0) -> torch.Tensor:
    """Pads (or, for negative amounts, crops) the spatial axes of a channels_first tensor."""
    flat = [amount for pair in reversed(pairs) for amount in pair]
    return F.pad(x, flat, value=value) if any(flat) else x


def _to_channels_first(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, x.ndim - 1, *range(1, x.ndim - 1))


def _to_channels_last(x: torch.Tensor) -> torch.Tensor:
    return x.permute(0, *range(2, x.ndim), 1)


def _channels_first(function: Any) -> Any:
    """Runs `function` (channels_first in and out) on inputs of either layout."""

    def run(inputs: torch.Tensor, data_format: str, *args: Any) -> torch.Tensor:
        if data_format == "channels_first":
            return function(inputs, *args)
        return _to_channels_last(function(_to_channels_first(inputs), *args))

    return run


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_ADAPTIVE = {("average", 1): F.adaptive_avg_pool1d, ("average", 2): F.adaptive_avg_pool2d,
             ("average", 3): F.adaptive_avg_pool3d, ("max", 1): F.adaptive_max_pool1d,
             ("max", 2): F.adaptive_max_pool2d, ("max", 3): F.adaptive_max_pool3d}


def _conv_first(x: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int], padding: Padding,
                dilation_rate: Sequence[int], groups: int, bias: torch.Tensor | None) -> torch.Tensor:
    rank = x.ndim - 2
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (out, in / groups, *window)
    pairs = _pairs(x, padding, kernel.shape[:rank], strides, dilation_rate)
    if _strided_pointwise_on_cpu(x, kernel, strides, pairs):
        # oneDNN's weight gradient of a strided 1x1 convolution writes past its buffers for some shapes (torch
        # 2.13 on the CPU: fewer than 16 input channels and an odd batch) and the process dies. The same
        # convolution of every s-th cell runs on its stride-1 kernels; wider ones keep the strided kernel,
        # which trains faster (ResNet50: 13%).
        x = x[(slice(None), slice(None), *(slice(None, None, stride) for stride in strides))]
        strides = (1,) * rank
    if all(before == after for before, after in pairs):  # symmetric: torch pads inside the kernel
        return _CONV[rank](x, weight, bias, tuple(strides), tuple(b for b, _ in pairs), tuple(dilation_rate), groups)
    return _CONV[rank](_pad(x, pairs), weight, bias, tuple(strides), 0, tuple(dilation_rate), groups)


def _strided_pointwise_on_cpu(x: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int],
                              pairs: Sequence[tuple[int, int]]) -> bool:
    window, channels = kernel.shape[:x.ndim - 2], kernel.shape[-2]
    return (x.device.type == "cpu" and channels < 16 and all(size == 1 for size in window)
            and any(s > 1 for s in strides) and all(pair == (0, 0) for pair in pairs))


def conv_general(inputs: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int], padding: Padding,
                 dilation_rate: Sequence[int], groups: int, data_format: str,
                 bias: torch.Tensor | None = None) -> torch.Tensor:
    """N-d convolution; kernel (*window, in / groups, out). The bias goes to torch's kernel, which adds it
    as it writes each output (one pass over the output less)."""
    return _channels_first(_conv_first)(inputs, data_format, kernel, strides, padding, dilation_rate, groups,
                                        bias)


def conv(inputs: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int], padding: str,
         dilation_rate: Sequence[int], groups: int = 1) -> torch.Tensor:
    """N-d convolution; inputs (batch, *spatial, channels), kernel (*window, in/groups, out)."""
    return conv_general(inputs, kernel, strides, padding, dilation_rate, groups, "channels_last")


def _conv_transpose_first(x: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int],
                          padding: Sequence[tuple[int, int]], dilation_rate: Sequence[int]) -> torch.Tensor:
    rank = x.ndim - 2
    weight = kernel.permute(rank + 1, rank, *range(rank))  # (in, out, *window)
    # torch computes the full transposed output ((n - 1) * stride + extent cells) less `shared` cells on both
    # sides; what the pairs ask beyond that is cropped, or zero-extended (the full output is zero past its end).
    extents = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation_rate)]
    crops = [(extent - 1 - before, extent - 1 - after) for extent, (before, after) in zip(extents, padding)]
    shared = [max(0, min(crop)) for crop in crops]
    output = _CONV_TRANSPOSE[rank](x, weight, None, tuple(strides), tuple(shared), 0, 1, tuple(dilation_rate))
    return _pad(output, [(s - left, s - right) for s, (left, right) in zip(shared, crops)])


def conv_transpose_general(inputs: torch.Tensor, kernel: torch.Tensor, strides: Sequence[int],
                           padding: Sequence[tuple[int, int]], dilation_rate: Sequence[int],
                           data_format: str) -> torch.Tensor:
    """N-d transposed convolution; kernel (*window, out, in); padding the (before, after) pairs of the
    stride-dilated input that the equivalent direct convolution sees."""
    return _channels_first(_conv_transpose_first)(inputs, data_format, kernel, strides, padding, dilation_rate)


def _native_padding(pairs: Sequence[tuple[int, int]], pool_size: Sequence[int]) -> tuple[int, ...] | None:
    """The padding torch's pooling kernels take themselves: the same on both sides, at most half the window."""
    if all(before == after and 2 * before <= k for (before, after), k in zip(pairs, pool_size)):
        return tuple(before for before, _ in pairs)
    return None


def _max_pool_first(x: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int],
                    padding: str) -> torch.Tensor:
    rank = x.ndim - 2
    pairs = _pairs(x, padding, pool_size, strides, (1,) * rank)
    native = _native_padding(pairs, pool_size)
    if native is not None:
        return _MAX_POOL[rank](x, tuple(pool_size), tuple(strides), native)
    return _MAX_POOL[rank](_pad(x, pairs, -math.inf), tuple(pool_size), tuple(strides))


def _average_pool_first(x: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int],
                        padding: str) -> torch.Tensor:
    rank = x.ndim - 2
    pairs = _pairs(x, padding, pool_size, strides, (1,) * rank)
    native = _native_padding(pairs, pool_size)
    if native is not None:  # torch pads inside the kernel and leaves the padding out of the average
        return _AVG_POOL[rank](x, tuple(pool_size), tuple(strides), native, count_include_pad=False)
    # The average covers only the real cells: pool the padded sum and divide by the cell count.
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    summed = _AVG_POOL[rank](_pad(x, pairs), tuple(pool_size), tuple(strides))
    counts = _AVG_POOL[rank](_pad(ones, pairs), tuple(pool_size), tuple(strides))
    return summed / counts


def max_pool_general(inputs: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int], padding: str,
                     data_format: str) -> torch.Tensor:
    return _channels_first(_max_pool_first)(inputs, data_format, pool_size, strides, padding)


def average_pool_general(inputs: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int], padding: str,
                         data_format: str) -> torch.Tensor:
    return _channels_first(_average_pool_first)(inputs, data_format, pool_size, strides, padding)


def max_pool(inputs: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> torch.Tensor:
    return max_pool_general(inputs, pool_size, strides, padding, "channels_last")


def average_pool(inputs: torch.Tensor, pool_size: Sequence[int], strides: Sequence[int], padding: str) -> torch.Tensor:
    return average_pool_general(inputs, pool_size, strides, padding, "channels_last")


def _adaptive_first(x: torch.Tensor, output_size: Sequence[int], mode: str) -> torch.Tensor:
    return _ADAPTIVE[mode, x.ndim - 2](x, tuple(output_size))


def adaptive_pool(inputs: torch.Tensor, output_size: Sequence[int], mode: str, data_format: str) -> torch.Tensor:
    """Adaptive "average" or "max" pooling: output cell i of an axis of n cells covers
    [floor(i * n / out), ceil((i + 1) * n / out))."""
    return _channels_first(_adaptive_first)(inputs, data_format, output_size, mode)
