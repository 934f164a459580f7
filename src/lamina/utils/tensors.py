"""Questions about symbolic tensors and dtypes: is_keras_tensor, get_source_inputs, standardize_dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.backend import common

_PYTHON_TYPES = {bool: "bool", int: "int64", float: "float32", str: "string"}

__all__ = ["get_source_inputs", "is_keras_tensor", "standardize_dtype"]


def standardize_dtype(dtype: Any) -> str:
    """The canonical name of a dtype ("float32"), from a name, a NumPy/torch/jax dtype or a Python type."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, type):
        if dtype in _PYTHON_TYPES:
            return _PYTHON_TYPES[dtype]
        if issubclass(dtype, np.generic):
            dtype = np.dtype(dtype).name
    return common.standardize_dtype(dtype)


def is_keras_tensor(x: Any) -> bool:
    """Whether x is a symbolic tensor (an Input, or the output of a layer called on one)."""
    from lamina.ops.symbolic import KerasTensor

    return isinstance(x, KerasTensor)


def get_source_inputs(tensor: Any) -> list[Any]:
    """The model inputs (Input tensors) that a symbolic tensor was computed from, each once, in order."""
    if not is_keras_tensor(tensor):
        raise ValueError(f"get_source_inputs expects a symbolic tensor (from Input or a layer), "
                         f"got {type(tensor).__name__}.")
    found: list[Any] = []
    pending = [tensor]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        history = getattr(current, "_history", None)
        node = history[0]._inbound_nodes[history[1]] if history is not None else None
        parents = [t for t in getattr(node, "input_tensors", ()) if is_keras_tensor(t)] if node else []
        if not parents:
            if all(current is not t for t in found):
                found.append(current)
            continue
        pending.extend(reversed(parents))
    return found
