"""NumPy-like ops of the numpy backend, with the torch backend's signatures and meanings.

Most are direct mappings; functions only where torch's meaning differs from NumPy's
(dtype promotion of ints with floats, mean of ints, chunked split, lenient squeeze).
"""

from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np

from lamina.backend.common import normalize_axis, shape_of
from lamina.backend.numpy.core import convert_to_tensor, to_numpy_dtype

abs = np.abs
negative = np.negative
exp = np.exp
log = np.log
log1p = np.log1p
sqrt = np.sqrt
square = np.square
sign = np.sign
floor = np.floor
ceil = np.ceil
sin = np.sin
cos = np.cos
tanh = np.tanh
logical_not = np.logical_not
matmul = np.matmul
isnan = np.isnan

_PYTHON_SCALARS = (bool, int, float)


def _t(x: Any) -> Any:
    return x if isinstance(x, (np.ndarray, np.generic)) else convert_to_tensor(x)


def _is_float(x: Any) -> bool:
    return isinstance(x, float) or (not isinstance(x, _PYTHON_SCALARS) and x.dtype.kind in "fc")


def _operands(x1: Any, x2: Any) -> tuple[Any, Any]:
    """Both operands, promoted as torch promotes: a Python scalar never widens an array, and an
    integer array meeting a float takes that float's dtype (float32 for a Python float)."""
    x1 = x1 if isinstance(x1, _PYTHON_SCALARS) and not isinstance(x2, _PYTHON_SCALARS) else _t(x1)
    x2 = x2 if isinstance(x2, _PYTHON_SCALARS) and not isinstance(x1, _PYTHON_SCALARS) else _t(x2)
    if _is_float(x1) and not _is_float(x2) and not isinstance(x2, _PYTHON_SCALARS):
        x2 = x2.astype(np.float32 if isinstance(x1, float) else x1.dtype)
    elif _is_float(x2) and not _is_float(x1) and not isinstance(x1, _PYTHON_SCALARS):
        x1 = x1.astype(np.float32 if isinstance(x2, float) else x2.dtype)
    return x1, x2


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> np.ndarray:
    """np.einsum with contraction-order optimisation, so that products run as BLAS calls."""
    return np.einsum(subscripts, *operands, **{"optimize": True, **kwargs})


def add(x1: Any, x2: Any) -> np.ndarray:
    return np.add(*_operands(x1, x2))


def subtract(x1: Any, x2: Any) -> np.ndarray:
    return np.subtract(*_operands(x1, x2))


def multiply(x1: Any, x2: Any) -> np.ndarray:
    return np.multiply(*_operands(x1, x2))


def divide(x1: Any, x2: Any) -> np.ndarray:
    """True division; integers divide as float32, as in torch."""
    x1, x2 = _operands(x1, x2)
    if np.result_type(x1, x2).kind in "biu":
        x1, x2 = np.asarray(x1, np.float32), np.asarray(x2, np.float32)
    return np.divide(x1, x2)


def power(x1: Any, x2: Any) -> np.ndarray:
    return np.power(*_operands(x1, x2))


def maximum(x1: Any, x2: Any) -> np.ndarray:
    return np.maximum(*_operands(x1, x2))


def minimum(x1: Any, x2: Any) -> np.ndarray:
    return np.minimum(*_operands(x1, x2))


def equal(x1: Any, x2: Any) -> np.ndarray:
    return np.equal(*_operands(x1, x2))


def not_equal(x1: Any, x2: Any) -> np.ndarray:
    return np.not_equal(*_operands(x1, x2))


def greater(x1: Any, x2: Any) -> np.ndarray:
    return np.greater(*_operands(x1, x2))


def greater_equal(x1: Any, x2: Any) -> np.ndarray:
    return np.greater_equal(*_operands(x1, x2))


def less(x1: Any, x2: Any) -> np.ndarray:
    return np.less(*_operands(x1, x2))


def less_equal(x1: Any, x2: Any) -> np.ndarray:
    return np.less_equal(*_operands(x1, x2))


def logical_and(x1: Any, x2: Any) -> np.ndarray:
    return np.logical_and(_t(x1), _t(x2))


def logical_or(x1: Any, x2: Any) -> np.ndarray:
    return np.logical_or(_t(x1), _t(x2))


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """x1 where condition holds, else x2; without x1 and x2, the indices where it holds."""
    if x1 is None and x2 is None:
        return np.nonzero(_t(condition))
    return np.where(_t(condition), *_operands(x1, x2))


def clip(x: Any, x_min: Any, x_max: Any) -> np.ndarray:
    return np.clip(_t(x), x_min, x_max)


def round(x: Any, decimals: int = 0) -> np.ndarray:
    return np.round(_t(x), decimals)


def _floating(x: Any) -> np.ndarray:
    """Integers and booleans as float32, for the reductions that torch defines only on floats."""
    x = _t(x)
    return x if x.dtype.kind in "fc" else x.astype(np.float32)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.sum(_t(x), axis=normalize_axis(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.mean(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> np.ndarray:
    return np.prod(_t(x), axis=normalize_axis(axis), keepdims=keepdims, dtype=to_numpy_dtype(dtype) if dtype else None)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.var(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    return np.std(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> np.ndarray:
    extra = {} if initial is None else {"initial": initial}
    return np.max(_t(x), axis=normalize_axis(axis), keepdims=keepdims, **extra)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> np.ndarray:
    extra = {} if initial is None else {"initial": initial}
    return np.min(_t(x), axis=normalize_axis(axis), keepdims=keepdims, **extra)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    return np.argmax(_t(x), axis=axis, keepdims=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    return np.argmin(_t(x), axis=axis, keepdims=keepdims)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> np.ndarray:
    return np.cumsum(_t(x), axis=axis, dtype=to_numpy_dtype(dtype) if dtype else None)


def reshape(x: Any, newshape: Sequence[int]) -> np.ndarray:
    return np.reshape(_t(x), tuple(newshape))


def transpose(x: Any, axes: Sequence[int] | None = None) -> np.ndarray:
    return np.transpose(_t(x), axes)


def expand_dims(x: Any, axis: int) -> np.ndarray:
    return np.expand_dims(_t(x), axis)


def squeeze(x: Any, axis: Any = None) -> np.ndarray:
    """Drop axes of length 1; as in torch, a named axis that is not of length 1 is kept."""
    x = _t(x)
    if axis is None:
        return np.squeeze(x)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return np.squeeze(x, tuple(a for a in axes if x.shape[a] == 1))


def concatenate(xs: Sequence[Any], axis: int = 0) -> np.ndarray:
    return np.concatenate([_t(x) for x in xs], axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> np.ndarray:
    return np.stack([_t(item) for item in x], axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[np.ndarray]:
    """An int n cuts chunks of ceil(length / n), as torch.chunk does (the last may be shorter)."""
    x = _t(x)
    if isinstance(indices_or_sections, int):
        length = x.shape[axis]
        chunk = builtins.max(-(-length // indices_or_sections), 1)
        return np.split(x, list(range(chunk, length, chunk)), axis=axis)
    return np.split(x, list(indices_or_sections), axis=axis)


def tile(x: Any, repeats: Sequence[int]) -> np.ndarray:
    return np.tile(_t(x), tuple(repeats))


def repeat(x: Any, repeats: int, axis: int | None = None) -> np.ndarray:
    return np.repeat(_t(x), repeats, axis=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> np.ndarray:
    return np.broadcast_to(_t(x), tuple(shape))


def take(x: Any, indices: Any, axis: int | None = None) -> np.ndarray:
    return np.take(_t(x), _t(indices).astype(np.int64, copy=False), axis=axis)


def take_along_axis(x: Any, indices: Any, axis: int) -> np.ndarray:
    return np.take_along_axis(_t(x), _t(indices).astype(np.int64, copy=False), axis=axis)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> np.ndarray:
    x = _t(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)).tolist()
    if mode == "constant":
        return np.pad(x, widths, constant_values=0 if constant_values is None else constant_values)
    if constant_values is not None:
        raise ValueError(f"pad: constant_values applies to mode 'constant' only, got mode {mode!r}.")
    return np.pad(x, widths, mode=mode)


def flip(x: Any, axis: Any = None) -> np.ndarray:
    return np.flip(_t(x), normalize_axis(axis))


def zeros(shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
    return np.zeros(tuple(shape), dtype=to_numpy_dtype(dtype))


def ones(shape: Sequence[int], dtype: Any = "float32") -> np.ndarray:
    return np.ones(tuple(shape), dtype=to_numpy_dtype(dtype))


def full(shape: Sequence[int], fill_value: Any, dtype: Any = "float32") -> np.ndarray:
    return np.full(tuple(shape), fill_value, dtype=to_numpy_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None) -> np.ndarray:
    return np.zeros_like(_t(x), dtype=to_numpy_dtype(dtype) if dtype else None)


def ones_like(x: Any, dtype: Any = None) -> np.ndarray:
    return np.ones_like(_t(x), dtype=to_numpy_dtype(dtype) if dtype else None)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> np.ndarray:
    """Integers for integer bounds, float32 for float bounds (as torch), unless dtype is given."""
    if stop is None:
        start, stop = 0, start
    result = np.arange(start, stop, step, dtype=to_numpy_dtype(dtype) if dtype else None)
    return result.astype(np.float32) if dtype is None and result.dtype == np.float64 else result


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = "float32") -> np.ndarray:
    return np.eye(N, M, k, dtype=to_numpy_dtype(dtype))


def one_hot(x: Any, num_classes: int, dtype: Any = "float32") -> np.ndarray:
    x = _t(x).astype(np.int64, copy=False)
    return (x[..., None] == np.arange(num_classes)).astype(to_numpy_dtype(dtype))


def shape(x: Any) -> tuple[int, ...]:
    return shape_of(x)


def size(x: Any) -> int:
    return math.prod(shape_of(x))


from lamina.backend.numpy.numpy_more import *  # noqa: E402,F401,F403
