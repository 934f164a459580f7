"""keras.ops.numpy: the NumPy-like ops.

Ops with output shapes that depend on the values (nonzero, unique without size, bincount, histogram
without range) run eagerly; under jax.jit, jax needs their sizes as static arguments.
"""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend
from lamina.ops.dispatch import as_tensor, backend_op, family_getattr

# Ops the backend provides under the same name (see lamina.backend.contract).
NAMES = tuple((
    "abs add all allclose angle any arange arccos arccosh arcsin arcsinh arctan arctan2 arctanh argmax argmin "
    "argpartition argsort bartlett bincount bitwise_and bitwise_left_shift bitwise_not bitwise_or "
    "bitwise_right_shift bitwise_xor blackman broadcast_to cbrt ceil clip concatenate conj copy corrcoef "
    "correlate cos cosh count_nonzero cross cumprod cumsum deg2rad diag diagonal diff digitize divide dot einsum "
    "equal exp exp2 expand_dims expm1 eye flip floor floor_divide fmax fmin fmod full gcd geomspace greater "
    "greater_equal hamming hanning heaviside histogram hypot i0 imag inner isclose isfinite isin isinf isnan "
    "isneginf isposinf isreal kaiser kron lcm ldexp less less_equal linspace log log10 log1p log2 logaddexp "
    "logaddexp2 logical_and logical_not logical_or logical_xor logspace matmul max maximum mean median meshgrid "
    "min minimum mod multiply nan_to_num nanargmax nanargmin nancumprod nancumsum nanmax nanmean nanmedian nanmin "
    "nanprod nanquantile nanstd nansum nanvar negative nextafter nonzero not_equal ones ones_like outer pad power "
    "prod quantile rad2deg real reciprocal repeat reshape roll rot90 round searchsorted sign signbit sin sinc "
    "sinh size slogdet sort split sqrt square squeeze stack std subtract sum take take_along_axis tan tanh "
    "tensordot tile transpose trapezoid tri tril triu trunc unique vander var vdot vectorize view where zeros "
    "zeros_like"
).split())
# Ops written here from other ops.
COMPOSED = tuple((
    "absolute amax amin append array array_split average bitwise_invert conjugate diagflat divide_no_nan dsplit "
    "dstack empty empty_like fabs fliplr flipud full_like get_item hsplit hstack identity left_shift moveaxis "
    "nanpercentile ndim percentile ptp ravel right_shift select swapaxes trace true_divide unravel_index vsplit "
    "vstack"
).split())

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)


def _op(name: str) -> Any:
    return backend_op(name)


def _ndim(x: Any) -> int:
    return len(backend.impl.shape(x))


# Other names for backend ops.
def absolute(x: Any) -> Any:
    return _op("abs")(x)


def fabs(x: Any) -> Any:
    return _op("abs")(x)


def conjugate(x: Any) -> Any:
    return _op("conj")(x)


def true_divide(x1: Any, x2: Any) -> Any:
    return _op("divide")(x1, x2)


def amax(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _op("max")(x, axis=axis, keepdims=keepdims)


def amin(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _op("min")(x, axis=axis, keepdims=keepdims)


def bitwise_invert(x: Any) -> Any:
    return _op("bitwise_not")(x)


def left_shift(x: Any, y: Any) -> Any:
    return _op("bitwise_left_shift")(x, y)


def right_shift(x: Any, y: Any) -> Any:
    return _op("bitwise_right_shift")(x, y)


def identity(n: int, dtype: Any = None) -> Any:
    return _op("eye")(n, dtype=dtype or "float32")


def array(x: Any, dtype: Any = None) -> Any:
    return backend.impl.convert_to_tensor(x, dtype)


def empty(shape: Sequence[int], dtype: Any = None) -> Any:
    """Zeros: an uninitialised tensor would make results depend on leftover memory."""
    return _op("zeros")(shape, dtype=dtype or "float32")


def empty_like(x: Any, dtype: Any = None) -> Any:
    return _op("zeros_like")(x, dtype=dtype)


def full_like(x: Any, fill_value: Any, dtype: Any = None) -> Any:
    x = as_tensor(x)
    return _op("full")(backend.impl.shape(x), fill_value, dtype=dtype or backend.impl.dtype_of(x))


def get_item(x: Any, key: Any) -> Any:
    return as_tensor(x)[key]


# Shapes.
def ndim(x: Any) -> int:
    return _ndim(x)


def ravel(x: Any) -> Any:
    return _op("reshape")(x, (-1,))


def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    rank = _ndim(x)
    source = [a % rank for a in ((source,) if isinstance(source, int) else source)]
    destination = [a % rank for a in ((destination,) if isinstance(destination, int) else destination)]
    if len(source) != len(destination):
        raise ValueError(f"moveaxis: source and destination must have as many axes, got {source} and {destination}.")
    order = [a for a in range(rank) if a not in source]
    for place, axis in sorted(zip(destination, source)):
        order.insert(place, axis)
    return _op("transpose")(x, tuple(order))


def swapaxes(x: Any, axis1: int, axis2: int) -> Any:
    order = list(range(_ndim(x)))
    order[axis1], order[axis2] = order[axis2], order[axis1]
    return _op("transpose")(x, tuple(order))


def fliplr(x: Any) -> Any:
    return _op("flip")(x, axis=1)


def flipud(x: Any) -> Any:
    return _op("flip")(x, axis=0)


def _at_least(x: Any, rank: int) -> Any:
    """x with length-1 axes added as numpy.atleast_2d / atleast_3d add them."""
    shape = backend.impl.shape(x)
    if len(shape) >= rank:
        return x
    if rank == 2:
        return _op("reshape")(x, (1, *shape) if shape else (1, 1))
    return _op("reshape")(x, {0: (1, 1, 1), 1: (1, *shape, 1), 2: (*shape, 1)}[len(shape)])


def hstack(xs: Sequence[Any]) -> Any:
    xs = [as_tensor(x) for x in xs]
    return _op("concatenate")(xs, axis=0 if all(_ndim(x) <= 1 for x in xs) else 1)


def vstack(xs: Sequence[Any]) -> Any:
    return _op("concatenate")([_at_least(as_tensor(x), 2) for x in xs], axis=0)


def dstack(xs: Sequence[Any]) -> Any:
    return _op("concatenate")([_at_least(as_tensor(x), 3) for x in xs], axis=2)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    """Like split, but n sections need not divide the length: the first length % n get one more."""
    if not isinstance(indices_or_sections, int):
        return _op("split")(x, indices_or_sections, axis=axis)
    if indices_or_sections <= 0:
        raise ValueError(f"array_split: indices_or_sections must be positive, got {indices_or_sections}.")
    length = backend.impl.shape(x)[axis]
    base, extra = divmod(length, indices_or_sections)
    sizes = [base + 1] * extra + [base] * (indices_or_sections - extra)
    return _op("split")(x, [sum(sizes[:i]) for i in range(1, indices_or_sections)], axis=axis)


def _split_even(name: str, x: Any, indices_or_sections: Any, axis: int) -> list[Any]:
    if isinstance(indices_or_sections, int) and backend.impl.shape(x)[axis] % indices_or_sections:
        raise ValueError(f"{name}: {indices_or_sections} sections do not divide axis {axis} of length "
                         f"{backend.impl.shape(x)[axis]} equally.")
    return array_split(x, indices_or_sections, axis=axis)


def hsplit(x: Any, indices_or_sections: Any) -> list[Any]:
    return _split_even("hsplit", x, indices_or_sections, 0 if _ndim(x) == 1 else 1)


def vsplit(x: Any, indices_or_sections: Any) -> list[Any]:
    return _split_even("vsplit", x, indices_or_sections, 0)


def dsplit(x: Any, indices_or_sections: Any) -> list[Any]:
    return _split_even("dsplit", x, indices_or_sections, 2)


def append(x1: Any, x2: Any, axis: int | None = None) -> Any:
    if axis is None:
        return _op("concatenate")([ravel(x1), ravel(x2)], axis=0)
    return _op("concatenate")([x1, x2], axis=axis)


def diagflat(x: Any, k: int = 0) -> Any:
    return _op("diag")(ravel(x), k=k)


def unravel_index(indices: Any, shape: Sequence[int]) -> tuple[Any, ...]:
    """The coordinates in an array of `shape` of each flat index, as a tuple of arrays."""
    indices = as_tensor(indices)
    coordinates = []
    for length in reversed(tuple(shape)):
        coordinates.append(_op("mod")(indices, length))
        indices = _op("floor_divide")(indices, length)
    return tuple(reversed(coordinates))


# Math.
def divide_no_nan(x1: Any, x2: Any) -> Any:
    """x1 / x2, and 0 where x2 is 0 (with gradients that stay finite there)."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    zero = _op("equal")(x2, 0)
    safe = _op("where")(zero, _op("ones_like")(x2), x2)
    quotient = _op("divide")(x1, safe)
    return _op("where")(zero, _op("zeros_like")(quotient), quotient)


def ptp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _op("subtract")(_op("max")(x, axis=axis, keepdims=keepdims), _op("min")(x, axis=axis, keepdims=keepdims))


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return _op("sum")(_op("diagonal")(x, offset=offset, axis1=axis1, axis2=axis2), axis=-1)


def average(x: Any, axis: Any = None, weights: Any = None) -> Any:
    """The mean of x along axis, weighted by weights (x's shape, or 1-D along a single axis)."""
    if weights is None:
        return _op("mean")(x, axis=axis)
    x, weights = as_tensor(x), as_tensor(weights)
    shape, weights_shape = backend.impl.shape(x), backend.impl.shape(weights)
    if weights_shape != shape:
        if not isinstance(axis, int) or len(weights_shape) != 1 or weights_shape[0] != shape[axis]:
            raise ValueError(f"average: weights of shape {weights_shape} match neither x's shape {shape} nor its "
                             f"axis {axis}.")
        broadcast = [1] * len(shape)
        broadcast[axis] = weights_shape[0]
        weights = _op("reshape")(weights, tuple(broadcast))
    total = _op("sum")(_op("multiply")(x, weights), axis=axis)
    return _op("divide")(total, _op("sum")(_op("multiply")(_op("ones_like")(x), weights), axis=axis))


def percentile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Any:
    return _op("quantile")(x, _percent(q), axis=axis, method=method, keepdims=keepdims)


def nanpercentile(x: Any, q: Any, axis: Any = None, method: str = "linear", keepdims: bool = False) -> Any:
    return _op("nanquantile")(x, _percent(q), axis=axis, method=method, keepdims=keepdims)


def _percent(q: Any) -> Any:
    return q / 100 if isinstance(q, (int, float)) else _op("divide")(_op("cast")(q, "float32"), 100.0)


def select(condlist: Sequence[Any], choicelist: Sequence[Any], default: Any = 0) -> Any:
    """The choice of the first condition that holds, elementwise; default where none does."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: condlist has {len(condlist)} conditions but choicelist {len(choicelist)} choices.")
    if not condlist:
        raise ValueError("select: condlist must not be empty.")
    choices = [as_tensor(choice) for choice in choicelist]
    result = _op("add")(_op("zeros_like")(choices[0]), default)
    for condition, choice in zip(reversed(condlist), reversed(choices)):
        result = _op("where")(as_tensor(condition), choice, result)
    return result
