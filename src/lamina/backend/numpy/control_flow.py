"""Control flow and gradients of the NumPy backend: cond, while_loop, scan, custom gradients."""

from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np

from lamina.backend.common import map_leaves
from lamina.backend.numpy.core import to_numpy_dtype

# The numpy backend computes eagerly: branches and loops run as Python; no gradients flow.


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [] if tree is None else [tree]


def _stack(items: list[Any]) -> Any:
    return map_leaves(lambda *leaves: np.stack(leaves), *items)


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """branches[index](*operands), index clamped into range."""
    return branches[builtins.min(builtins.max(int(index), 0), len(branches) - 1)](*operands)


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    single = not isinstance(loop_vars, (tuple, list))
    values = (loop_vars,) if single else tuple(loop_vars)
    iteration = 0
    while (maximum_iterations is None or iteration < maximum_iterations) and bool(cond(*values)):
        values = body(*values)
        values = tuple(values) if isinstance(values, (tuple, list)) else (values,)
        iteration += 1
    return values[0] if single else values


def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    value = init_val
    for index in range(int(lower), int(upper)):
        value = body_fun(index, value)
    return value


def scan(f: Callable[[Any, Any], Any], init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int = 1) -> tuple[Any, Any]:
    """Run carry, y = f(carry, x) over the leading axis of xs; the final carry and the stacked ys."""
    leaves = _leaves(xs)
    steps = length if not leaves else np.shape(leaves[0])[0]
    if steps is None:
        raise ValueError("scan needs xs or length; got neither.")
    carry, outputs = init, []
    for index in (range(steps - 1, -1, -1) if reverse else range(steps)):
        carry, y = f(carry, None if xs is None else map_leaves(lambda x: x[index], xs))
        outputs.append(y)
    if reverse:
        outputs.reverse()
    return carry, (_stack(outputs) if outputs and outputs[0] is not None else None)


def map(f: Callable[[Any], Any], xs: Any) -> Any:
    """f over the leading axis of xs (an array or a structure of them), the results stacked."""
    steps = np.shape(_leaves(xs)[0])[0]
    return _stack([f(map_leaves(lambda x: x[index], xs)) for index in range(steps)])


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    return map(function, elements)


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The inclusive prefix combination f(...f(f(x0, x1), x2)..., xi) along axis, in log2(n) vectorized steps."""
    elems = map_leaves(np.asarray, elems)
    if reverse:
        elems = map_leaves(lambda x: np.flip(x, axis), elems)
    length, offset = np.shape(_leaves(elems)[0])[axis], 1
    while offset < length:  # each element combines with the one offset before it (Hillis and Steele)
        combined = f(map_leaves(lambda x: np.take(x, np.arange(length - offset), axis), elems),
                     map_leaves(lambda x: np.take(x, np.arange(offset, length), axis), elems))
        elems = map_leaves(lambda x, y: np.concatenate([np.take(x, np.arange(offset), axis), y], axis=axis),
                           elems, combined)
        offset *= 2
    return map_leaves(lambda x: np.flip(x, axis), elems) if reverse else elems


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """f with its custom gradient dropped: the numpy backend computes no gradients."""

    def wrapper(*args: Any) -> Any:
        return f(*args)[0]

    return wrapper


# --- tensor updates -----------------------------------------------------------------------------------

def scatter(indices: Any, values: Any, shape: Sequence[int]) -> np.ndarray:
    """Zeros of shape with values added at indices (N, k); repeated indices add up."""
    values = np.asarray(values)
    return scatter_update(np.zeros(tuple(shape), values.dtype), indices, values, reduction="add")


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> np.ndarray:
    """inputs with the entries (or slices) at indices (N, k) set to updates, or combined by reduction."""
    result = np.array(inputs)
    where = tuple(np.moveaxis(np.asarray(indices, np.int64), -1, 0))
    updates = np.asarray(updates, result.dtype)
    if reduction is None:
        result[where] = updates
        return result
    methods = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}
    if reduction not in methods:
        raise ValueError(f'reduction must be None, "add", "max", "min" or "mul", got {reduction!r}.')
    methods[reduction].at(result, where, updates)
    return result


def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> np.ndarray:
    """The block of inputs of this shape from start_indices."""
    starts = [int(s) for s in start_indices]
    return np.asarray(inputs)[tuple(builtins.slice(s, s + n) for s, n in zip(starts, shape))]


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> np.ndarray:
    """inputs with the block from start_indices replaced by updates."""
    result, updates = np.array(inputs), np.asarray(updates)
    starts = [int(s) for s in start_indices]
    result[tuple(builtins.slice(s, s + n) for s, n in zip(starts, updates.shape))] = updates
    return result


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[np.ndarray]:
    x = np.asarray(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} does not match x's axis {axis} of length {x.shape[axis]}.")
    return list(np.moveaxis(x, axis, 0))


def saturate_cast(x: Any, dtype: Any) -> np.ndarray:
    """x cast to dtype with values beyond dtype's range clipped to its limits first."""
    x, target = np.asarray(x), to_numpy_dtype(dtype)
    if target == np.bool_:
        return x.astype(target)
    info = np.finfo(target) if np.issubdtype(target, np.inexact) else np.iinfo(target)
    source = np.finfo(x.dtype) if np.issubdtype(x.dtype, np.inexact) else np.iinfo(x.dtype)
    low, high = builtins.max(float(info.min), float(source.min)), builtins.min(float(info.max), float(source.max))
    low_x, high_x = np.asarray(low).astype(x.dtype), np.asarray(high).astype(x.dtype)
    if np.issubdtype(x.dtype, np.inexact) and not np.issubdtype(target, np.inexact):
        # the limit as x's dtype holds it may round past the target's range (2**31 - 1 -> 2**31 in float32)
        if float(high_x) > int(info.max):
            high_x = np.nextafter(high_x, np.zeros_like(high_x))
        if float(low_x) < int(info.min):
            low_x = np.nextafter(low_x, np.zeros_like(low_x))
    return np.clip(x, low_x, high_x).astype(target)
