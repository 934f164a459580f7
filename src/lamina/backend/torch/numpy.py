"""NumPy-like ops of the torch backend. Most are direct mappings; functions only where torch differs."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from lamina.backend.common import normalize_axis, shape_of
from lamina.backend.torch.core import DEVICE, convert_to_tensor, to_torch_dtype

abs = torch.abs
negative = torch.negative
exp = torch.exp
log = torch.log
log1p = torch.log1p
sqrt = torch.sqrt
square = torch.square
sign = torch.sign
floor = torch.floor
ceil = torch.ceil
sin = torch.sin
cos = torch.cos
tanh = torch.tanh
logical_not = torch.logical_not
matmul = torch.matmul
einsum = torch.einsum
where = torch.where
isnan = torch.isnan


def _t(x: Any) -> torch.Tensor:
    return x if isinstance(x, torch.Tensor) else convert_to_tensor(x)


# Binary ops take a Python number as it is: torch passes it to the kernel as an argument (no copy to the
# device on every call) and promotes it as NumPy promotes a scalar: int tensor + 0.5 is float32,
# float16 tensor * 2 stays float16. Only when both operands are numbers is one made a tensor.
_TENSOR_OR_NUMBER = (torch.Tensor, bool, int, float)


def _operands(x1: Any, x2: Any) -> tuple[Any, Any]:
    """(x1, x2) as tensors on the device or Python numbers, at least one of them a tensor."""
    x1, x2 = _operand(x1), _operand(x2)
    if not isinstance(x1, torch.Tensor) and not isinstance(x2, torch.Tensor):
        x1 = convert_to_tensor(x1)
    return x1, x2


def _operand(x: Any) -> Any:
    if isinstance(x, _TENSOR_OR_NUMBER):
        return x
    if isinstance(x, (np.number, np.bool_)):
        return x.item()
    return convert_to_tensor(x)


def _host_scalar(x: Any) -> torch.Tensor:
    """A number as a 0-d tensor on the host, for ops that take no numbers: a CPU scalar operand, like a
    number, is read on the host and never copied to the device; its dtype promotes like the number's."""
    return x if isinstance(x, torch.Tensor) else torch.tensor(x)


def add(x1: Any, x2: Any) -> torch.Tensor:
    return torch.add(*_operands(x1, x2))


def subtract(x1: Any, x2: Any) -> torch.Tensor:
    return torch.sub(*_operands(x1, x2))


def multiply(x1: Any, x2: Any) -> torch.Tensor:
    return torch.mul(*_operands(x1, x2))


def divide(x1: Any, x2: Any) -> torch.Tensor:
    return torch.div(*_operands(x1, x2))


def power(x1: Any, x2: Any) -> torch.Tensor:
    return torch.pow(*_operands(x1, x2))


def maximum(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _operands(x1, x2)
    return torch.maximum(_host_scalar(x1), _host_scalar(x2))


def minimum(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _operands(x1, x2)
    return torch.minimum(_host_scalar(x1), _host_scalar(x2))


def _comparison(op: Any, mirrored: Any, x1: Any, x2: Any) -> torch.Tensor:
    """x1 op x2; with a number first, `x2 mirrored x1` (3 < x is x > 3), as torch wants the tensor first."""
    x1, x2 = _operands(x1, x2)
    return op(x1, x2) if isinstance(x1, torch.Tensor) else mirrored(x2, x1)


def equal(x1: Any, x2: Any) -> torch.Tensor:
    return _comparison(torch.eq, torch.eq, x1, x2)


def not_equal(x1: Any, x2: Any) -> torch.Tensor:
    return _comparison(torch.ne, torch.ne, x1, x2)


def greater(x1: Any, x2: Any) -> torch.Tensor:
    return _comparison(torch.gt, torch.lt, x1, x2)


def greater_equal(x1: Any, x2: Any) -> torch.Tensor:
    return _comparison(torch.ge, torch.le, x1, x2)


def less(x1: Any, x2: Any) -> torch.Tensor:
    return _comparison(torch.lt, torch.gt, x1, x2)


def less_equal(x1: Any, x2: Any) -> torch.Tensor:
    return _comparison(torch.le, torch.ge, x1, x2)


def logical_and(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _operands(x1, x2)
    return torch.logical_and(_host_scalar(x1), _host_scalar(x2))


def logical_or(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _operands(x1, x2)
    return torch.logical_or(_host_scalar(x1), _host_scalar(x2))


def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    return torch.clamp(_t(x), x_min, x_max)


def round(x: Any) -> torch.Tensor:
    return torch.round(_t(x))


def _reduce(fn: Any, x: Any, axis: Any, keepdims: bool) -> torch.Tensor:
    x = _t(x)
    axis = normalize_axis(axis)
    if axis is None:
        result = fn(x)
        return result.reshape((1,) * x.ndim) if keepdims else result
    return fn(x, dim=axis, keepdim=keepdims)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.sum, x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    if not x.is_floating_point():
        x = x.float()
    return _reduce(torch.mean, x, axis, keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    axis = normalize_axis(axis)
    if axis is None:
        return _reduce(torch.prod, x, None, keepdims)
    for dim in sorted((axis,) if isinstance(axis, int) else axis, key=lambda d: d % x.ndim, reverse=True):
        x = torch.prod(x, dim=dim, keepdim=keepdims)  # torch multiplies along one axis at a time
    return x


def _floating(x: Any) -> torch.Tensor:
    x = _t(x)
    return x if x.is_floating_point() else x.float()


def var(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return torch.var(_floating(x), dim=normalize_axis(axis), keepdim=keepdims, correction=0)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return torch.std(_floating(x), dim=normalize_axis(axis), keepdim=keepdims, correction=0)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.amax, x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.amin, x, axis, keepdims)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    return torch.argmax(_t(x), dim=axis, keepdim=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    return torch.argmin(_t(x), dim=axis, keepdim=keepdims)


def cumsum(x: Any, axis: int = 0) -> torch.Tensor:
    return torch.cumsum(_t(x), dim=axis)


def reshape(x: Any, newshape: Sequence[int]) -> torch.Tensor:
    return torch.reshape(_t(x), tuple(newshape))


def transpose(x: Any, axes: Sequence[int] | None = None) -> torch.Tensor:
    x = _t(x)
    return x.permute(*(axes if axes is not None else reversed(range(x.ndim))))


def expand_dims(x: Any, axis: int) -> torch.Tensor:
    return torch.unsqueeze(_t(x), axis)


def squeeze(x: Any, axis: int | None = None) -> torch.Tensor:
    x = _t(x)
    return torch.squeeze(x) if axis is None else torch.squeeze(x, axis)


def concatenate(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.cat([_t(x) for x in xs], dim=axis)


def stack(xs: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.stack([_t(x) for x in xs], dim=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[torch.Tensor]:
    x = _t(x)
    if isinstance(indices_or_sections, int):
        return list(torch.chunk(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, list(indices_or_sections), dim=axis))


def tile(x: Any, repeats: Sequence[int]) -> torch.Tensor:
    return torch.tile(_t(x), tuple(repeats))


def repeat(x: Any, repeats: int, axis: int | None = None) -> torch.Tensor:
    return torch.repeat_interleave(_t(x), repeats, dim=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> torch.Tensor:
    return torch.broadcast_to(_t(x), tuple(shape))


def take(x: Any, indices: Any, axis: int | None = None) -> torch.Tensor:
    x, indices = _t(x), _t(indices).long()
    size = x.numel() if axis is None else x.shape[axis]
    indices = torch.where(indices < 0, indices + size, indices)  # numpy counts negative indices from the end
    if axis is None:
        return x.reshape(-1)[indices]
    if indices.ndim == 1:
        return torch.index_select(x, axis, indices)
    flat = torch.index_select(x, axis, indices.reshape(-1))
    axis = axis % x.ndim
    return flat.reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])


def take_along_axis(x: Any, indices: Any, axis: int) -> torch.Tensor:
    return torch.take_along_dim(_t(x), _t(indices).long(), dim=axis)


def pad(x: Any, pad_width: Sequence[Sequence[int]], constant_values: float = 0) -> torch.Tensor:
    flat = [amount for pair in reversed(pad_width) for amount in pair]
    return torch.nn.functional.pad(_t(x), flat, value=constant_values)


def flip(x: Any, axis: Any = None) -> torch.Tensor:
    x = _t(x)
    axes = range(x.ndim) if axis is None else ((axis,) if isinstance(axis, int) else axis)
    return torch.flip(x, tuple(axes))


def zeros(shape: Sequence[int], dtype: Any = "float32") -> torch.Tensor:
    return torch.zeros(tuple(shape), dtype=to_torch_dtype(dtype), device=DEVICE)


def ones(shape: Sequence[int], dtype: Any = "float32") -> torch.Tensor:
    return torch.ones(tuple(shape), dtype=to_torch_dtype(dtype), device=DEVICE)


def full(shape: Sequence[int], fill_value: Any, dtype: Any = "float32") -> torch.Tensor:
    return torch.full(tuple(shape), fill_value, dtype=to_torch_dtype(dtype), device=DEVICE)


def zeros_like(x: Any, dtype: Any = None) -> torch.Tensor:
    return torch.zeros_like(_t(x), dtype=to_torch_dtype(dtype) if dtype else None)


def ones_like(x: Any, dtype: Any = None) -> torch.Tensor:
    return torch.ones_like(_t(x), dtype=to_torch_dtype(dtype) if dtype else None)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> torch.Tensor:
    if stop is None:
        start, stop = 0, start
    return torch.arange(start, stop, step, dtype=to_torch_dtype(dtype) if dtype else None, device=DEVICE)


def eye(n: int, dtype: Any = "float32") -> torch.Tensor:
    return torch.eye(n, dtype=to_torch_dtype(dtype), device=DEVICE)


def one_hot(x: Any, num_classes: int, dtype: Any = "float32") -> torch.Tensor:
    return torch.nn.functional.one_hot(_t(x).long(), num_classes).to(to_torch_dtype(dtype))


def shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, torch.Tensor) else shape_of(x)


def size(x: Any) -> int:
    return x.numel() if isinstance(x, torch.Tensor) else math.prod(shape_of(x))
