"""The rest of keras.ops.numpy on the jax backend: jax.numpy, with Keras's signatures where they differ."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import jax.numpy as jnp

from lamina.backend.common import normalize_axis
from lamina.backend.jax.core import to_jax_dtype, unwrap
from lamina.backend.jax.numpy import _binary, _unary

_UNARY = ("arccos arccosh arcsin arcsinh arctan arctanh cosh sinh tan cbrt deg2rad rad2deg exp2 expm1 log10 log2 "
          "reciprocal trunc sinc i0 signbit isfinite isinf isneginf isposinf angle conj real imag isreal bitwise_not "
          "corrcoef").split()
_BINARY = ("arctan2 fmax fmin fmod mod gcd lcm heaviside hypot ldexp logaddexp logaddexp2 logical_xor nextafter kron "
           "inner vdot floor_divide").split()
globals().update({name: _unary(getattr(jnp, name)) for name in _UNARY})
globals().update({name: _binary(getattr(jnp, name)) for name in _BINARY})


def _bitwise(fn: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    def op(x: Any, y: Any) -> Any:
        return fn(unwrap(x), unwrap(y))

    op.__name__ = op.__qualname__ = fn.__name__
    return op


bitwise_and = _bitwise(jnp.bitwise_and)
bitwise_or = _bitwise(jnp.bitwise_or)
bitwise_xor = _bitwise(jnp.bitwise_xor)
bitwise_left_shift = _bitwise(jnp.left_shift)
bitwise_right_shift = _bitwise(jnp.right_shift)


def copy(x: Any) -> Any:
    return jnp.array(unwrap(x), copy=True)


def outer(x1: Any, x2: Any) -> Any:
    return jnp.outer(unwrap(x1), unwrap(x2))


def dot(x1: Any, x2: Any) -> Any:
    return jnp.dot(unwrap(x1), unwrap(x2))


def isclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    return jnp.isclose(unwrap(x1), unwrap(x2), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Any:
    return jnp.all(isclose(x1, x2, rtol, atol, equal_nan))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Any:
    return jnp.nan_to_num(unwrap(x), nan=nan, posinf=posinf, neginf=neginf)


def _reduction(function: Callable[..., Any]) -> Callable[..., Any]:
    def reduce(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return function(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims)

    reduce.__name__ = reduce.__qualname__ = function.__name__
    return reduce


all = _reduction(jnp.all)
any = _reduction(jnp.any)
nanmax = _reduction(jnp.nanmax)
nanmin = _reduction(jnp.nanmin)
nansum = _reduction(jnp.nansum)
nanprod = _reduction(jnp.nanprod)
nanargmax = _reduction(jnp.nanargmax)
nanargmin = _reduction(jnp.nanargmin)


def _floating(x: Any) -> Any:
    x = jnp.asarray(unwrap(x))
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.median(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.nanmedian(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.nanmean(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.nanvar(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.nanstd(_floating(x), axis=normalize_axis(axis), keepdims=keepdims)


def count_nonzero(x: Any, axis: Any = None) -> Any:
    return jnp.count_nonzero(unwrap(x), axis=normalize_axis(axis))


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Any:
    return _quantile(jnp.quantile, x, q, axis, method, keepdims)


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Any:
    return _quantile(jnp.nanquantile, x, q, axis, method, keepdims)


def _quantile(function: Callable[..., Any], x: Any, q: Any, axis: Any, method: str, keepdims: bool) -> Any:
    x, q, axis = _floating(x), jnp.asarray(unwrap(q), jnp.float32), normalize_axis(axis)
    if method != "nearest":
        return function(x, q, axis=axis, method=method, keepdims=keepdims)
    # jax rounds a position halfway between two elements down; NumPy (and torch) round it to even
    lower = function(x, q, axis=axis, method="lower", keepdims=keepdims)
    higher = function(x, q, axis=axis, method="higher", keepdims=keepdims)
    count = jnp.sum(~jnp.isnan(x), axis=axis, keepdims=keepdims)
    position = q.reshape(q.shape + (1,) * count.ndim) * (count - 1)
    return jnp.where(jnp.round(position) > jnp.floor(position), higher, lower)


def _running(function: Callable[..., Any]) -> Callable[..., Any]:
    def running(x: Any, axis: int | None = None, dtype: Any = None) -> Any:
        return function(unwrap(x), axis=axis, dtype=to_jax_dtype(dtype) if dtype else None)

    running.__name__ = running.__qualname__ = function.__name__
    return running


cumprod = _running(jnp.cumprod)
nancumsum = _running(jnp.nancumsum)
nancumprod = _running(jnp.nancumprod)


def sort(x: Any, axis: int | None = -1) -> Any:
    return jnp.sort(unwrap(x), axis=axis)


def argsort(x: Any, axis: int | None = -1) -> Any:
    return jnp.argsort(unwrap(x), axis=axis, stable=True)


def argpartition(x: Any, kth: int, axis: int = -1) -> Any:
    return jnp.argpartition(unwrap(x), kth, axis=axis)


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> Any:
    return jnp.searchsorted(unwrap(sorted_sequence), unwrap(values), side=side)


def digitize(x: Any, bins: Any) -> Any:
    return jnp.digitize(unwrap(x), unwrap(bins))


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> Any:
    return jnp.isin(unwrap(x1), unwrap(x2), assume_unique=assume_unique, invert=invert)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> Any:
    """Under jax.jit the length must be static: jax reads max(x) + 1 on the host, so this runs eagerly."""
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by the jax backend.")
    return jnp.bincount(unwrap(x), weights=unwrap(weights), minlength=minlength)


def histogram(x: Any, bins: int = 10, range: tuple[float, float] | None = None) -> tuple[Any, Any]:
    counts, edges = jnp.histogram(_floating(x).reshape(-1), bins=bins, range=range)
    return counts.astype(jnp.int32), edges


def nonzero(x: Any) -> tuple[Any, ...]:
    return jnp.nonzero(unwrap(x))


def unique(x: Any, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: Any = None) -> Any:
    x = unwrap(x)
    if axis is None:
        x, axis = jnp.reshape(x, (-1,)), 0
    values, first, inverse, counts = jnp.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                                axis=axis, size=size, fill_value=fill_value)
    inverse = inverse.reshape(-1)
    if not sorted:  # the order of first appearance
        order = jnp.argsort(first)
        values, first, counts = jnp.take(values, order, axis=axis), first[order], counts[order]
        inverse = jnp.argsort(order)[inverse]
    extras = [part for part, wanted in ((first, return_index), (inverse, return_inverse), (counts, return_counts))
              if wanted]
    return (values, *extras) if extras else values


def tri(N: int, M: int | None = None, k: int = 0, dtype: Any = "float32") -> Any:
    return jnp.tri(N, M, k, dtype=to_jax_dtype(dtype))


def tril(x: Any, k: int = 0) -> Any:
    return jnp.tril(unwrap(x), k)


def triu(x: Any, k: int = 0) -> Any:
    return jnp.triu(unwrap(x), k)


def _space_dtype(dtype: Any) -> Any:
    return to_jax_dtype(dtype) if dtype else None


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype: Any = None, axis: int = 0) -> Any:
    return jnp.linspace(unwrap(start), unwrap(stop), num, endpoint=endpoint, retstep=retstep,
                        dtype=_space_dtype(dtype), axis=axis)


def logspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10, dtype: Any = None,
             axis: int = 0) -> Any:
    return jnp.logspace(unwrap(start), unwrap(stop), num, endpoint=endpoint, base=base, dtype=_space_dtype(dtype),
                        axis=axis)


def geomspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
              axis: int = 0) -> Any:
    return jnp.geomspace(unwrap(start), unwrap(stop), num, endpoint=endpoint, dtype=_space_dtype(dtype), axis=axis)


def meshgrid(*x: Any, indexing: str = "xy") -> list[Any]:
    return jnp.meshgrid(*[unwrap(item) for item in x], indexing=indexing)


def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:
    return jnp.vander(unwrap(x), N, increasing)


def bartlett(x: int) -> Any:
    return jnp.bartlett(int(x)).astype(jnp.float32)


def blackman(x: int) -> Any:
    return jnp.blackman(int(x)).astype(jnp.float32)


def hamming(x: int) -> Any:
    return jnp.hamming(int(x)).astype(jnp.float32)


def hanning(x: int) -> Any:
    return jnp.hanning(int(x)).astype(jnp.float32)


def kaiser(x: int, beta: float) -> Any:
    return jnp.kaiser(int(x), beta).astype(jnp.float32)


def diag(x: Any, k: int = 0) -> Any:
    return jnp.diag(unwrap(x), k)


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return jnp.diagonal(unwrap(x), offset, axis1, axis2)


def diff(a: Any, n: int = 1, axis: int = -1) -> Any:
    return jnp.diff(unwrap(a), n, axis)


def roll(x: Any, shift: Any, axis: Any = None) -> Any:
    return jnp.roll(unwrap(x), shift, normalize_axis(axis))


def rot90(array: Any, k: int = 1, axes: Sequence[int] = (0, 1)) -> Any:
    return jnp.rot90(unwrap(array), k, tuple(axes))


def view(x: Any, dtype: Any = None) -> Any:
    x = unwrap(x)
    return x if dtype is None else x.view(to_jax_dtype(dtype))


def tensordot(x1: Any, x2: Any, axes: Any = 2) -> Any:
    return jnp.tensordot(unwrap(x1), unwrap(x2), axes)


def cross(x1: Any, x2: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: int | None = None) -> Any:
    return jnp.cross(unwrap(x1), unwrap(x2), axisa, axisb, axisc, axis)


def correlate(x1: Any, x2: Any, mode: str = "valid") -> Any:
    return jnp.correlate(unwrap(x1), unwrap(x2), mode)


def slogdet(x: Any) -> tuple[Any, Any]:
    sign, logabsdet = jnp.linalg.slogdet(unwrap(x))
    return sign, logabsdet


def trapezoid(y: Any, x: Any = None, dx: float = 1.0, axis: int = -1) -> Any:
    return jnp.trapezoid(_floating(y), unwrap(x), dx, axis)


def vectorize(pyfunc: Callable[..., Any], excluded: Any = None, signature: str | None = None) -> Callable[..., Any]:
    return jnp.vectorize(pyfunc, excluded=frozenset(excluded or ()), signature=signature)
