"""Control flow and gradients of the jax backend: cond, while_loop, scan, custom gradients."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from lamina.backend.jax.core import Variable, to_jax_dtype, unwrap

# Every loop and branch here is a lax primitive, so it traces inside jax.jit.


def _arrays(tree: Any) -> Any:
    return jax.tree_util.tree_map(unwrap, tree, is_leaf=lambda x: isinstance(x, Variable))


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    return jax.lax.cond(unwrap(pred), true_fn, false_fn)


def switch(index: Any, branches: Sequence[Callable[..., Any]], *operands: Any) -> Any:
    """branches[index](*operands), index clamped into range."""
    return jax.lax.switch(unwrap(index), branches, *_arrays(operands))


def while_loop(cond: Callable[..., Any], body: Callable[..., Any], loop_vars: Any,
               maximum_iterations: int | None = None) -> Any:
    single = not isinstance(loop_vars, (tuple, list))
    values = (loop_vars,) if single else tuple(loop_vars)
    values = _arrays(values)

    def as_tuple(result: Any) -> tuple[Any, ...]:
        return tuple(result) if isinstance(result, (tuple, list)) else (result,)

    if maximum_iterations is None:
        values = jax.lax.while_loop(lambda v: cond(*v), lambda v: as_tuple(body(*v)), values)
    else:
        def bounded_cond(state: Any) -> Any:
            iteration, v = state
            return jnp.logical_and(iteration < maximum_iterations, cond(*v))

        _, values = jax.lax.while_loop(bounded_cond, lambda s: (s[0] + 1, as_tuple(body(*s[1]))), (0, values))
    return values[0] if single else values


def fori_loop(lower: Any, upper: Any, body_fun: Callable[[Any, Any], Any], init_val: Any) -> Any:
    return jax.lax.fori_loop(unwrap(lower), unwrap(upper), body_fun, _arrays(init_val))


def scan(f: Callable[[Any, Any], Any], init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: int = 1) -> tuple[Any, Any]:
    """Run carry, y = f(carry, x) over the leading axis of xs; the final carry and the stacked ys."""
    return jax.lax.scan(f, _arrays(init), _arrays(xs), length=length, reverse=reverse, unroll=unroll)


def map(f: Callable[[Any], Any], xs: Any) -> Any:
    """f over the leading axis of xs (an array or a structure of them), the results stacked."""
    return jax.lax.map(f, _arrays(xs))


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    return jax.vmap(function)(_arrays(elements))


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The inclusive prefix combination of elems along axis by the associative f, in parallel."""
    return jax.lax.associative_scan(f, _arrays(elems), reverse=reverse, axis=axis)


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """f(*args) returns (output, grad_fn); gradients through the result are grad_fn(upstream)."""

    def with_tuple_gradients(fn: Callable[..., Any]) -> Callable[..., Any]:
        def forward(*args: Any) -> Any:
            output, grad_fn = fn(*args)

            def vjp(*upstream: Any) -> tuple[Any, ...]:
                grads = grad_fn(*upstream)
                return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)

            return output, vjp

        return jax.custom_gradient(forward)

    custom = with_tuple_gradients(f)

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        function = with_tuple_gradients(functools.partial(f, **kwargs)) if kwargs else custom
        return function(*_arrays(args))

    return wrapper


# --- tensor updates -----------------------------------------------------------------------------------

def scatter(indices: Any, values: Any, shape: Sequence[int]) -> Any:
    """Zeros of shape with values added at indices (N, k); repeated indices add up."""
    values = jnp.asarray(unwrap(values))
    return scatter_update(jnp.zeros(tuple(shape), values.dtype), indices, values, reduction="add")


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> Any:
    """inputs with the entries (or slices) at indices (N, k) set to updates, or combined by reduction."""
    inputs = jnp.asarray(unwrap(inputs))
    indices = jnp.asarray(unwrap(indices))
    where = inputs.at[tuple(jnp.moveaxis(indices, -1, 0))]
    updates = jnp.asarray(unwrap(updates), inputs.dtype)
    if reduction is None:
        return where.set(updates)
    methods = {"add": where.add, "max": where.max, "min": where.min, "mul": where.multiply}
    if reduction not in methods:
        raise ValueError(f'reduction must be None, "add", "max", "min" or "mul", got {reduction!r}.')
    return methods[reduction](updates)


def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> Any:
    """The block of inputs of this shape from start_indices."""
    return jax.lax.dynamic_slice(jnp.asarray(unwrap(inputs)), [unwrap(i) for i in start_indices], tuple(shape))


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> Any:
    """inputs with the block from start_indices replaced by updates."""
    inputs = jnp.asarray(unwrap(inputs))
    updates = jnp.asarray(unwrap(updates), inputs.dtype)
    return jax.lax.dynamic_update_slice(inputs, updates, [unwrap(i) for i in start_indices])


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[Any]:
    x = jnp.asarray(unwrap(x))
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} does not match x's axis {axis} of length {x.shape[axis]}.")
    return [jnp.squeeze(part, axis) for part in jnp.split(x, x.shape[axis], axis=axis)]


def saturate_cast(x: Any, dtype: Any) -> Any:
    """x cast to dtype with values beyond dtype's range clipped to its limits first."""
    x, target = jnp.asarray(unwrap(x)), to_jax_dtype(dtype)
    if target == jnp.bool_:
        return x.astype(target)
    info = jnp.finfo(target) if jnp.issubdtype(target, jnp.inexact) else jnp.iinfo(target)
    source = jnp.finfo(x.dtype) if jnp.issubdtype(x.dtype, jnp.inexact) else jnp.iinfo(x.dtype)
    low, high = max(float(info.min), float(source.min)), min(float(info.max), float(source.max))
    low_x, high_x = np.asarray(low).astype(x.dtype), np.asarray(high).astype(x.dtype)
    if jnp.issubdtype(x.dtype, jnp.inexact) and not jnp.issubdtype(target, jnp.inexact):
        # the limit as x's dtype holds it may round past the target's range (2**31 - 1 -> 2**31 in float32)
        if float(high_x) > int(info.max):
            high_x = np.nextafter(high_x, np.zeros_like(high_x))
        if float(low_x) < int(info.min):
            low_x = np.nextafter(low_x, np.zeros_like(low_x))
    return jnp.clip(x, low_x, high_x).astype(target)
