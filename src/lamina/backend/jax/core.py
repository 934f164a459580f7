"""Arrays, dtypes, devices and the Variable of the jax backend."""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from lamina.backend.common import VariableMixin, remember_value, standardize_dtype

NAME = "jax"


def device_name() -> str:
    return str(jax.devices()[0])


def to_jax_dtype(dtype: Any) -> Any:
    name = standardize_dtype(dtype)
    if not jax.config.jax_enable_x64:  # without x64, jax holds 64-bit values in 32 bits
        name = {"int64": "int32", "float64": "float32", "uint64": "uint32"}.get(name, name)
    return jnp.dtype(name)


class _Autocast(threading.local):
    dtype: Any = None  # the dtype float variables are read in, within a mixed-precision layer


_AUTOCAST = _Autocast()


@contextlib.contextmanager
def autocast(dtype: Any) -> Iterator[None]:
    """Within the block, float variables are read in dtype (jax has no autocasting of its own)."""
    saved, _AUTOCAST.dtype = _AUTOCAST.dtype, None if dtype is None else to_jax_dtype(dtype)
    try:
        yield
    finally:
        _AUTOCAST.dtype = saved


def unwrap(x: Any) -> Any:
    """The array inside a Variable (in the autocast dtype, if one is active); anything else as it is."""
    if not isinstance(x, Variable):
        return x
    value, dtype = x._value, _AUTOCAST.dtype
    if dtype is not None and value.dtype != dtype and jnp.issubdtype(value.dtype, jnp.floating):
        return value.astype(dtype)
    return value


class Variable(VariableMixin):
    """A named, assignable array. Inside a jitted step its value is swapped for a traced one (see StateScope)."""

    def __init__(self, value: Any, dtype: Any = None, trainable: bool = True, name: str | None = None,
                 path: str | None = None) -> None:
        with jax.ensure_compile_time_eval():  # a layer built while tracing must still hold a concrete value
            self._value = convert_to_tensor(value, dtype)
        self.trainable = trainable
        self._init_names(name, path)

    @property
    def name(self) -> str:
        return self._lamina_name

    @property
    def value(self) -> jax.Array:
        return unwrap(self)

    def assign(self, value: Any) -> None:
        remember_value(self, lambda: self._value)
        self._value = _keep_layout(jnp.asarray(unwrap(value), dtype=self._value.dtype), self._value)

    def numpy(self) -> np.ndarray:
        return np.asarray(self._value)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._value.shape)

    @property
    def dtype(self) -> Any:
        return self._value.dtype

    @property
    def ndim(self) -> int:
        return self._value.ndim

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self._value, dtype=dtype)

    def __repr__(self) -> str:
        return f"<Variable path={self.path} shape={self.shape} dtype={standardize_dtype(self.dtype)}>"

    def __getitem__(self, index: Any) -> jax.Array:
        return unwrap(self)[index]

    def __len__(self) -> int:
        return len(self._value)


def _keep_layout(new: Any, old: Any) -> Any:
    """A value assigned outside a step, laid out over the devices as the old one was (a distribution's
    sharding): the compiled steps then see the same layouts every time, and are not compiled anew."""
    if isinstance(new, jax.core.Tracer) or isinstance(old, jax.core.Tracer) or not isinstance(old, jax.Array):
        return new
    if len(old.sharding.device_set) == 1 or new.sharding == old.sharding:
        return new
    return jax.device_put(new, old.sharding)


def _binary(method: str, reflected: bool = False) -> Any:
    def operator(self: Variable, other: Any) -> Any:
        left, right = (unwrap(other), unwrap(self)) if reflected else (unwrap(self), unwrap(other))
        return getattr(jnp, method)(left, right)

    return operator


for _name, _fn in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"), ("truediv", "true_divide"),
                   ("matmul", "matmul"), ("pow", "power"), ("floordiv", "floor_divide"), ("mod", "mod")):
    setattr(Variable, f"__{_name}__", _binary(_fn))
    setattr(Variable, f"__r{_name}__", _binary(_fn, reflected=True))
for _name, _fn in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"), ("ge", "greater_equal")):
    setattr(Variable, f"__{_name}__", _binary(_fn))
Variable.__neg__ = lambda self: -unwrap(self)


# A Variable is a pytree holding its value, as in Keras: a user's jitted step may take the variables
# themselves as its state (`state = model.trainable_variables, ...`). Inside, they arrive as shells
# holding traced values, which StateScope and every op read like arrays.
def _flatten_variable(variable: Variable) -> tuple[tuple, tuple]:
    return (variable._value,), (variable.trainable, variable._lamina_name, variable._lamina_path)


def _unflatten_variable(names: tuple, children: tuple) -> Variable:
    shell = object.__new__(Variable)
    shell._value = children[0]
    shell.trainable = names[0]
    shell._init_names(names[1], names[2])
    return shell


jax.tree_util.register_pytree_node(Variable, _flatten_variable, _unflatten_variable)
Variable.__abs__ = lambda self: jnp.abs(unwrap(self))
Variable.__hash__ = object.__hash__
Variable.__float__ = lambda self: float(self._value)  # float(optimizer.learning_rate), as on torch
Variable.__int__ = lambda self: int(self._value)


def convert_to_tensor(x: Any, dtype: Any = None) -> jax.Array:
    x = unwrap(x)
    if dtype is not None:
        return jnp.asarray(x, dtype=to_jax_dtype(dtype))
    if isinstance(x, jax.Array):
        return x
    array = np.asarray(x)
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    elif array.dtype == np.int64 and not jax.config.jax_enable_x64:
        array = array.astype(np.int32)
    return jnp.asarray(array)


def convert_to_numpy(x: Any) -> np.ndarray:
    return np.asarray(unwrap(x))


def is_tensor(x: Any) -> bool:
    return isinstance(x, jax.Array)


def cast(x: Any, dtype: Any) -> jax.Array:
    return jnp.asarray(unwrap(x)).astype(to_jax_dtype(dtype))


def dtype_of(x: Any) -> str:
    return standardize_dtype(getattr(unwrap(x), "dtype", None) or np.asarray(x).dtype)


def stop_gradient(x: Any) -> jax.Array:
    return jax.lax.stop_gradient(unwrap(x))


class StateScope:
    """Within the block, these variables hold the given values (traced ones, in a jitted step)."""

    def __init__(self, variables: list[Variable], values: list[Any]) -> None:
        self.variables, self.values = variables, values

    def __enter__(self) -> "StateScope":
        self._saved = [v._value for v in self.variables]
        for variable, value in zip(self.variables, self.values):
            variable._value = value._value if isinstance(value, Variable) else value
        return self

    def current(self, variables: list[Variable]) -> list[Any]:
        return [v._value for v in variables]

    def __exit__(self, *exc_info: Any) -> None:
        for variable, value in zip(self.variables, self._saved):
            variable._value = value
