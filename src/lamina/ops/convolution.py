"""keras.ops.nn's convolution and pooling ops, in Keras's signatures (part of lamina.ops.nn).

Arguments are checked and normalized here (ints to tuples, padding names, the data format); the backend
receives tuples, a lowercase padding and an explicit data_format.
"""

from __future__ import annotations

from typing import Any, Sequence

from lamina.config import image_data_format
from lamina.ops.dispatch import as_tensor, backend_op

__all__ = ["adaptive_average_pool", "adaptive_max_pool", "average_pool", "conv", "conv_transpose",
           "depthwise_conv", "max_pool", "separable_conv"]

DATA_FORMATS = ("channels_last", "channels_first")


def standardize_data_format(data_format: str | None, owner: str = "data_format") -> str:
    """None as the configured default layout; anything else but the two layouts is an error."""
    if data_format is None:
        return image_data_format()
    if data_format not in DATA_FORMATS:
        raise ValueError(f"{owner} must be 'channels_last' or 'channels_first', got {data_format!r}.")
    return data_format


def standardize_tuple(value: int | Sequence[int], rank: int, name: str, owner: str = "",
                      allow_zero: bool = False) -> tuple[int, ...]:
    """`value` as a tuple of `rank` positive ints (an int is repeated); a ValueError names `name` otherwise."""
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    lowest = 0 if allow_zero else 1
    if len(values) != rank or not all(isinstance(v, int) and not isinstance(v, bool) and v >= lowest
                                      for v in values):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner + ' ' if owner else ''}{name} must be a {kind} int or a tuple of {rank} {kind} "
                         f"ints, got {value!r}.")
    return values


def standardize_padding(padding: Any, allowed: Sequence[str] = ("valid", "same"), owner: str = "") -> str:
    lowered = padding.lower() if isinstance(padding, str) else padding
    if lowered not in allowed:
        expected = " or ".join(repr(p) for p in allowed)
        raise ValueError(f"{owner + ' ' if owner else ''}padding must be {expected}, got {padding!r}.")
    return lowered


def _rank(inputs: Any, name: str) -> int:
    rank = len(inputs.shape) - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"{name} expects inputs of rank 3, 4 or 5 (batch, spatial axes, channels), got shape "
                         f"{tuple(inputs.shape)}.")
    return rank


def _channels(inputs: Any, data_format: str) -> Any:
    return inputs.shape[1] if data_format == "channels_first" else inputs.shape[-1]


def conv(inputs: Any, kernel: Any, strides: int | Sequence[int] = 1, padding: str = "valid",
         data_format: str | None = None, dilation_rate: int | Sequence[int] = 1) -> Any:
    """N-d convolution; kernel (*window, in_channels / groups, filters), the groups read from the shapes."""
    inputs, kernel = as_tensor(inputs), as_tensor(kernel)
    rank, data_format = _rank(inputs, "conv"), standardize_data_format(data_format)
    channels, per_group = _channels(inputs, data_format), kernel.shape[-2]
    if len(kernel.shape) != rank + 2 or (channels is not None and channels % per_group):
        raise ValueError(f"conv: the kernel must have shape (*window, in_channels / groups, filters) with "
                         f"{rank} window axes and in_channels / groups dividing the {channels} input channels, "
                         f"got a kernel of shape {tuple(kernel.shape)}.")
    groups = 1 if channels is None else channels // per_group
    if kernel.shape[-1] % groups:
        raise ValueError(f"conv: {channels} input channels and a kernel of shape {tuple(kernel.shape)} make "
                         f"{groups} groups, which must divide the {kernel.shape[-1]} filters.")
    return backend_op("conv_general")(inputs, kernel, standardize_tuple(strides, rank, "strides", "conv"),
                                      standardize_padding(padding, owner="conv"),
                                      standardize_tuple(dilation_rate, rank, "dilation_rate", "conv"), groups,
                                      data_format)


def depthwise_conv(inputs: Any, kernel: Any, strides: int | Sequence[int] = 1, padding: str = "valid",
                   data_format: str | None = None, dilation_rate: int | Sequence[int] = 1) -> Any:
    """Each input channel convolved apart; kernel (*window, in_channels, depth_multiplier)."""
    inputs, kernel = as_tensor(inputs), as_tensor(kernel)
    rank, data_format = _rank(inputs, "depthwise_conv"), standardize_data_format(data_format)
    window, channels, multiplier = tuple(kernel.shape[:rank]), kernel.shape[-2], kernel.shape[-1]
    # One group per input channel; the group's filters are the channel's `multiplier` outputs, in order.
    grouped = backend_op("reshape")(kernel, (*window, 1, channels * multiplier))
    return backend_op("conv_general")(inputs, grouped,
                                      standardize_tuple(strides, rank, "strides", "depthwise_conv"),
                                      standardize_padding(padding, owner="depthwise_conv"),
                                      standardize_tuple(dilation_rate, rank, "dilation_rate", "depthwise_conv"),
                                      channels, data_format)


def separable_conv(inputs: Any, depthwise_kernel: Any, pointwise_kernel: Any, strides: int | Sequence[int] = 1,
                   padding: str = "valid", data_format: str | None = None,
                   dilation_rate: int | Sequence[int] = 1) -> Any:
    """A depthwise convolution followed by a 1x1 convolution with pointwise_kernel (*ones, in * mult, out)."""
    depthwise = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depthwise, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose_padding(kernel_size: int, stride: int, dilation: int, padding: str,
                           output_padding: int | None) -> tuple[int, int]:
    """Keras's transposed-convolution output as (before, after) padding of the stride-spread inputs.

    Without output_padding the output has n * stride cells ('same') or n * stride + max(extent - stride, 0)
    ('valid'); output_padding adds cells at the end of the base (n - 1) * stride + extent [- 2 * (extent // 2)].
    """
    extent = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(extent, stride) - extent if output_padding is None else output_padding
        return extent - 1, extent - 1 + extra
    total = stride + extent - 2 if output_padding is None else extent + extent % 2 - 2 + output_padding
    before = min(total // 2 + total % 2, extent - 1)
    return before, total - before


def conv_transpose(inputs: Any, kernel: Any, strides: int | Sequence[int] = 1, padding: str = "valid",
                   output_padding: int | Sequence[int] | None = None, data_format: str | None = None,
                   dilation_rate: int | Sequence[int] = 1) -> Any:
    """N-d transposed convolution; kernel (*window, filters, in_channels)."""
    inputs, kernel = as_tensor(inputs), as_tensor(kernel)
    rank, data_format = _rank(inputs, "conv_transpose"), standardize_data_format(data_format)
    strides = standardize_tuple(strides, rank, "strides", "conv_transpose")
    dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate", "conv_transpose")
    padding = standardize_padding(padding, owner="conv_transpose")
    window = tuple(kernel.shape[:rank])
    extras = (None,) * rank if output_padding is None else standardize_tuple(
        output_padding, rank, "output_padding", "conv_transpose", allow_zero=True)
    pairs = tuple(conv_transpose_padding(k, s, d, padding, extra)
                  for k, s, d, extra in zip(window, strides, dilation_rate, extras))
    return backend_op("conv_transpose_general")(inputs, kernel, strides, pairs, dilation_rate, data_format)


def _pool(name: str, inputs: Any, pool_size: int | Sequence[int], strides: int | Sequence[int] | None,
          padding: str, data_format: str | None) -> Any:
    inputs = as_tensor(inputs)
    rank, data_format = _rank(inputs, name), standardize_data_format(data_format)
    pool_size = standardize_tuple(pool_size, rank, "pool_size", name)
    strides = pool_size if strides is None else standardize_tuple(strides, rank, "strides", name)
    return backend_op(f"{name}_general")(inputs, pool_size, strides, standardize_padding(padding, owner=name),
                                         data_format)


def max_pool(inputs: Any, pool_size: int | Sequence[int], strides: int | Sequence[int] | None = None,
             padding: str = "valid", data_format: str | None = None) -> Any:
    """N-d max pooling; strides default to pool_size."""
    return _pool("max_pool", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs: Any, pool_size: int | Sequence[int], strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None) -> Any:
    """N-d average pooling; strides default to pool_size; 'same' averages only the real cells."""
    return _pool("average_pool", inputs, pool_size, strides, padding, data_format)


def _adaptive(name: str, mode: str, inputs: Any, output_size: int | Sequence[int], data_format: str | None) -> Any:
    inputs = as_tensor(inputs)
    rank, data_format = _rank(inputs, name), standardize_data_format(data_format)
    output_size = standardize_tuple(output_size, rank, "output_size", name)
    return backend_op("adaptive_pool")(inputs, output_size, mode, data_format)


def adaptive_average_pool(inputs: Any, output_size: int | Sequence[int], data_format: str | None = None) -> Any:
    """Average pooling to output_size cells per spatial axis (PyTorch's adaptive ranges)."""
    return _adaptive("adaptive_average_pool", "average", inputs, output_size, data_format)


def adaptive_max_pool(inputs: Any, output_size: int | Sequence[int], data_format: str | None = None) -> Any:
    """Max pooling to output_size cells per spatial axis (PyTorch's adaptive ranges)."""
    return _adaptive("adaptive_max_pool", "max", inputs, output_size, data_format)
