"""Keras 2's `keras.backend` functions (`K.mean`, `K.clip`, `K.get_value`, ...), for the programs and custom
losses and metrics written against them. Keras 3 dropped them for `keras.ops`; here they are `ops` with Keras 2's
argument names and defaults where those differ (`K.argmax` reduces the last axis, `K.concatenate` joins along
the last axis, `K.repeat` repeats a matrix along a new middle axis, ...). `lamina/__init__.py` attaches them to
`lamina.backend`."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import activations, backend, ops

# Functions whose Keras 2 spelling is `ops`'s own (same name, same leading arguments and defaults).
SAME_AS_OPS = ("abs", "all", "any", "binary_crossentropy", "cast", "categorical_crossentropy", "cos", "elu",
               "equal", "exp", "greater", "greater_equal", "hard_sigmoid", "less", "less_equal", "log", "logsumexp",
               "max", "maximum", "mean", "min", "minimum", "not_equal", "one_hot", "ones_like", "prod", "reshape",
               "round", "shape", "sigmoid", "sign", "sin", "softplus", "softsign", "sparse_categorical_crossentropy", "sqrt",
               "square", "squeeze", "stack", "std", "stop_gradient", "sum", "tanh", "tile", "transpose", "var",
               "zeros_like")


def get_value(x: Any) -> Any:
    """The value of a variable or tensor as a NumPy array (a Python number's as itself)."""
    if isinstance(x, (int, float)):
        return x
    return np.asarray(x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else ops.convert_to_numpy(x))


def set_value(x: Any, value: Any) -> None:
    """Make the variable `x` hold `value`."""
    if not hasattr(x, "assign"):
        raise ValueError(f"set_value needs a variable (e.g. optimizer.learning_rate), got {type(x).__name__}.")
    x.assign(np.asarray(value, dtype=backend.standardize_dtype(x.dtype)))


def batch_get_value(tensors: Sequence[Any]) -> list[Any]:
    return [get_value(t) for t in tensors]


def batch_set_value(pairs: Sequence[tuple[Any, Any]]) -> None:
    for variable, value in pairs:
        set_value(variable, value)


def int_shape(x: Any) -> tuple:
    """x's shape as a tuple of Python ints (None for an unknown symbolic size)."""
    return tuple(None if d is None else int(d) for d in x.shape)


def ndim(x: Any) -> int:
    return len(x.shape)


def dtype(x: Any) -> str:
    return backend.standardize_dtype(x.dtype)


def count_params(x: Any) -> int:
    return int(np.prod(int_shape(x)))


def variable(value: Any, dtype: Any = None, name: str | None = None) -> Any:
    """A backend variable holding `value`."""
    array = np.asarray(value, dtype=dtype or backend.floatx())
    return backend.impl.Variable(array, dtype=str(array.dtype), trainable=True, name=name or "variable")


def constant(value: Any, dtype: Any = None, shape: Sequence[int] | None = None, name: str | None = None) -> Any:
    array = np.asarray(value, dtype=dtype or backend.floatx())
    return ops.convert_to_tensor(np.broadcast_to(array, shape) if shape is not None else array)


def zeros(shape: Sequence[int], dtype: Any = None, name: str | None = None) -> Any:
    return ops.zeros(shape, dtype=dtype or backend.floatx())


def ones(shape: Sequence[int], dtype: Any = None, name: str | None = None) -> Any:
    return ops.ones(shape, dtype=dtype or backend.floatx())


def eye(size: int, dtype: Any = None, name: str | None = None) -> Any:
    return ops.eye(size, dtype=dtype or backend.floatx())


def clip(x: Any, min_value: Any, max_value: Any) -> Any:
    return ops.clip(x, min_value, max_value)


def pow(x: Any, a: Any) -> Any:  # noqa: A001  (Keras 2's name)
    return ops.power(x, a)


def dot(x: Any, y: Any) -> Any:
    """Matrix product over x's last axis and y's second-to-last (or only) axis."""
    return ops.matmul(x, y)


def concatenate(tensors: Sequence[Any], axis: int = -1) -> Any:
    return ops.concatenate(list(tensors), axis=axis)


def expand_dims(x: Any, axis: int = -1) -> Any:
    return ops.expand_dims(x, axis)


def flatten(x: Any) -> Any:
    return ops.reshape(x, (-1,))


def batch_flatten(x: Any) -> Any:
    """(batch, ...) as (batch, everything else)."""
    return ops.reshape(x, (ops.shape(x)[0], -1))


def argmax(x: Any, axis: int = -1) -> Any:
    return ops.argmax(x, axis=axis)


def argmin(x: Any, axis: int = -1) -> Any:
    return ops.argmin(x, axis=axis)


def cumsum(x: Any, axis: int = 0) -> Any:
    return ops.cumsum(x, axis=axis)


def cumprod(x: Any, axis: int = 0) -> Any:
    return ops.cumprod(x, axis=axis)


def gather(reference: Any, indices: Any) -> Any:
    return ops.take(reference, indices, axis=0)


def repeat(x: Any, n: int) -> Any:
    """A (batch, features) matrix as (batch, n, features), each row repeated n times."""
    return ops.repeat(ops.expand_dims(x, 1), n, axis=1)


def repeat_elements(x: Any, rep: int, axis: int) -> Any:
    return ops.repeat(x, rep, axis=axis)


def l2_normalize(x: Any, axis: Any = None) -> Any:
    squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.multiply(x, ops.rsqrt(ops.maximum(squares, 1e-12)))


def switch(condition: Any, then_expression: Any, else_expression: Any) -> Any:
    return ops.where(condition, then_expression, else_expression)


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Any:
    return activations.relu(x, negative_slope=alpha, max_value=max_value, threshold=threshold)


def softmax(x: Any, axis: int = -1) -> Any:
    return ops.softmax(x, axis=axis)


def in_top_k(predictions: Any, targets: Any, k: int) -> Any:
    """Whether each target is among its row's k largest predictions (Keras 2's argument order)."""
    return ops.in_top_k(targets, predictions, k)


def functions() -> dict[str, Any]:
    """Every Keras 2 backend function by name."""
    own = {name: value for name, value in globals().items()
           if callable(value) and getattr(value, "__module__", None) == __name__ and not name.startswith("_")
           and name != "functions"}
    return {**{name: _forwarded(name) for name in SAME_AS_OPS}, **own, "eval": get_value}


def _forwarded(name: str) -> Any:
    """`ops.<name>`, looked up at each call: which backend's op it is depends on the backend in use then."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(ops, name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"Keras 2's K.{name}: lamina.ops.{name}."
    return call
