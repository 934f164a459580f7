"""What the shared step needs from jax: gradients, state swapped into variables, jitted steps scanned over batches."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from lamina.backend.jax.core import StateScope  # noqa: F401  (part of this backend's step surface)

StepFn = Callable[[Any, Any], tuple[Any, Any]]


def state_values(variables: Sequence[Any]) -> list[Any]:
    """The arrays the variables hold now: a jitted step takes them in and returns new ones."""
    return [variable._value for variable in variables]


def store_state(variables: Sequence[Any], values: Sequence[Any]) -> None:
    """Make the variables hold the arrays a step returned."""
    for variable, value in zip(variables, values):
        variable._value = value


def value_and_grad(fn: Callable[[list], tuple[Any, Any]]) -> Callable[[list], tuple[tuple[Any, Any], list]]:
    """fn(trainable) -> (loss, aux) becomes trainable -> ((loss, aux), gradients)."""
    return jax.value_and_grad(fn, has_aux=True)


def take_rows(structure: Any, rows: Any) -> Any:
    """The rows of every array in a nested structure, selected on the device."""
    return jax.tree_util.tree_map(lambda t: jnp.take(t, rows, axis=0), structure)


def steps_per_call(requested: int) -> int:
    """Steps scanned per call: on accelerators many, to hide dispatch; on the CPU one, since XLA:CPU runs
    convolutions inside a loop several times slower than alone (measured: the CNN benchmark, 4x)."""
    if requested > 1:
        return int(requested)
    return 1 if jax.default_backend() == "cpu" else 32


def resolve_mode(mode: str) -> str:
    """"auto" is jit: an eager jax step dispatches every op from Python."""
    if mode not in ("auto", "eager", "jit"):
        raise ValueError(f"Unknown step mode {mode!r}: expected 'auto', 'eager' or 'jit'.")
    return "jit" if mode == "auto" else mode


def _over_rows(step_fn: StepFn, state: Any, data: Any, order: Any, offset: Any, steps: int,
               batch_size: int) -> tuple[Any, Any]:
    """`steps` (more than one) steps on order[offset:], scanned."""
    indices = lax.dynamic_slice_in_dim(order, offset, steps * batch_size).reshape(steps, batch_size)
    returns_state = []  # whether the step returns a new state (a predict step may return None)

    def body(carry: Any, rows: Any) -> tuple[Any, Any]:
        new_state, output = step_fn(carry, take_rows(data, rows))
        returns_state.append(new_state is not None)
        return (carry if new_state is None else new_state), output

    state, outputs = lax.scan(body, state, indices)
    state = state if returns_state[0] else None
    return state, jax.tree_util.tree_map(lambda t: t.reshape((-1,) + t.shape[2:]), outputs)  # (steps*batch, ...)


@functools.partial(jax.jit, static_argnames=("batch_size",))
def _rows_of(data: Any, order: Any, offset: Any, batch_size: int) -> Any:
    """The batch_size samples order[offset:] of every array in data."""
    return take_rows(data, lax.dynamic_slice_in_dim(order, offset, batch_size))


def _first_array(tree: Any) -> Any:
    """The first leaf of a step's result, found without flattening every leaf (None if it has none)."""
    if isinstance(tree, dict):
        tree = list(tree.values())
    if not isinstance(tree, (tuple, list)):
        return tree
    for part in tree:
        found = _first_array(part)
        if found is not None:
            return found
    return None


def _settled_on_host_devices(result: Any) -> Any:
    """result, waited for when it lies on several CPU devices of this process (a mesh of forced host
    devices). XLA runs each device's part of a program on one shared thread pool: with many steps in flight,
    the parts waiting in a collective's rendezvous can hold every thread while the parts they wait for never
    start, and the process hangs. One step in flight at a time cannot deadlock; on accelerators, where each
    device has its own stream, steps stay asynchronous. The first array tells: a step's results share one
    placement."""
    devices = getattr(getattr(_first_array(result), "sharding", None), "device_set", ())
    if len(devices) > 1 and next(iter(devices)).platform == "cpu":
        jax.block_until_ready(result)
    return result


class CompiledStep:
    """One step function, jitted (with its batches gathered and scanned inside) or run eagerly."""

    def __init__(self, step_fn: StepFn, mode: str, donate_state: bool = False) -> None:
        self.mode = resolve_mode(mode)
        self.step_fn = step_fn
        if self.mode == "jit":
            # The state goes in and comes out whole, so its buffers can be donated: updates happen in place.
            donate = (0,) if donate_state else ()
            self._one = jax.jit(step_fn, donate_argnums=donate)
            self._rows = jax.jit(lambda *args, steps, batch_size: _over_rows(step_fn, *args, steps, batch_size),
                                 static_argnames=("steps", "batch_size"), donate_argnums=donate)

    def __call__(self, state: Any, batch: Any) -> tuple[Any, Any]:
        if self.mode == "jit":
            return _settled_on_host_devices(self._one(state, batch))
        return self.step_fn(state, batch)

    def over_rows(self, state: Any, data: Any, order: Any, offset: int, steps: int,
                  batch_size: int) -> tuple[Any, Any]:
        """`steps` steps on the samples order[offset:], batch_size at a time; outputs joined along rows."""
        if self.mode == "jit":
            if steps == 1:
                # The step is given its batch, not the data set: its program then depends on the batch's shape
                # alone, and arrays of other lengths (predict on new samples) do not compile it again.
                batch = _rows_of(data, order, np.int32(offset), batch_size=batch_size)
                return _settled_on_host_devices(self._one(state, batch))
            return _settled_on_host_devices(self._rows(state, data, order, np.int32(offset), steps=steps,
                                                       batch_size=batch_size))
        outputs, new_state = [], None
        for start in range(offset, offset + steps * batch_size, batch_size):
            new_state, output = self.step_fn(state if new_state is None else new_state,
                                             take_rows(data, order[start:start + batch_size]))
            outputs.append(output)
        state = new_state
        if outputs[0] is None:
            return state, None
        return state, jax.tree_util.tree_map(lambda *parts: jnp.concatenate(parts), *outputs)


def compile_step(step_fn: StepFn, mode: str = "auto", donate_state: bool = False,
                 whole_graph: bool = True) -> CompiledStep:
    """Prepare step_fn(state, batch) -> (state, output) to run on the device; see CompiledStep. jax traces
    every step whole (`whole_graph` is for the torch backend)."""
    return CompiledStep(step_fn, mode, donate_state)


def clear_gradients(variables: Any) -> None:
    """jax keeps no gradients on variables: nothing to clear."""
