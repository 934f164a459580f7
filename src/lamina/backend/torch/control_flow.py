"""Control flow and gradients of the torch backend: cond, while_loop, scan, custom gradients."""

from __future__ import annotations

import builtins
import functools
import math
from typing import Any, Callable, Sequence

import torch

from lamina.backend.common import map_leaves
from lamina.backend.torch.core import convert_to_tensor, to_torch_dtype

# Eager torch runs control flow as Python: switch and while_loop read their predicate on the host, which
# torch.compile turns into a graph break (cond becomes torch.cond there); scan, map and fori_loop unroll.


def _leaves(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [leaf for key in tree for leaf in _leaves(tree[key])]
    if isinstance(tree, (list, tuple)):
        return [leaf for item in tree for leaf in _leaves(item)]
    return [] if tree is None else [tree]


def _stack(items: list[Any]) -> Any:
    return map_leaves(lambda *leaves: torch.stack([convert_to_tensor(leaf) for leaf in leaves]), *items)


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    if torch.compiler.is_compiling() and isinstance(pred, torch.Tensor):
        return torch.cond(pred, true_fn, false_fn, ())  # both branches traced, no graph break
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
    steps = length if not leaves else leaves[0].shape[0]
    if steps is None:
        raise ValueError("scan needs xs or length; got neither.")
    carry, outputs = init, []
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for index in order:
        carry, y = f(carry, None if xs is None else map_leaves(lambda x: x[index], xs))
        outputs.append(y)
    if reverse:
        outputs.reverse()
    return carry, (_stack(outputs) if outputs and outputs[0] is not None else None)


def map(f: Callable[[Any], Any], xs: Any) -> Any:
    """f over the leading axis of xs (a tensor or a structure of them), the results stacked."""
    steps = _leaves(xs)[0].shape[0]
    return _stack([f(map_leaves(lambda x: x[index], xs)) for index in range(steps)])


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    return torch.vmap(function)(map_leaves(convert_to_tensor, elements))


def _take(tree: Any, axis: int, start: int, stop: int | None) -> Any:
    return map_leaves(lambda x: x.narrow(axis, start, (x.shape[axis] if stop is None else stop) - start), tree)


def associative_scan(f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The inclusive prefix combination f(...f(f(x0, x1), x2)..., xi) along axis, in log2(n) vectorized steps."""
    elems = map_leaves(convert_to_tensor, elems)
    if reverse:
        elems = map_leaves(lambda x: x.flip(axis), elems)
    length, offset = _leaves(elems)[0].shape[axis], 1
    while offset < length:  # each element combines with the one offset before it (Hillis and Steele)
        combined = f(_take(elems, axis, 0, length - offset), _take(elems, axis, offset, None))
        elems = map_leaves(lambda x, y: torch.cat([x.narrow(axis, 0, offset), y], dim=axis), elems, combined)
        offset *= 2
    return map_leaves(lambda x: x.flip(axis), elems) if reverse else elems


class _CustomGradient(torch.autograd.Function):
    """Runs fn(*args) -> (output, grad_fn) forward, and grad_fn(*upstream) backward."""

    @staticmethod
    def forward(ctx: Any, fn: Callable[..., Any], *args: Any) -> Any:
        output, ctx.grad_fn = fn(*args)
        ctx.tensor_inputs = [isinstance(a, torch.Tensor) for a in args]
        return output

    @staticmethod
    def backward(ctx: Any, *upstream: Any) -> Any:
        grads = ctx.grad_fn(*upstream)
        grads = iter(grads if isinstance(grads, (list, tuple)) else [grads])
        # no gradient for fn; one per tensor argument, in order; None for the other arguments
        return (None, *(next(grads, None) if is_tensor else None for is_tensor in ctx.tensor_inputs))


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """f(*args) returns (output, grad_fn); gradients through the result are grad_fn(upstream)."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return _CustomGradient.apply(functools.partial(f, **kwargs) if kwargs else f, *args)

    return wrapper


# --- tensor updates -----------------------------------------------------------------------------------

def _rows(inputs: torch.Tensor, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The flat row index of each index tuple (N, k), and inputs viewed as (rows, *inputs.shape[k:])."""
    depth = indices.shape[-1]
    strides = torch.tensor([math.prod(inputs.shape[j + 1:depth]) for j in range(depth)], device=inputs.device)
    return (indices * strides).sum(-1), inputs.reshape((-1, *inputs.shape[depth:]))


def scatter(indices: Any, values: Any, shape: Sequence[int]) -> torch.Tensor:
    """Zeros of shape with values added at indices (N, k); repeated indices add up."""
    values = convert_to_tensor(values)
    zeros = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    return scatter_update(zeros, indices, values, reduction="add")


def scatter_update(inputs: Any, indices: Any, updates: Any, reduction: str | None = None) -> torch.Tensor:
    """inputs with the entries (or slices) at indices (N, k) set to updates, or combined by reduction."""
    inputs = convert_to_tensor(inputs)
    indices = convert_to_tensor(indices).long()
    updates = convert_to_tensor(updates, inputs.dtype)
    rows, flat = _rows(inputs, indices.reshape(-1, indices.shape[-1]))
    updates = updates.reshape((-1, *flat.shape[1:]))
    if reduction is None:
        result = flat.index_copy(0, rows, updates)
    elif reduction == "add":
        result = flat.index_add(0, rows, updates)
    elif reduction in ("max", "min", "mul"):
        index = rows.reshape((-1,) + (1,) * (updates.ndim - 1)).expand(updates.shape)
        result = flat.scatter_reduce(0, index, updates, {"max": "amax", "min": "amin", "mul": "prod"}[reduction])
    else:
        raise ValueError(f'reduction must be None, "add", "max", "min" or "mul", got {reduction!r}.')
    return result.reshape(inputs.shape)


def _narrowed(inputs: torch.Tensor, start_indices: Any, shape: Sequence[int]) -> torch.Tensor:
    view = inputs
    for axis, (start, length) in enumerate(zip(start_indices, shape)):
        view = view.narrow(axis, start, length)
    return view


def slice(inputs: Any, start_indices: Any, shape: Sequence[int]) -> torch.Tensor:
    """The block of inputs of this shape from start_indices."""
    return _narrowed(convert_to_tensor(inputs), list(start_indices), list(shape))


def slice_update(inputs: Any, start_indices: Any, updates: Any) -> torch.Tensor:
    """inputs with the block from start_indices replaced by updates."""
    result = convert_to_tensor(inputs).clone()
    updates = convert_to_tensor(updates, result.dtype)
    _narrowed(result, list(start_indices), updates.shape).copy_(updates)
    return result


def unstack(x: Any, num: int | None = None, axis: int = 0) -> list[torch.Tensor]:
    x = convert_to_tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} does not match x's axis {axis} of length {x.shape[axis]}.")
    return list(torch.unbind(x, axis))


def saturate_cast(x: Any, dtype: Any) -> torch.Tensor:
    """x cast to dtype with values beyond dtype's range clipped to its limits first."""
    x, target = convert_to_tensor(x), to_torch_dtype(dtype)
    if target == torch.bool:
        return x.to(target)
    info = torch.finfo(target) if target.is_floating_point else torch.iinfo(target)
    source = torch.finfo(x.dtype) if x.dtype.is_floating_point else torch.iinfo(x.dtype)
    low, high = builtins.max(info.min, source.min), builtins.min(info.max, source.max)
    low_t, high_t = torch.tensor(low, dtype=x.dtype), torch.tensor(high, dtype=x.dtype)
    if x.dtype.is_floating_point and not target.is_floating_point:
        # the limit as x's dtype holds it may round past the target's range (2**31 - 1 -> 2**31 in float32)
        if float(high_t) > high:
            high_t = torch.nextafter(high_t, torch.zeros_like(high_t))
        if float(low_t) < low:
            low_t = torch.nextafter(low_t, torch.zeros_like(low_t))
    return torch.clamp(x, low_t.to(x.device), high_t.to(x.device)).to(target)
