"""`lamina.Variable`: Keras 3's way to make a state variable outside a layer's `add_weight`."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend, initializers


class _VariableType(type):
    """Makes `isinstance(v, lamina.Variable)` true for every variable of the backend in use."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, backend.impl.Variable)


class Variable(metaclass=_VariableType):
    """A variable of the backend in use, holding `initializer` (an array-like value) or the values an
    initializer (a name, an Initializer or a callable) draws for `shape`."""

    def __new__(cls, initializer: Any, shape: Sequence[int] | None = None, dtype: Any = None, trainable: bool = True,
                autocast: bool = True, aggregation: str = "none", synchronization: str = "auto",
                name: str | None = None) -> Any:
        if isinstance(initializer, str) or callable(initializer):
            if shape is None:
                raise ValueError(f"Variable: an initializer ({initializer!r}) needs a shape; pass shape=... or an "
                                 "array as the initial value.")
            dtype = backend.standardize_dtype(dtype or backend.floatx())
            value = np.asarray(initializers.get(initializer)(tuple(int(d) for d in shape), dtype=dtype), dtype)
        else:
            value = np.asarray(initializer.numpy() if hasattr(initializer, "numpy") else initializer)
            if shape is not None and tuple(value.shape) != tuple(shape):
                raise ValueError(f"Variable: the initial value has shape {value.shape}, but shape={tuple(shape)}.")
            default = backend.floatx() if value.dtype.kind == "f" else str(value.dtype)
            dtype = backend.standardize_dtype(dtype or default)
            value = value.astype(dtype)
        name = name or "variable"
        return backend.impl.Variable(value, dtype=dtype, trainable=trainable, name=name, path=name)
