"""Backend-independent helpers shared by the backend packages (no torch or jax here)."""

from __future__ import annotations

from typing import Any

import numpy as np

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


def standardize_dtype(dtype: Any) -> str:
    """Name a dtype the Keras way ('float32', 'int64', ...) whatever library it came from."""
    if dtype is None:
        return "float32"
    if isinstance(dtype, str):
        name = dtype
    else:
        name = str(getattr(dtype, "name", dtype))
    name = name.replace("torch.", "")
    aliases = {"float": "float32", "double": "float64", "int": "int64", "long": "int64", "bool_": "bool"}
    name = aliases.get(name, name)
    try:
        if name != "bfloat16":
            name = np.dtype(name).name
    except TypeError:
        raise ValueError(f"Unknown dtype {dtype!r}.") from None
    return name


def is_float_dtype(dtype: Any) -> bool:
    return standardize_dtype(dtype) in FLOAT_DTYPES


def normalize_axis(axis: Any) -> Any:
    """Lists of axes become tuples, so every backend sees the same kind of value."""
    return tuple(axis) if isinstance(axis, list) else axis


class VariableMixin:
    """What every backend's Variable offers besides its tensor: naming and numpy view."""

    def _init_names(self, name: str | None, path: str | None) -> None:
        self._lamina_name = name or "variable"
        self._lamina_path = path or self._lamina_name

    @property
    def path(self) -> str:
        """Where the variable lives in the model, e.g. 'dense/kernel'."""
        return self._lamina_path

    def assign_add(self, delta: Any) -> None:
        self.assign(self.value + delta)

    def assign_sub(self, delta: Any) -> None:
        self.assign(self.value - delta)
