"""NumPy-like ops of the torch backend. Most are direct mappings; functions only where torch differs."""

from __future__ import annotations

import builtins
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


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """x1 where condition holds, else x2; without x1 and x2, the indices where it holds (eagerly)."""
    if x1 is None and x2 is None:
        return torch.nonzero(_t(condition), as_tuple=True)
    return torch.where(_t(condition), _operand(x1), _operand(x2))


def clip(x: Any, x_min: Any, x_max: Any) -> torch.Tensor:
    return torch.clamp(_t(x), x_min, x_max)


def round(x: Any, decimals: int = 0) -> torch.Tensor:
    x = _t(x)
    if decimals == 0 or not x.is_floating_point():
        return torch.round(x) if x.is_floating_point() else x
    return torch.round(x, decimals=decimals)


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> torch.Tensor:
    """torch.einsum; NumPy's keyword options (optimize, ...) do not apply to torch and are ignored."""
    return torch.einsum(subscripts, *[_t(operand) for operand in operands])


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


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> torch.Tensor:
    x = _t(x) if dtype is None else _t(x).to(to_torch_dtype(dtype))
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


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    result = _reduce(torch.amax, x, axis, keepdims)
    return result if initial is None else torch.clamp(result, min=initial)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> torch.Tensor:
    result = _reduce(torch.amin, x, axis, keepdims)
    return result if initial is None else torch.clamp(result, max=initial)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    return torch.argmax(_t(x), dim=axis, keepdim=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    return torch.argmin(_t(x), dim=axis, keepdim=keepdims)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.cumsum(x, dim=axis, dtype=to_torch_dtype(dtype) if dtype else None)


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


def stack(x: Sequence[Any], axis: int = 0) -> torch.Tensor:
    return torch.stack([_t(item) for item in x], dim=axis)


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


_PAD_MODES = ("constant", "reflect", "symmetric", "edge", "wrap")


def _pad_pairs(pad_width: Any, ndim: int) -> list[tuple[int, int]]:
    """NumPy's pad_width forms (n, (n,), (before, after), ((before, after), ...)) as one pair per axis."""
    if isinstance(pad_width, int):
        return [(pad_width, pad_width)] * ndim
    pairs = list(pad_width)
    if builtins.all(isinstance(pair, int) for pair in pairs):  # all is the op of this module
        pairs = [pairs]
    pairs = [tuple(pair) * (2 // len(pair)) for pair in pairs]  # (n,) stands for (n, n)
    return [(int(before), int(after)) for before, after in (pairs * ndim if len(pairs) == 1 else pairs)]


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> torch.Tensor:
    x = _t(x)
    widths = _pad_pairs(pad_width, x.ndim)
    if mode == "constant":
        flat = [amount for pair in reversed(widths) for amount in pair]
        return torch.nn.functional.pad(x, flat, value=0 if constant_values is None else constant_values)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}.")
    if constant_values is not None:
        raise ValueError(f"pad: constant_values applies to mode 'constant' only, got mode {mode!r}.")
    for axis, (before, after) in enumerate(widths):
        if before or after:  # gather, along this axis, the positions that NumPy's pad reads
            x = torch.index_select(x, axis, _pad_positions(x.shape[axis], before, after, mode, x.device))
    return x


def _pad_positions(length: int, before: int, after: int, mode: str, device: torch.device) -> torch.Tensor:
    positions = torch.arange(-before, length + after, device=device)
    if mode == "edge":
        return torch.clamp(positions, 0, length - 1)
    if mode == "wrap":
        return torch.remainder(positions, length)
    if mode == "reflect" and length == 1:
        return torch.zeros_like(positions)
    period = 2 * (length - 1) if mode == "reflect" else 2 * length  # reflect skips the edge, symmetric repeats it
    folded = torch.remainder(positions, period)
    return torch.where(folded >= length, period - folded - int(mode == "symmetric"), folded)


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


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = "float32") -> torch.Tensor:
    M = N if M is None else M
    if k == 0:
        return torch.eye(N, M, dtype=to_torch_dtype(dtype), device=DEVICE)
    rows = torch.arange(N, device=DEVICE)[:, None]
    return (torch.arange(M, device=DEVICE) - rows == k).to(to_torch_dtype(dtype))


def one_hot(x: Any, num_classes: int, dtype: Any = "float32") -> torch.Tensor:
    return torch.nn.functional.one_hot(_t(x).long(), num_classes).to(to_torch_dtype(dtype))


def shape(x: Any) -> tuple[int, ...]:
    return tuple(x.shape) if isinstance(x, torch.Tensor) else shape_of(x)


def size(x: Any) -> int:
    return x.numel() if isinstance(x, torch.Tensor) else math.prod(shape_of(x))


from lamina.backend.torch.numpy_math import *  # noqa: E402,F401,F403
from lamina.backend.torch.numpy_arrays import *  # noqa: E402,F401,F403
