"""How a public op reaches the backend.

A dispatched op resolves to the active backend's function at the moment of the lookup, behind a thin
wrapper that turns NumPy arrays into backend tensors (torch's functions take only tensors), so
``ops.<name>`` works on backend tensors, NumPy arrays and Lamina variables alike.

Given a symbolic tensor (a KerasTensor of a functional model) anywhere in its arguments, any op, dispatched
or composed, instead adds a node to the graph: an `Operation` that records the op's name and its other
arguments, and infers the output's shape and dtype by running the op on stand-ins.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from lamina import backend
from lamina.ops.symbolic import KerasTensor

# Returned as the backend defines them: they take any input already, and wrapping costs a call.
UNWRAPPED = frozenset({"convert_to_tensor", "convert_to_numpy", "shape", "size"})


def as_tensor(value: Any) -> Any:
    """NumPy arrays (also inside a list or tuple) as backend tensors; anything else unchanged."""
    if isinstance(value, np.ndarray):
        return backend.impl.convert_to_tensor(value)
    if isinstance(value, (list, tuple)) and any(isinstance(item, np.ndarray) for item in value):
        return type(value)(as_tensor(item) for item in value)  # concatenate, stack, ...
    return value


@functools.lru_cache(maxsize=None)
def _backend_op(backend_name: str, name: str) -> Callable[..., Any]:
    function = getattr(backend.impl, name)
    if name in SYMBOLIC_ANSWERS:
        return _answering(name, function)
    if name in UNWRAPPED:
        return function

    @functools.wraps(function)
    def op(*args: Any, **kwargs: Any) -> Any:
        if has_symbolic(args, kwargs):
            return symbolic_op(name, op, args, kwargs)
        return function(*map(as_tensor, args), **kwargs)

    return op


def backend_op(name: str) -> Callable[..., Any]:
    """The op `name` of the active backend, taking NumPy arrays too."""
    return _backend_op(backend.impl.NAME, name)


def family_getattr(module_name: str, names: Sequence[str]) -> Callable[[str], Any]:
    """A module-level __getattr__ for a family of ops whose `names` the backend provides."""
    known = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name in known:
            return backend_op(name)
        raise AttributeError(f"{module_name} has no op {name!r}.")

    return __getattr__


# --- symbolic tensors ------------------------------------------------------------------------------------


def _is_symbolic(value: Any) -> bool:
    if isinstance(value, KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_is_symbolic(item) for item in value)
    if isinstance(value, dict):
        return any(_is_symbolic(item) for item in value.values())
    return False


def has_symbolic(args: tuple, kwargs: dict) -> bool:
    """Whether a KerasTensor is among the arguments (also inside lists, tuples and dicts)."""
    return any(_is_symbolic(a) for a in args) or (bool(kwargs) and any(_is_symbolic(v) for v in kwargs.values()))


def symbolic_op(name: str, function: Callable[..., Any], args: tuple, kwargs: dict) -> Any:
    """`function` (the op `name`) applied to symbolic arguments: a new node of the functional graph."""
    from lamina.ops.operation import Operation

    return Operation(name, function)(*args, **kwargs)


# Ops that answer a question about a tensor rather than compute one: their symbolic answer, without a node.
SYMBOLIC_ANSWERS: dict[str, Callable[..., Any]] = {
    "dtype": lambda x: x.dtype,
    "is_tensor": lambda x: False,
    "shape": lambda x: x.shape,
    "ndim": lambda x: x.ndim,
    "convert_to_tensor": lambda x, dtype=None, **_: x if dtype is None or dtype == x.dtype else _cast(x, dtype),
}


def _cast(x: Any, dtype: Any) -> Any:
    from lamina import ops

    return ops.cast(x, dtype)


def symbolic_aware(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, which on symbolic arguments adds a graph node for the op `name` instead of running."""
    if getattr(function, "_lamina_symbolic_aware", False):
        return function
    if name in SYMBOLIC_ANSWERS:
        return _answering(name, function)

    @functools.wraps(function)
    def op(*args: Any, **kwargs: Any) -> Any:
        if has_symbolic(args, kwargs):
            return symbolic_op(name, function, args, kwargs)
        return function(*args, **kwargs)

    op._lamina_symbolic_aware = True  # type: ignore[attr-defined]
    return op


def wrap_composed(module: Any) -> None:
    """Make each op of a family's COMPOSED tuple accept symbolic tensors (replaced in the module itself)."""
    for name in getattr(module, "COMPOSED", ()):
        function = module.__dict__.get(name)
        if callable(function):
            setattr(module, name, symbolic_aware(name, function))


def _answering(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    answer = SYMBOLIC_ANSWERS[name]

    @functools.wraps(function)
    def op(x: Any, *args: Any, **kwargs: Any) -> Any:
        return answer(x, *args, **kwargs) if isinstance(x, KerasTensor) else function(x, *args, **kwargs)

    op._lamina_symbolic_aware = True  # type: ignore[attr-defined]
    return op


def get_item(x: Any, key: Any) -> Any:
    """x[key], as an op (what indexing a symbolic tensor records)."""
    if isinstance(key, list) and all(isinstance(k, (slice, type(Ellipsis), type(None))) or k is None for k in key):
        key = tuple(key)  # a saved index tuple comes back as a list
    return as_tensor(x)[key]
