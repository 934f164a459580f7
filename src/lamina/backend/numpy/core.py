"""Arrays, dtypes and the Variable of the numpy backend: plain np.ndarrays on the CPU."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from lamina.backend.common import VariableMixin, remember_value, standardize_dtype

NAME = "numpy"
DEVICE = "cpu"


def to_numpy_dtype(dtype: Any) -> np.dtype:
    """The np.dtype for a dtype given by name or by any library's dtype object."""
    name = standardize_dtype(dtype)
    if name == "bfloat16":
        try:
            import ml_dtypes  # installed with jax; NumPy itself has no bfloat16
        except ImportError:
            raise ValueError("dtype 'bfloat16' needs the ml_dtypes package on the numpy backend "
                             "(pip install ml_dtypes); or use float16 or float32.") from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def autocast(dtype: Any) -> Any:
    """No autocasting on numpy: a mixed-precision layer computes with its float32 weights."""
    return contextlib.nullcontext()


def device_name() -> str:
    return DEVICE


class Variable(NDArrayOperatorsMixin, VariableMixin):
    """A named, assignable array; NumPy functions and operators see its current value."""

    __hash__ = object.__hash__  # variables are keys by identity, as torch's are (__eq__ is elementwise)

    def __init__(self, value: Any, dtype: Any = None, trainable: bool = True,
                 name: str | None = None, path: str | None = None) -> None:
        self._value = np.array(convert_to_tensor(value, dtype))  # own its memory
        self.trainable = trainable
        self._init_names(name, path)

    @property
    def name(self) -> str:
        return self._lamina_name

    @property
    def value(self) -> np.ndarray:
        return self._value

    @property
    def shape(self) -> tuple[int, ...]:
        return self._value.shape

    @property
    def dtype(self) -> np.dtype:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def assign(self, value: Any) -> None:
        """Store a copy of value, in this variable's dtype; its shape must broadcast to this one's."""
        new = np.array(value, dtype=self._value.dtype)
        if new.shape != self._value.shape:
            try:
                new = np.broadcast_to(new, self._value.shape).copy()
            except ValueError:
                raise ValueError(f"Cannot assign a value of shape {new.shape} to variable {self.path!r} "
                                 f"of shape {self._value.shape}.") from None
        remember_value(self, lambda: self._value)
        self._value = new

    def numpy(self) -> np.ndarray:
        return self._value.copy()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if copy:
            return np.array(self._value, dtype=dtype)
        return self._value if dtype is None else self._value.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        # Operators (from NDArrayOperatorsMixin) and ufuncs run on the values, so results are plain arrays.
        inputs = tuple(x._value if isinstance(x, Variable) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(x._value if isinstance(x, Variable) else x for x in kwargs["out"])
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getitem__(self, index: Any) -> Any:
        return self._value[index]

    def __len__(self) -> int:
        return len(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __float__(self) -> float:
        return float(self._value)

    def __int__(self) -> int:
        return int(self._value)

    def __repr__(self) -> str:
        return f"<Variable path={self.path} shape={self.shape} dtype={self.dtype.name}>"


def convert_to_tensor(x: Any, dtype: Any = None) -> np.ndarray:
    """x as an np.ndarray; float64 becomes float32 unless a dtype is given."""
    if isinstance(x, Variable):
        x = x._value
    numpy_dtype = to_numpy_dtype(dtype) if dtype is not None else None
    array = np.asarray(x, dtype=numpy_dtype)
    if numpy_dtype is None and array.dtype == np.float64:
        array = array.astype(np.float32)
    return array


def convert_to_numpy(x: Any) -> np.ndarray:
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


def cast(x: Any, dtype: Any) -> np.ndarray:
    return convert_to_tensor(x, dtype)


def dtype_of(x: Any) -> str:
    return standardize_dtype(np.asarray(x).dtype)


def stop_gradient(x: Any) -> np.ndarray:
    return np.asarray(x)
