"""Tensors, dtypes, devices and the Variable of the torch backend."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from lamina.backend.common import VariableMixin, remember_value, standardize_dtype

NAME = "torch"
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")

_TORCH_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "bool": torch.bool,
}


def to_torch_dtype(dtype: Any) -> torch.dtype:
    if isinstance(dtype, torch.dtype):
        return dtype
    found = _TORCH_DTYPES.get(dtype) if isinstance(dtype, str) else None
    if found is not None:  # the common case, kept off the slow path: cast runs several times per step
        return found
    name = standardize_dtype(dtype)
    if name not in _TORCH_DTYPES:
        raise ValueError(f"dtype {name!r} is not supported by the torch backend.")
    return _TORCH_DTYPES[name]


def autocast(dtype: Any) -> Any:
    """torch's own autocasting: matmuls and convolutions in dtype, the weights kept as they are."""
    if dtype is None:
        return torch.autocast(DEVICE.type, enabled=False)
    return torch.autocast(DEVICE.type, dtype=to_torch_dtype(dtype))


def device_name() -> str:
    return str(DEVICE)


class Variable(torch.nn.Parameter, VariableMixin):
    """A named, assignable tensor; it is itself the torch leaf tensor that autograd sees."""

    def __new__(cls, value: Any, dtype: Any = None, trainable: bool = True,
                name: str | None = None, path: str | None = None) -> "Variable":
        tensor = convert_to_tensor(value, dtype)
        requires_grad = trainable and tensor.is_floating_point()
        self = torch.Tensor._make_subclass(cls, tensor.detach().clone(), requires_grad)  # own its memory
        self._trainable = trainable
        self._init_names(name, path)
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # construction happens in __new__
        pass

    @property
    def name(self) -> str:
        return self._lamina_name

    @property
    def value(self) -> torch.Tensor:
        return self

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, flag: bool) -> None:
        self._trainable = flag
        self.requires_grad_(flag and self.is_floating_point())

    def assign(self, value: Any) -> None:
        remember_value(self, self.detach().clone)
        with torch.no_grad():
            self.copy_(convert_to_tensor(value) if not isinstance(value, torch.Tensor) else value)

    def assign_add(self, delta: Any) -> None:
        remember_value(self, self.detach().clone)
        if not torch.is_grad_enabled():  # a step's metric updates: skip entering no_grad again
            self.add_(delta)
            return
        with torch.no_grad():
            self.add_(delta)

    def numpy(self) -> np.ndarray:
        return convert_to_numpy(self)

    def __repr__(self) -> str:
        return f"<Variable path={self.path} shape={tuple(self.shape)} dtype={standardize_dtype(self.dtype)}>"

    def __reduce_ex__(self, protocol: int) -> Any:
        return (Variable, (convert_to_numpy(self), None, self._trainable, self._lamina_name, self._lamina_path))


def convert_to_tensor(x: Any, dtype: Any = None) -> torch.Tensor:
    torch_dtype = to_torch_dtype(dtype) if dtype is not None else None
    if isinstance(x, torch.Tensor):
        if x.device != DEVICE:
            x = x.to(DEVICE)
        return x if torch_dtype is None or x.dtype == torch_dtype else x.to(torch_dtype)
    if isinstance(x, np.ndarray):
        if torch_dtype is None and x.dtype == np.float64:
            torch_dtype = torch.float32
        return _from_numpy(x, torch_dtype)
    if torch_dtype is None and isinstance(x, (float, list, tuple)):
        array = np.asarray(x)
        torch_dtype = torch.float32 if array.dtype == np.float64 else None
        return torch.as_tensor(array, dtype=torch_dtype, device=DEVICE)
    return torch.as_tensor(x, dtype=torch_dtype, device=DEVICE)


def _from_numpy(x: np.ndarray, dtype: torch.dtype | None) -> torch.Tensor:
    """A tensor of x's values; torch refuses negative strides (a reversed view), so those are copied first."""
    if x.ndim and min(x.strides) < 0:
        x = np.ascontiguousarray(x)
    if not x.flags.writeable:  # torch shares the memory and warns that it could write to it; Lamina does not
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.as_tensor(x, dtype=dtype, device=DEVICE)
    return torch.as_tensor(x, dtype=dtype, device=DEVICE)


def convert_to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype == torch.bfloat16:
            x = x.float()
        return x.cpu().numpy()
    return np.asarray(x)


def is_tensor(x: Any) -> bool:
    return isinstance(x, torch.Tensor)


def cast(x: Any, dtype: Any) -> torch.Tensor:
    torch_dtype = to_torch_dtype(dtype)
    if isinstance(x, torch.Tensor) and x.device == DEVICE:
        return x if x.dtype == torch_dtype else x.to(torch_dtype)
    return convert_to_tensor(x, torch_dtype)


def dtype_of(x: Any) -> str:
    return standardize_dtype(x.dtype) if isinstance(x, torch.Tensor) else standardize_dtype(np.asarray(x).dtype)


def stop_gradient(x: Any) -> torch.Tensor:
    return x.detach()
