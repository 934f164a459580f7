"""How a public op reaches the backend.

A dispatched op resolves to the active backend's function at the moment of the lookup, behind a thin
wrapper that turns NumPy arrays into backend tensors (torch's functions take only tensors), so
``ops.<name>`` works on backend tensors, NumPy arrays and Lamina variables alike.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import numpy as np

from lamina import backend

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
    if name in UNWRAPPED:
        return function

    @functools.wraps(function)
    def op(*args: Any, **kwargs: Any) -> Any:
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
