"""Public NumPy-like and neural-network ops.

Every name resolves to the active backend's function at the moment of the
lookup, behind a thin wrapper that turns NumPy arrays into backend tensors
(torch's functions take only tensors), so ``ops.<name>`` works on backend
tensors, NumPy arrays and Lamina variables alike.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from lamina import backend

NUMPY_OPS = (
    "abs add arange argmax argmin broadcast_to cast ceil clip concatenate convert_to_numpy "
    "convert_to_tensor cos cumsum divide einsum equal exp expand_dims eye flip floor full "
    "greater greater_equal isnan less less_equal log log1p logical_and logical_not logical_or "
    "matmul max maximum mean min minimum multiply negative not_equal one_hot ones ones_like pad "
    "power prod repeat reshape round shape sign sin size split sqrt square squeeze stack std "
    "stop_gradient subtract sum take take_along_axis tanh tile transpose var where zeros zeros_like"
).split()

NN_OPS = (
    "average_pool binary_crossentropy categorical_crossentropy conv dense dropout elu gelu "
    "hard_sigmoid leaky_relu log_softmax lstm max_pool relu relu6 rnn selu sigmoid silu "
    "simple_rnn softmax softplus softsign sparse_categorical_crossentropy"
).split()

__all__ = NUMPY_OPS + NN_OPS


def _as_tensor(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return backend.impl.convert_to_tensor(value)
    if isinstance(value, (list, tuple)) and any(isinstance(item, np.ndarray) for item in value):
        return type(value)(_as_tensor(item) for item in value)  # concatenate, stack, ...
    return value


@functools.lru_cache(maxsize=None)
def _op(backend_name: str, name: str) -> Callable[..., Any]:
    function = getattr(backend.impl, name)

    @functools.wraps(function)
    def op(*args: Any, **kwargs: Any) -> Any:
        return function(*map(_as_tensor, args), **kwargs)

    return op


def __getattr__(name: str) -> Any:
    if name in ("convert_to_tensor", "convert_to_numpy", "shape", "size"):
        return getattr(backend.impl, name)
    if name in NUMPY_OPS or name in NN_OPS:
        return _op(backend.impl.NAME, name)
    raise AttributeError(f"lamina.ops has no op {name!r}.")


def __dir__() -> list[str]:
    return sorted(__all__)
