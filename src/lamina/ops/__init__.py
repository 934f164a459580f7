"""Public NumPy-like and neural-network ops.

Every name resolves to the active backend's function at the moment of the
lookup, so ``ops.matmul`` is torch's, jax's or numpy's matmul with no wrapper
in between. ``ops.<name>`` works on backend tensors, NumPy arrays and Lamina
variables alike.
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in NUMPY_OPS or name in NN_OPS:
        return getattr(backend.impl, name)
    raise AttributeError(f"lamina.ops has no op {name!r}.")


def __dir__() -> list[str]:
    return sorted(__all__)
