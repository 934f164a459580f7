"""The rest of keras.ops.numpy on the numpy backend, with the training backends' dtypes: integers meeting
float math give float32, and float32 stays float32 where NumPy would widen to float64."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from lamina.backend.common import normalize_axis
from lamina.backend.numpy.core import to_numpy_dtype
from lamina.backend.numpy.numpy import _operands, _t


def _floating(x: Any) -> np.ndarray:
    x = _t(x)
    return x if x.dtype.kind in "fc" else x.astype(np.float32)


def _as_float32(x: np.ndarray) -> np.ndarray:
    """NumPy's float64 results of float32 work (windows, spaces, corrcoef) back in float32."""
    return x.astype(np.float32) if x.dtype == np.float64 else x


def _float_unary(function: Callable[..., Any]) -> Callable[[Any], np.ndarray]:
    def op(x: Any) -> np.ndarray:
        return function(_floating(x))

    op.__name__ = op.__qualname__ = function.__name__
    return op


def _float_binary(function: Callable[..., Any]) -> Callable[[Any, Any], np.ndarray]:
    def op(x1: Any, x2: Any) -> np.ndarray:
        x1, x2 = _operands(x1, x2)
        if np.result_type(x1, x2).kind in "biu":
            x1, x2 = np.asarray(x1, np.float32), np.asarray(x2, np.float32)
        return function(x1, x2)

    op.__name__ = op.__qualname__ = function.__name__
    return op


def _binary(function: Callable[..., Any]) -> Callable[[Any, Any], np.ndarray]:
    def op(x1: Any, x2: Any) -> np.ndarray:
        return function(*_operands(x1, x2))

    op.__name__ = op.__qualname__ = function.__name__
    return op


def _bitwise(function: Callable[..., Any]) -> Callable[[Any, Any], np.ndarray]:
    def op(x: Any, y: Any) -> np.ndarray:
        return function(*_operands(x, y))

    op.__name__ = op.__qualname__ = function.__name__
    return op


_FLOAT_UNARY = ("arccos arccosh arcsin arcsinh arctan arctanh cosh sinh tan cbrt deg2rad rad2deg exp2 expm1 log10 "
                "log2 sinc i0").split()
_FLOAT_BINARY = "arctan2 hypot logaddexp logaddexp2 heaviside nextafter".split()
_BINARY = "fmax fmin fmod mod gcd lcm logical_xor floor_divide kron".split()
globals().update({name: _float_unary(getattr(np, name)) for name in _FLOAT_UNARY})
globals().update({name: _float_binary(getattr(np, name)) for name in _FLOAT_BINARY})
globals().update({name: _binary(getattr(np, name)) for name in _BINARY})
bitwise_and = _bitwise(np.bitwise_and)
bitwise_or = _bitwise(np.bitwise_or)
bitwise_xor = _bitwise(np.bitwise_xor)
bitwise_left_shift = _bitwise(np.left_shift)
bitwise_right_shift = _bitwise(np.right_shift)
signbit = np.signbit
isfinite = np.isfinite
isinf = np.isinf
isneginf = np.isneginf
isposinf = np.isposinf
conj = np.conj
isreal = np.isreal
bitwise_not = np.invert


def copy(x: Any) -> np.ndarray:
    return np.array(_t(x), copy=True)


def real(x: Any) -> np.ndarray:
    return np.real(_t(x))


def reciprocal(x: Any) -> np.ndarray:
    return np.reciprocal(_floating(x))


def trunc(x: Any) -> np.ndarray:
    return np.trunc(_t(x))


def angle(x: Any) -> np.ndarray:
    x = _t(x)
    return _as_float32(np.angle(x)) if x.dtype != np.float64 else np.angle(x)


def imag(x: Any) -> np.ndarray:
    x = _t(x)
    return np.imag(x) if x.dtype.kind == "c" else np.zeros_like(x)


def ldexp(x1: Any, x2: Any) -> np.ndarray:
    x1, x2 = _operands(x1, x2)
    return np.ldexp(_floating(x1), _t(x2).astype(np.int32))


def outer(x1: Any, x2: Any) -> np.ndarray:
    return np.outer(_t(x1), _t(x2))


def inner(x1: Any, x2: Any) -> np.ndarray:
    return np.inner(_t(x1), _t(x2))


def dot(x1: Any, x2: Any) -> np.ndarray:
    return np.dot(_t(x1), _t(x2))


def vdot(x1: Any, x2: Any) -> np.ndarray:
    return np.asarray(np.vdot(_t(x1), _t(x2)))


def isclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> np.ndarray:
    return np.isclose(_t(x1), _t(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> np.ndarray:
    return np.asarray(np.all(isclose(x1, x2, rtol, atol, equal_nan)))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> np.ndarray:
    return np.nan_to_num(_t(x), nan=nan, posinf=posinf, neginf=neginf)


def _reduction(function: Callable[..., Any], floating: bool = False) -> Callable[..., np.ndarray]:
    def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        x = _floating(x) if floating else _t(x)
        return np.asarray(function(x, axis=normalize_axis(axis), keepdims=keepdims))

    reduce.__name__ = reduce.__qualname__ = function.__name__
    return reduce


all = _reduction(np.all)
any = _reduction(np.any)
median = _reduction(np.median, floating=True)
nanmax = _reduction(np.nanmax)
nanmin = _reduction(np.nanmin)
nansum = _reduction(np.nansum)
nanprod = _reduction(np.nanprod)
nanmean = _reduction(np.nanmean, floating=True)
nanmedian = _reduction(np.nanmedian, floating=True)
nanvar = _reduction(np.nanvar, floating=True)
nanstd = _reduction(np.nanstd, floating=True)
nanargmax = _reduction(np.nanargmax)
nanargmin = _reduction(np.nanargmin)


def count_nonzero(x: Any, axis: Any = None) -> np.ndarray:
    return np.asarray(np.count_nonzero(_t(x), axis=normalize_axis(axis)))


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> np.ndarray:
    x = _floating(x)
    return np.asarray(np.quantile(x, np.asarray(q, x.dtype), axis=normalize_axis(axis), method=method,
                                  keepdims=keepdims))


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> np.ndarray:
    x = _floating(x)
    return np.asarray(np.nanquantile(x, np.asarray(q, x.dtype), axis=normalize_axis(axis), method=method,
                                     keepdims=keepdims))


def _running(function: Callable[..., Any]) -> Callable[..., np.ndarray]:
    def running(x: Any, axis: int | None = None, dtype: Any = None) -> np.ndarray:
        return function(_t(x), axis=axis, dtype=to_numpy_dtype(dtype) if dtype else None)

    running.__name__ = running.__qualname__ = function.__name__
    return running


cumprod = _running(np.cumprod)
nancumsum = _running(np.nancumsum)
nancumprod = _running(np.nancumprod)


def sort(x: Any, axis: int | None = -1) -> np.ndarray:
    return np.sort(_t(x), axis=axis)


def argsort(x: Any, axis: int | None = -1) -> np.ndarray:
    return np.argsort(_t(x), axis=axis, kind="stable")


def argpartition(x: Any, kth: int, axis: int = -1) -> np.ndarray:
    return np.argpartition(_t(x), kth, axis=axis)


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> np.ndarray:
    return np.searchsorted(_t(sorted_sequence), _t(values), side=side)


def digitize(x: Any, bins: Any) -> np.ndarray:
    return np.digitize(_t(x), _t(bins))


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> np.ndarray:
    return np.isin(_t(x1), _t(x2), assume_unique=assume_unique, invert=invert)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> np.ndarray:
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by the numpy backend.")
    if weights is None:
        return np.bincount(_t(x), minlength=minlength)
    weights = _t(weights)
    return np.bincount(_t(x), weights=weights, minlength=minlength).astype(weights.dtype, copy=False)


def histogram(x: Any, bins: int = 10, range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    x = _floating(x).reshape(-1)
    counts, edges = np.histogram(x, bins=bins, range=range)
    return counts, edges.astype(x.dtype)


def nonzero(x: Any) -> tuple[np.ndarray, ...]:
    return np.nonzero(_t(x))


def unique(x: Any, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: Any = None) -> Any:
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    values, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                               axis=axis)
    inverse = inverse.reshape(-1)
    if not sorted:  # the order of first appearance
        order = np.argsort(first, kind="stable")
        values, first, counts = np.take(values, order, axis=axis), first[order], counts[order]
        inverse = np.argsort(order)[inverse]
    if size is not None:
        values, first, counts = _fit(values, axis, size, fill_value), _fit(first, 0, size, 0), _fit(counts, 0, size, 0)
    extras = [part for part, wanted in ((first, return_index), (inverse, return_inverse), (counts, return_counts))
              if wanted]
    return (values, *extras) if extras else values


def _fit(x: np.ndarray, axis: int, size: int, fill_value: Any) -> np.ndarray:
    """x cut or padded along axis to size; padding repeats fill_value (x's first element when None)."""
    length = x.shape[axis]
    if length >= size:
        return np.take(x, np.arange(size), axis=axis)
    fill = np.take(x, [0], axis=axis)
    fill = fill if fill_value is None else np.full_like(fill, fill_value)
    return np.concatenate([x, np.repeat(fill, size - length, axis=axis)], axis=axis)


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = "float32") -> np.ndarray:
    return np.tri(N, M, k, dtype=to_numpy_dtype(dtype))


def tril(x: Any, k: int = 0) -> np.ndarray:
    return np.tril(_t(x), k)


def triu(x: Any, k: int = 0) -> np.ndarray:
    return np.triu(_t(x), k)


def _space(values: np.ndarray, dtype: Any) -> np.ndarray:
    return values.astype(to_numpy_dtype(dtype)) if dtype else _as_float32(values)


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    values, step = np.linspace(_t(start), _t(stop), num, endpoint=endpoint, retstep=True, axis=axis)
    values = _space(values, dtype)
    return (values, _as_float32(np.asarray(step))) if retstep else values


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10, dtype: Any = None,
             axis: int = 0) -> np.ndarray:
    return _space(np.logspace(_t(start), _t(stop), num, endpoint=endpoint, base=base, axis=axis), dtype)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> np.ndarray:
    return _space(np.geomspace(_t(start), _t(stop), num, endpoint=endpoint, axis=axis), dtype)


def meshgrid(*x: Any, indexing: str = "xy") -> list[np.ndarray]:
    return list(np.meshgrid(*[_t(item) for item in x], indexing=indexing))


def vander(x: Any, N: int | None = None, increasing: bool = False) -> np.ndarray:
    return np.vander(_t(x), N, increasing)


def bartlett(x: int) -> np.ndarray:
    return np.bartlett(int(x)).astype(np.float32)


def blackman(x: int) -> np.ndarray:
    return np.blackman(int(x)).astype(np.float32)


def hamming(x: int) -> np.ndarray:
    return np.hamming(int(x)).astype(np.float32)


def hanning(x: int) -> np.ndarray:
    return np.hanning(int(x)).astype(np.float32)


def kaiser(x: int, beta: float) -> np.ndarray:
    return np.kaiser(int(x), beta).astype(np.float32)


def diag(x: Any, k: int = 0) -> np.ndarray:
    return np.diag(_t(x), k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> np.ndarray:
    return np.diagonal(_t(x), offset, axis1, axis2)


def diff(a: Any, n: int = 1, axis: int = -1) -> np.ndarray:
    return np.diff(_t(a), n, axis)


def roll(x: Any, shift: Any, axis: Any = None) -> np.ndarray:
    return np.roll(_t(x), shift, normalize_axis(axis))


def rot90(array: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> np.ndarray:
    return np.rot90(_t(array), k, tuple(axes))


def view(x: Any, dtype: Any = None) -> np.ndarray:
    x = _t(x)
    return x if dtype is None else x.view(to_numpy_dtype(dtype))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> np.ndarray:
    return np.tensordot(_t(x1), _t(x2), axes)


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Any:
    if axis is not None:
        axisa = axisb = axisc = axis
    x1, x2 = np.moveaxis(_t(x1), axisa, -1), np.moveaxis(_t(x2), axisb, -1)
    if x1.shape[-1] not in (2, 3) or x2.shape[-1] not in (2, 3):
        raise ValueError(f"cross: vectors must have 2 or 3 components, got {x1.shape[-1]} and {x2.shape[-1]}.")
    if x1.shape[-1] == 2 and x2.shape[-1] == 2:  # the z component only (NumPy's own 2-vector form is deprecated)
        return x1[..., 0] * x2[..., 1] - x1[..., 1] * x2[..., 0]
    x1 = np.pad(x1, [(0, 0)] * (x1.ndim - 1) + [(0, 3 - x1.shape[-1])])
    x2 = np.pad(x2, [(0, 0)] * (x2.ndim - 1) + [(0, 3 - x2.shape[-1])])
    return np.moveaxis(np.cross(x1, x2), -1, axisc)


def correlate(x1: Any, x2: Any, mode: str = "valid") -> np.ndarray:
    x1, x2 = _t(x1), _t(x2)
    if x1.dtype.kind not in "fc":
        x1, x2 = x1.astype(np.float32), x2.astype(np.float32)
    return np.correlate(x1, x2, mode)


def corrcoef(x: Any) -> np.ndarray:
    x = _t(x)
    result = np.corrcoef(x)
    return result if x.dtype == np.float64 else _as_float32(result)


def slogdet(x: Any) -> tuple[np.ndarray, np.ndarray]:
    sign, logabsdet = np.linalg.slogdet(_t(x))
    return np.asarray(sign), np.asarray(logabsdet)


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> np.ndarray:
    y = _floating(y)
    result = np.trapezoid(y, None if x is None else _t(x).astype(y.dtype), dx, axis)
    return np.asarray(result, dtype=y.dtype)


def vectorize(pyfunc: Callable[..., Any], excluded: Any = None, signature: str | None = None) -> Callable[..., Any]:
    return np.vectorize(pyfunc, excluded=set(excluded or ()), signature=signature)
