"""keras.ops.numpy's elementwise math, reductions, statistics and searching on the torch backend."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch

from lamina.backend.common import normalize_axis
from lamina.backend.torch.core import to_torch_dtype
from lamina.backend.torch.numpy import _host_scalar, _operands, _reduce, _t, prod

arccos = torch.acos
arccosh = torch.acosh
arcsin = torch.asin
arcsinh = torch.asinh
arctan = torch.atan
arctanh = torch.atanh
cosh = torch.cosh
sinh = torch.sinh
tan = torch.tan
deg2rad = torch.deg2rad
rad2deg = torch.rad2deg
exp2 = torch.exp2
expm1 = torch.expm1
log10 = torch.log10
log2 = torch.log2
reciprocal = torch.reciprocal
sinc = torch.sinc
signbit = torch.signbit
isfinite = torch.isfinite
isinf = torch.isinf
isneginf = torch.isneginf
isposinf = torch.isposinf
angle = torch.angle
isreal = torch.isreal
bitwise_not = torch.bitwise_not


def _floating(x: Any) -> torch.Tensor:
    x = _t(x)
    return x if x.is_floating_point() or x.is_complex() else x.float()


def cbrt(x: Any) -> torch.Tensor:
    x = _floating(x)
    return torch.sign(x) * torch.abs(x).pow(1.0 / 3.0)


def trunc(x: Any) -> torch.Tensor:
    x = _t(x)
    return torch.trunc(x) if x.is_floating_point() else x


def i0(x: Any) -> torch.Tensor:
    return torch.special.i0(_floating(x))


def conj(x: Any) -> torch.Tensor:
    x = _t(x)
    return torch.conj_physical(x) if x.is_complex() else x


def real(x: Any) -> torch.Tensor:
    x = _t(x)
    return torch.real(x) if x.is_complex() else x


def imag(x: Any) -> torch.Tensor:
    x = _t(x)
    return torch.imag(x) if x.is_complex() else torch.zeros_like(x)


def copy(x: Any) -> torch.Tensor:
    return torch.clone(_t(x))


# Binary ops. torch takes a Python number as the second operand of most ops (no copy to the device); where
# an op takes tensors only, a number becomes a 0-d host tensor, which promotes like the number.
def _binary(function: Callable[..., torch.Tensor], number_second: bool = False) -> Callable[..., torch.Tensor]:
    def op(x1: Any, x2: Any) -> torch.Tensor:
        x1, x2 = _operands(x1, x2)
        if number_second and isinstance(x1, torch.Tensor):
            return function(x1, x2)
        return function(_host_scalar(x1), _host_scalar(x2))

    return op


def _promoted(x1: torch.Tensor, x2: torch.Tensor) -> torch.dtype:
    """The dtype NumPy gives x1 op x2, a 0-d operand (a Python number) counting only by its kind."""
    if (x1.ndim == 0) != (x2.ndim == 0) and x1.is_floating_point() == x2.is_floating_point():
        return x1.dtype if x1.ndim else x2.dtype
    return torch.promote_types(x1.dtype, x2.dtype)


def _same_dtype(function: Callable[..., torch.Tensor]) -> Callable[..., torch.Tensor]:
    """For torch ops that want both operands of one floating dtype: promote first, as NumPy would."""
    def op(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        dtype = _promoted(x1, x2)
        dtype = dtype if dtype.is_floating_point else torch.float32
        return function(x1.to(dtype), x2.to(dtype))

    return op


def _floor_divide(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return torch.div(x1, x2, rounding_mode="floor")


def _logaddexp2(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return _same_dtype(torch.logaddexp2)(x1, x2)


arctan2 = _binary(_same_dtype(torch.atan2))
floor_divide = _binary(_floor_divide)
fmax = _binary(torch.fmax)
fmin = _binary(torch.fmin)
fmod = _binary(torch.fmod, number_second=True)
mod = _binary(torch.remainder, number_second=True)
gcd = _binary(torch.gcd)
lcm = _binary(torch.lcm)
heaviside = _binary(_same_dtype(torch.heaviside))
hypot = _binary(_same_dtype(torch.hypot))
logaddexp = _binary(_same_dtype(torch.logaddexp))
logaddexp2 = _binary(_logaddexp2)
logical_xor = _binary(torch.logical_xor)
nextafter = _binary(_same_dtype(torch.nextafter))


def ldexp(x1: Any, x2: Any) -> torch.Tensor:
    x1, x2 = _operands(x1, x2)
    return _floating(_host_scalar(x1)) * torch.pow(2.0, _host_scalar(x2))


def bitwise_and(x: Any, y: Any) -> torch.Tensor:
    return torch.bitwise_and(*map(_host_scalar, _operands(x, y)))


def bitwise_or(x: Any, y: Any) -> torch.Tensor:
    return torch.bitwise_or(*map(_host_scalar, _operands(x, y)))


def bitwise_xor(x: Any, y: Any) -> torch.Tensor:
    return torch.bitwise_xor(*map(_host_scalar, _operands(x, y)))


def bitwise_left_shift(x: Any, y: Any) -> torch.Tensor:
    return torch.bitwise_left_shift(*map(_host_scalar, _operands(x, y)))


def bitwise_right_shift(x: Any, y: Any) -> torch.Tensor:
    return torch.bitwise_right_shift(*map(_host_scalar, _operands(x, y)))


def isclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> torch.Tensor:
    x1, x2 = map(_host_scalar, _operands(x1, x2))
    dtype = _promoted(x1, x2)
    return torch.isclose(x1.to(dtype), x2.to(dtype), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(x1: Any, x2: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> torch.Tensor:
    return torch.all(isclose(x1, x2, rtol, atol, equal_nan))


def nan_to_num(x: Any, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> torch.Tensor:
    x = _t(x)
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf) if x.is_floating_point() else x


# Reductions.
def all(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.all, _t(x), axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _reduce(torch.any, _t(x), axis, keepdims)


def count_nonzero(x: Any, axis: Any = None) -> torch.Tensor:
    return torch.count_nonzero(_t(x), dim=normalize_axis(axis))


def _axes(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    axis = normalize_axis(axis)
    if axis is None:
        return tuple(range(x.ndim))
    return tuple(sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis)))


def _last_axis(x: torch.Tensor, axis: Any) -> tuple[torch.Tensor, tuple[int, ...]]:
    """x with the reduced axes moved to the end and merged into one; the reduced axes."""
    axes = _axes(x, axis)
    kept = [a for a in range(x.ndim) if a not in axes]
    moved = x.permute(*kept, *axes)
    return moved.reshape(*moved.shape[:len(kept)], -1), axes


def _keep(result: torch.Tensor, x: torch.Tensor, axes: tuple[int, ...], keepdims: bool) -> torch.Tensor:
    """result, reduced over axes of x, with those axes back as length 1 when keepdims (after any leading q)."""
    if not keepdims:
        return result
    leading = result.ndim - (x.ndim - len(axes))
    shape = list(result.shape[:leading]) + [1 if a in axes else n for a, n in enumerate(x.shape)]
    return result.reshape(shape)


_QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x: Any, q: Any, axis: Any, method: str, keepdims: bool, ignore_nan: bool) -> torch.Tensor:
    if method not in _QUANTILE_METHODS:
        raise ValueError(f"quantile: method must be one of {_QUANTILE_METHODS}, got {method!r}.")
    x = _floating(x)
    flat, axes = _last_axis(x, axis)
    q = q if isinstance(q, (int, float)) else _t(q).to(flat.dtype)
    function = torch.nanquantile if ignore_nan else torch.quantile
    result = function(flat, q, dim=-1, interpolation=method)
    return _keep(result, x, axes, keepdims)


def quantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    return _quantile(x, q, axis, method, keepdims, ignore_nan=False)


def nanquantile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> torch.Tensor:
    return _quantile(x, q, axis, method, keepdims, ignore_nan=True)


def median(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _quantile(x, 0.5, axis, "linear", keepdims, ignore_nan=False)


def nanmedian(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _quantile(x, 0.5, axis, "linear", keepdims, ignore_nan=True)


def nansum(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    return _reduce(torch.sum, torch.where(torch.isnan(x), 0, x) if x.is_floating_point() else x, axis, keepdims)


def nanprod(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    return prod(torch.where(torch.isnan(x), 1, x) if x.is_floating_point() else x, axis, keepdims)


def nanmean(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return torch.nanmean(_floating(x), dim=normalize_axis(axis), keepdim=keepdims)


def nanvar(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _floating(x)
    deviation = x - torch.nanmean(x, dim=normalize_axis(axis), keepdim=True)
    return torch.nanmean(deviation * deviation, dim=normalize_axis(axis), keepdim=keepdims)


def nanstd(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return torch.sqrt(nanvar(x, axis, keepdims))


def _nan_extreme(reduce: Callable[..., torch.Tensor], fill: float, x: Any, axis: Any,
                 keepdims: bool) -> torch.Tensor:
    x = _t(x)
    if not x.is_floating_point():
        return _reduce(reduce, x, axis, keepdims)
    missing = torch.isnan(x)
    result = _reduce(reduce, torch.where(missing, fill, x), axis, keepdims)
    all_missing = _reduce(torch.all, missing, axis, keepdims)
    return torch.where(all_missing, math.nan, result)


def nanmax(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _nan_extreme(torch.amax, -math.inf, x, axis, keepdims)


def nanmin(x: Any, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    return _nan_extreme(torch.amin, math.inf, x, axis, keepdims)


def nanargmax(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    x = torch.where(torch.isnan(x), -math.inf, x) if x.is_floating_point() else x
    return torch.argmax(x, dim=axis, keepdim=keepdims)


def nanargmin(x: Any, axis: int | None = None, keepdims: bool = False) -> torch.Tensor:
    x = _t(x)
    x = torch.where(torch.isnan(x), math.inf, x) if x.is_floating_point() else x
    return torch.argmin(x, dim=axis, keepdim=keepdims)


def _running(function: Callable[..., torch.Tensor], x: torch.Tensor, axis: int | None, dtype: Any) -> torch.Tensor:
    if axis is None:
        x, axis = x.reshape(-1), 0
    return function(x, dim=axis, dtype=to_torch_dtype(dtype) if dtype else None)


def cumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    return _running(torch.cumprod, _t(x), axis, dtype)


def nancumsum(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    x = _t(x)
    return _running(torch.cumsum, torch.where(torch.isnan(x), 0, x) if x.is_floating_point() else x, axis, dtype)


def nancumprod(x: Any, axis: int | None = None, dtype: Any = None) -> torch.Tensor:
    x = _t(x)
    return _running(torch.cumprod, torch.where(torch.isnan(x), 1, x) if x.is_floating_point() else x, axis, dtype)


# Sorting and searching.
def sort(x: Any, axis: int | None = -1) -> torch.Tensor:
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


def argsort(x: Any, axis: int | None = -1) -> torch.Tensor:
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.argsort(x, dim=axis, stable=True)


def argpartition(x: Any, kth: int, axis: int = -1) -> torch.Tensor:
    """A full stable sort is one valid partition; torch has no partial one."""
    return argsort(x, axis)


def searchsorted(sorted_sequence: Any, values: Any, side: str = "left") -> torch.Tensor:
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}.")
    sorted_sequence = _t(sorted_sequence)
    values = _t(values).to(sorted_sequence.dtype)
    return torch.searchsorted(sorted_sequence, values, side=side)


def digitize(x: Any, bins: Any) -> torch.Tensor:
    bins = _t(bins)
    return torch.bucketize(_t(x).to(bins.dtype), bins, right=True)


def isin(x1: Any, x2: Any, assume_unique: bool = False, invert: bool = False) -> torch.Tensor:
    return torch.isin(_t(x1), _t(x2), assume_unique=assume_unique, invert=invert)


def bincount(x: Any, weights: Any = None, minlength: int = 0, sparse: bool = False) -> torch.Tensor:
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by the torch backend.")
    return torch.bincount(_t(x), weights=None if weights is None else _t(weights), minlength=minlength)


def histogram(x: Any, bins: int = 10, range: tuple[float, float] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    x = _floating(x).reshape(-1)
    low, high = (x.min(), x.max()) if range is None else (torch.tensor(range[0]), torch.tensor(range[1]))
    edges = low + (high - low) * torch.linspace(0.0, 1.0, bins + 1, dtype=x.dtype, device=x.device)
    # the bin of each value: the last bin includes its right edge, values outside the range fall out
    index = torch.clamp(torch.searchsorted(edges, x, right=True) - 1, max=bins - 1)
    inside = (x >= edges[0]) & (x <= edges[-1])
    counts = torch.zeros(bins, dtype=torch.int64, device=x.device)
    counts.scatter_add_(0, torch.where(inside, index, 0), inside.long())
    return counts, edges


def nonzero(x: Any) -> tuple[torch.Tensor, ...]:
    return torch.nonzero(_t(x), as_tuple=True)


def unique(x: Any, sorted: bool = True, return_index: bool = False, return_inverse: bool = False,
           return_counts: bool = False, axis: int | None = None, size: int | None = None,
           fill_value: Any = None) -> Any:
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    values, inverse, counts = torch.unique(x, sorted=True, return_inverse=True, return_counts=True, dim=axis)
    inverse = inverse.reshape(-1)
    first = torch.full((values.shape[axis],), x.shape[axis], dtype=torch.int64, device=x.device)
    first = first.scatter_reduce(0, inverse, torch.arange(x.shape[axis], device=x.device), "amin")
    if not sorted:  # the order of first appearance
        order = torch.argsort(first)
        values, first, counts = torch.index_select(values, axis, order), first[order], counts[order]
        inverse = torch.argsort(order)[inverse]
    if size is not None:
        values, first, counts = _fit(values, axis, size, fill_value), _fit(first, 0, size, 0), _fit(counts, 0, size, 0)
    extras = [part for part, wanted in ((first, return_index), (inverse, return_inverse), (counts, return_counts))
              if wanted]
    return (values, *extras) if extras else values


def _fit(x: torch.Tensor, axis: int, size: int, fill_value: Any) -> torch.Tensor:
    """x cut or padded along axis to size; padding repeats fill_value (x's first element when None)."""
    length = x.shape[axis]
    if length >= size:
        return torch.narrow(x, axis, 0, size)
    fill = torch.narrow(x, axis, 0, 1) if fill_value is None else torch.full_like(torch.narrow(x, axis, 0, 1),
                                                                                   fill_value)
    return torch.cat([x, fill.expand(*[size - length if a == axis else n for a, n in enumerate(x.shape)])], axis)

