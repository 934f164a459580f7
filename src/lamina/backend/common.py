"""Backend-independent helpers shared by the backend packages (no torch or jax here)."""

from __future__ import annotations

import contextlib
import math
import threading
from typing import Any, Callable, Iterator, Sequence

import numpy as np

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


_STANDARD_NAMES: dict[Any, str] = {}  # dtype (of any library) -> its Keras name; steps ask many times


def standardize_dtype(dtype: Any) -> str:
    """Name a dtype the Keras way ('float32', 'int64', ...) whatever library it came from."""
    try:
        return _STANDARD_NAMES[dtype]
    except (KeyError, TypeError):  # not seen yet, or not hashable
        pass
    name = _standard_name(dtype)
    try:
        _STANDARD_NAMES[dtype] = name
    except TypeError:
        pass
    return name


def _standard_name(dtype: Any) -> str:
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


def shape_of(x: Any) -> tuple:
    """The shape of a tensor, an array, or a list of them, read without converting anything.

    Counting the samples of a data set must not copy it to the device. A list of arrays has the
    shape NumPy would give it, (len, *item shape); its items must agree, as NumPy requires.
    """
    shape = getattr(x, "shape", None)
    if shape is not None:
        return tuple(shape)
    if isinstance(x, (list, tuple)) and x and not isinstance(x[0], (bool, int, float, complex, str)):
        shapes = {shape_of(item) for item in x}
        if len(shapes) > 1:
            raise ValueError(f"A list of {len(x)} arrays has no single shape: its items have shapes "
                             f"{', '.join(map(str, sorted(shapes, key=str)))}.")
        return (len(x), *shapes.pop())
    return tuple(np.shape(x))  # a number, or a list of numbers: read on the host


def normalize_axis(axis: Any) -> Any:
    """Lists of axes become tuples, so every backend sees the same kind of value."""
    return tuple(axis) if isinstance(axis, list) else axis


def map_leaves(fn: Callable[..., Any], *structures: Any) -> Any:
    """fn over the leaves of nested lists, tuples and dicts of the same layout; None stays None."""
    first = structures[0]
    if first is None:
        return None
    if isinstance(first, dict):
        return {key: map_leaves(fn, *(s[key] for s in structures)) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(map_leaves(fn, *items) for items in zip(*structures))
    return fn(*structures)


def generator_state(generator: np.random.Generator) -> np.ndarray:
    """A NumPy generator's state as bytes in a uint8 array (its integers exceed 64 bits): storable with weights."""
    import json

    return np.frombuffer(json.dumps(generator.bit_generator.state).encode("utf-8"), dtype=np.uint8).copy()


def generator_from_state(state: np.ndarray) -> np.random.Generator:
    """The generator whose state `generator_state` gave; a state that is not one raises ValueError."""
    import json

    try:
        fields = json.loads(np.asarray(state, dtype=np.uint8).tobytes().decode("utf-8"))
        bit_generator = getattr(np.random, fields["bit_generator"])()
        if not isinstance(bit_generator, np.random.BitGenerator):
            raise TypeError(fields["bit_generator"])
        bit_generator.state = fields
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ValueError(f"not the state of a NumPy random generator: {error}") from None
    return np.random.Generator(bit_generator)


def state_in_place(variables: Sequence[Any]) -> list[Any]:
    """For backends whose steps update variables in place (torch, numpy): the values are the variables."""
    return list(variables)


def store_in_place(variables: Sequence[Any], values: Sequence[Any]) -> None:
    """Make the variables hold the values a step returned (nothing to do for the variables themselves)."""
    for variable, value in zip(variables, values):
        if value is not variable:
            variable.assign(value)


class InPlaceStateScope:
    """For backends whose steps read and update variables in place: nothing to swap in or out."""

    def __init__(self, variables: Sequence[Any], values: Sequence[Any]) -> None:
        self.variables = variables

    def __enter__(self) -> "InPlaceStateScope":
        return self

    def current(self, variables: Sequence[Any]) -> list[Any]:
        return list(variables)

    def __exit__(self, *exc_info: Any) -> None:
        return None


class _Snapshots(threading.local):
    saved: dict | None = None  # id(variable) -> (variable, its value before the first assignment)


_SNAPSHOTS = _Snapshots()


def remember_value(variable: Any, copy: Callable[[], Any]) -> None:
    """Before a variable changes within `assignments_undone`, keep a copy of its value (once)."""
    saved = _SNAPSHOTS.saved
    if saved is not None and id(variable) not in saved:
        saved[id(variable)] = (variable, copy())


@contextlib.contextmanager
def assignments_undone(restore: Callable[[Any, Any], None]) -> Iterator[None]:
    """Within the block variables may be assigned; afterwards each holds its old value again.

    Running a layer on placeholders to learn its output shapes must not change its state: a seed
    generator must not keep a traced key, a running sum must not count zeros.
    """
    outer, _SNAPSHOTS.saved = _SNAPSHOTS.saved, {}
    try:
        yield
    finally:
        saved, _SNAPSHOTS.saved = _SNAPSHOTS.saved, outer
        for variable, value in saved.values():
            restore(variable, value)


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


# Optimizer updates for backends whose arrays are immutable (jax, numpy): compute the new values with
# the active backend's multi-tensor ops and assign them.

def no_grad() -> Any:
    return contextlib.nullcontext()


def _ops() -> Any:
    from lamina import backend

    return backend.impl


def assign_add(variables: Sequence[Any], values: Any, alpha: Any = 1.0) -> None:
    """v += alpha * value for every variable; values may be one scalar."""
    _ops().foreach_assign(variables, _ops().foreach_add(variables, values, alpha))


def assign_mul(variables: Sequence[Any], factor: Any) -> None:
    _ops().foreach_assign(variables, _ops().foreach_mul(variables, factor))


def assign_lerp(variables: Sequence[Any], targets: Sequence[Any], weight: float) -> None:
    """v += weight * (target - v)."""
    _ops().foreach_assign(variables, _ops().foreach_lerp(variables, targets, weight))


def assign_addcmul(variables: Sequence[Any], first: Sequence[Any], second: Sequence[Any], value: float) -> None:
    """v += value * first * second."""
    _ops().foreach_assign(variables, _ops().foreach_add(variables, _ops().foreach_mul(first, second), value))


def assign_add_ratio(variables: Sequence[Any], numerators: Sequence[Any], denominators: Sequence[Any],
                     scale: Any) -> None:
    """v += scale * numerator / denominator."""
    _ops().foreach_assign(variables, _ops().foreach_add(variables, _ops().foreach_div(numerators, denominators), scale))


def adam_update(variables: Sequence[Any], grads: Sequence[Any], momentums: Sequence[Any], velocities: Sequence[Any],
                velocity_maxima: Sequence[Any] | None, learning_rate: Any, iterations: Any, beta_1: float,
                beta_2: float, epsilon: float, weight_decay: float = 0.0) -> None:
    """One Adam step as Keras writes it, in place: epsilon is added to the uncorrected sqrt(velocity).

    `iterations` counts the steps taken before this one (a variable or a tensor); with `velocity_maxima`
    (a list) it is AMSGrad; a `weight_decay` first shrinks every variable by `1 - learning_rate * weight_decay`."""
    B = _ops()
    if weight_decay:
        B.assign_mul(variables, 1.0 - learning_rate * weight_decay)
    t = B.cast(getattr(iterations, "value", iterations), "float32") + 1.0
    # lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), with beta^t as exp(t log beta) to stay on the device
    corrected_rate = learning_rate * B.sqrt(1.0 - B.exp(t * math.log(beta_2))) / (1.0 - B.exp(t * math.log(beta_1)))
    B.assign_lerp(momentums, grads, 1.0 - beta_1)
    B.assign_mul(velocities, beta_2)
    B.assign_addcmul(velocities, grads, grads, 1.0 - beta_2)
    second_moments = velocities
    if velocity_maxima:
        B.foreach_assign(velocity_maxima, B.foreach_maximum(velocity_maxima, velocities))
        second_moments = velocity_maxima
    denominators = B.foreach_add(B.foreach_sqrt(second_moments), epsilon)
    B.assign_add_ratio(variables, momentums, denominators, -corrected_rate)


def sgd_update(variables: Sequence[Any], grads: Sequence[Any], momentums: Sequence[Any] | None, learning_rate: Any,
               momentum: float = 0.0, nesterov: bool = False) -> None:
    """One SGD step as Keras writes it: m = momentum * m - lr * g; v += m, or with Nesterov
    v += momentum * m - lr * g; without momentum (no `momentums`) v -= lr * g."""
    B = _ops()
    if not momentums:
        B.assign_add(variables, grads, alpha=-learning_rate)
        return
    B.assign_mul(momentums, momentum)
    B.assign_add(momentums, grads, alpha=-learning_rate)
    if nesterov:
        B.assign_add(variables, momentums, alpha=momentum)
        B.assign_add(variables, grads, alpha=-learning_rate)
    else:
        B.assign_add(variables, momentums)


def adagrad_update(variables: Sequence[Any], grads: Sequence[Any], accumulators: Sequence[Any], learning_rate: Any,
                   epsilon: float, initial_accumulator_value: float = 0.0) -> None:
    """One Adagrad step as Keras writes it: a += g * g; v -= lr * g / sqrt(a + epsilon). The accumulators never
    fall below `initial_accumulator_value` (a fused backend may rely on it)."""
    B = _ops()
    B.assign_addcmul(accumulators, grads, grads, 1.0)
    denominators = B.foreach_sqrt(B.foreach_add(accumulators, epsilon))
    B.assign_add_ratio(variables, grads, denominators, -learning_rate)


def foreach_where(condition: Any, xs: Sequence[Any], ys: Any) -> list[Any]:
    """[where(condition, x, y)] for one boolean scalar condition; ys may be one scalar for all."""
    B = _ops()
    others = ys if isinstance(ys, (list, tuple)) else [ys] * len(xs)
    return [B.where(condition, getattr(x, "value", x), getattr(y, "value", y)) for x, y in zip(xs, others)]
