"""NumPy-like ops of the jax backend: jax.numpy, with Variables unwrapped to their arrays."""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Sequence

import jax.numpy as jnp
import numpy as np

from lamina.backend.common import normalize_axis, shape_of
from lamina.backend.jax.core import to_jax_dtype, unwrap


def _unwrapping(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        return fn(*[unwrap(a) for a in args], **kwargs)

    return op


def _unary(fn: Callable[..., Any]) -> Callable[[Any], Any]:
    """fn of one array, with Keras's parameter name."""
    def op(x: Any) -> Any:
        return fn(unwrap(x))

    op.__name__ = op.__qualname__ = fn.__name__
    return op


def _binary(fn: Callable[..., Any]) -> Callable[[Any, Any], Any]:
    """fn of two arrays (or numbers), with Keras's parameter names."""
    def op(x1: Any, x2: Any) -> Any:
        return fn(unwrap(x1), unwrap(x2))

    op.__name__ = op.__qualname__ = fn.__name__
    return op


abs = _unary(jnp.abs)
negative = _unary(jnp.negative)
exp = _unary(jnp.exp)
log = _unary(jnp.log)
log1p = _unary(jnp.log1p)
sqrt = _unary(jnp.sqrt)
square = _unary(jnp.square)
sign = _unary(jnp.sign)
floor = _unary(jnp.floor)
ceil = _unary(jnp.ceil)
sin = _unary(jnp.sin)
cos = _unary(jnp.cos)
tanh = _unary(jnp.tanh)
logical_not = _unary(jnp.logical_not)
isnan = _unary(jnp.isnan)
add = _binary(jnp.add)
subtract = _binary(jnp.subtract)
multiply = _binary(jnp.multiply)
divide = _binary(jnp.true_divide)
power = _binary(jnp.power)
maximum = _binary(jnp.maximum)
minimum = _binary(jnp.minimum)
equal = _binary(jnp.equal)
not_equal = _binary(jnp.not_equal)
greater = _binary(jnp.greater)
greater_equal = _binary(jnp.greater_equal)
less = _binary(jnp.less)
less_equal = _binary(jnp.less_equal)
logical_and = _binary(jnp.logical_and)
logical_or = _binary(jnp.logical_or)
matmul = _binary(jnp.matmul)


def where(condition: Any, x1: Any = None, x2: Any = None) -> Any:
    """x1 where condition holds, else x2; without x1 and x2, the indices where it holds (eagerly)."""
    if x1 is None and x2 is None:
        return jnp.nonzero(unwrap(condition))
    return jnp.where(unwrap(condition), unwrap(x1), unwrap(x2))


def clip(x: Any, x_min: Any, x_max: Any) -> Any:
    return jnp.clip(unwrap(x), unwrap(x_min), unwrap(x_max))


def einsum(subscripts: str, *operands: Any, **kwargs: Any) -> Any:
    return jnp.einsum(subscripts, *[unwrap(o) for o in operands], **kwargs)


def round(x: Any, decimals: int = 0) -> Any:
    return jnp.round(unwrap(x), decimals)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.sum(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = jnp.asarray(unwrap(x))
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)
    return jnp.mean(x, axis=normalize_axis(axis), keepdims=keepdims)


def prod(x: Any, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> Any:
    return jnp.prod(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims,
                    dtype=to_jax_dtype(dtype) if dtype else None)


def var(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.var(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return jnp.std(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Any:
    return jnp.max(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims, initial=initial)


def min(x: Any, axis: Any = None, keepdims: bool = False, initial: Any = None) -> Any:
    return jnp.min(unwrap(x), axis=normalize_axis(axis), keepdims=keepdims, initial=initial)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    return jnp.argmax(unwrap(x), axis=axis, keepdims=keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    return jnp.argmin(unwrap(x), axis=axis, keepdims=keepdims)


def cumsum(x: Any, axis: int | None = None, dtype: Any = None) -> Any:
    return jnp.cumsum(unwrap(x), axis=axis, dtype=to_jax_dtype(dtype) if dtype else None)


def reshape(x: Any, newshape: Sequence[int]) -> Any:
    return jnp.reshape(unwrap(x), tuple(newshape))


def transpose(x: Any, axes: Sequence[int] | None = None) -> Any:
    return jnp.transpose(unwrap(x), axes)


def expand_dims(x: Any, axis: int) -> Any:
    return jnp.expand_dims(unwrap(x), axis)


def squeeze(x: Any, axis: int | None = None) -> Any:
    return jnp.squeeze(unwrap(x), axis)


def concatenate(xs: Sequence[Any], axis: int = 0) -> Any:
    return jnp.concatenate([unwrap(x) for x in xs], axis=axis)


def stack(x: Sequence[Any], axis: int = 0) -> Any:
    return jnp.stack([unwrap(item) for item in x], axis=axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Any]:
    return jnp.split(unwrap(x), indices_or_sections, axis=axis)


def tile(x: Any, repeats: Sequence[int]) -> Any:
    return jnp.tile(unwrap(x), tuple(repeats))


def repeat(x: Any, repeats: int, axis: int | None = None) -> Any:
    return jnp.repeat(unwrap(x), repeats, axis=axis)


def broadcast_to(x: Any, shape: Sequence[int]) -> Any:
    return jnp.broadcast_to(unwrap(x), tuple(shape))


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    return jnp.take(unwrap(x), unwrap(indices), axis=axis)


def take_along_axis(x: Any, indices: Any, axis: int) -> Any:
    return jnp.take_along_axis(unwrap(x), unwrap(indices), axis=axis)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: Any = None) -> Any:
    x = jnp.asarray(unwrap(x))
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)).tolist()  # every NumPy form
    if mode == "constant":
        return jnp.pad(x, widths, constant_values=0 if constant_values is None else constant_values)
    if constant_values is not None:
        raise ValueError(f"pad: constant_values applies to mode 'constant' only, got mode {mode!r}.")
    return jnp.pad(x, widths, mode=mode)


def flip(x: Any, axis: Any = None) -> Any:
    return jnp.flip(unwrap(x), axis=normalize_axis(axis))


def zeros(shape: Sequence[int], dtype: Any = "float32") -> Any:
    return jnp.zeros(tuple(shape), dtype=to_jax_dtype(dtype))


def ones(shape: Sequence[int], dtype: Any = "float32") -> Any:
    return jnp.ones(tuple(shape), dtype=to_jax_dtype(dtype))


def full(shape: Sequence[int], fill_value: Any, dtype: Any = "float32") -> Any:
    return jnp.full(tuple(shape), fill_value, dtype=to_jax_dtype(dtype))


def zeros_like(x: Any, dtype: Any = None) -> Any:
    return jnp.zeros_like(unwrap(x), dtype=to_jax_dtype(dtype) if dtype else None)


def ones_like(x: Any, dtype: Any = None) -> Any:
    return jnp.ones_like(unwrap(x), dtype=to_jax_dtype(dtype) if dtype else None)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = None) -> Any:
    return jnp.arange(start, stop, step, dtype=to_jax_dtype(dtype) if dtype else None)


def eye(N: int, M: int | None = None, k: int = 0, dtype: Any = "float32") -> Any:
    return jnp.eye(N, M, k, dtype=to_jax_dtype(dtype))


def one_hot(x: Any, num_classes: int, dtype: Any = "float32") -> Any:
    import jax

    return jax.nn.one_hot(unwrap(x), num_classes, dtype=to_jax_dtype(dtype))


def shape(x: Any) -> tuple[int, ...]:
    return shape_of(unwrap(x))


def size(x: Any) -> int:
    return math.prod(shape_of(unwrap(x)))


from lamina.backend.jax.numpy_more import *  # noqa: E402,F401,F403
