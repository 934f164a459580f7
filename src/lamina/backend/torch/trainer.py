"""What the shared step needs from torch: gradients, in-place state, and steps run eagerly, compiled or captured.

Torch variables are updated in place, so the "values" of a torch step's state are the variables themselves:
the step written above the seam in stateless form (state in, state out) runs unchanged, with no copies.
"""

from __future__ import annotations

import itertools
import os
import types
from typing import Any, Callable

import numpy as np
import torch

from lamina.backend.common import InPlaceStateScope, map_leaves, state_in_place, store_in_place
from lamina.backend.torch.core import DEVICE, convert_to_tensor

StepFn = Callable[[Any, Any], tuple[Any, Any]]

# Steps replayed as CUDA graphs stay off by default until the capture has been run on a GPU;
# LAMINA_CUDA_GRAPHS=1 turns them on for jit_compile="auto" on CUDA.
CUDA_GRAPHS_BY_DEFAULT = os.environ.get("LAMINA_CUDA_GRAPHS") == "1"
# What torch.compile hands the captured graph to; tests that only check for graph breaks use "aot_eager".
COMPILE_BACKEND = "inductor"
_step_numbers = itertools.count()


# Torch steps update the variables in place: their "values" are the variables themselves.
state_values = state_in_place
store_state = store_in_place


class StateScope(InPlaceStateScope):
    """In a step the values are the variables themselves and nothing moves. Given other tensors (a user's
    `stateless_call`), each variable holds its value's data within the block, and its own data again after."""

    def __init__(self, variables: Any, values: Any) -> None:
        self.variables = variables
        self._swaps = [(variable, value) for variable, value in zip(variables, values) if value is not variable]

    def __enter__(self) -> "StateScope":
        self._saved = [variable.data for variable, _ in self._swaps]
        for variable, value in self._swaps:
            variable.data = convert_to_tensor(value).detach()
        return self

    def current(self, variables: Any) -> list[Any]:
        if not self._swaps:
            return list(variables)
        swapped = {id(variable) for variable, _ in self._swaps}
        return [variable.data if id(variable) in swapped else variable for variable in variables]

    def __exit__(self, *exc_info: Any) -> None:
        for (variable, _), data in zip(self._swaps, self._saved):
            variable.data = data


def value_and_grad(fn: Callable[[list], tuple[Any, Any]]) -> Callable[[list], tuple[tuple[Any, Any], list]]:
    """fn(trainable) -> (loss, aux) becomes trainable -> ((loss, aux), gradients), as jax.value_and_grad."""

    def run(trainable: list) -> tuple[tuple[Any, Any], list]:
        loss, aux = fn(trainable)
        if not trainable or not loss.requires_grad:
            return (loss.detach(), aux), [torch.zeros_like(v) for v in trainable]
        grads = torch.autograd.grad(loss, trainable, allow_unused=True, materialize_grads=True)
        return (loss.detach(), aux), list(grads)

    return run


def take_rows(structure: Any, rows: torch.Tensor) -> Any:
    """The rows of every tensor in a nested structure, selected on the device."""
    return map_leaves(lambda t: t.index_select(0, rows), structure)


def steps_per_call(requested: int) -> int:
    """Torch runs one step per Python call; several requested steps are a loop of single steps."""
    return max(1, int(requested))


def resolve_mode(mode: str) -> str:
    """The concrete way to run steps for "auto": measured fastest on the CPU is eager (see benchmarks/)."""
    if mode != "auto":
        return mode
    return "cuda_graph" if DEVICE.type == "cuda" and CUDA_GRAPHS_BY_DEFAULT else "eager"


class CompiledStep:
    """One step function run eagerly, compiled whole by torch.compile, or replayed as a CUDA graph."""

    def __init__(self, step_fn: StepFn, mode: str, donate_state: bool = False, whole_graph: bool = True) -> None:
        self.mode = resolve_mode(mode)
        if self.mode == "eager":
            self._step: Any = step_fn
        elif self.mode == "jit":
            torch._dynamo.config.trace_autograd_ops = True  # lets torch.autograd.grad into the compiled graph
            # Lamina's own steps compile to one graph (a break is a bug, and fails); a user's train_step may
            # hold what torch.compile cannot capture (`loss.backward()`, a print), and runs in pieces there.
            self._step = torch.compile(_own_code(step_fn), fullgraph=whole_graph, dynamic=False,
                                       backend=COMPILE_BACKEND)
        elif self.mode == "cuda_graph":
            from lamina.backend.torch.cuda_graph import CudaGraphStep

            self._step = CudaGraphStep(step_fn)
        else:
            raise ValueError(f"Unknown step mode {mode!r}: expected 'auto', 'eager', 'jit' or 'cuda_graph'.")

    def __call__(self, state: Any, batch: Any) -> tuple[Any, Any]:
        return self._step(state, map_leaves(_on_device, batch))

    def over_rows(self, state: Any, data: Any, order: torch.Tensor, offset: int, steps: int,
                  batch_size: int) -> tuple[Any, Any]:
        """`steps` steps on the samples order[offset:], batch_size at a time; outputs joined along rows."""
        if steps == 1 and self.mode != "cuda_graph":  # the common case, without the loop's slicing
            return self._step(state, take_rows(data, order[offset:offset + batch_size]))
        outputs, new_state = [], None
        for rows in order[offset:offset + steps * batch_size].view(steps, batch_size):
            current = state if new_state is None else new_state  # a predict step may return no state
            if self.mode == "cuda_graph":
                new_state, output = self._step.run_rows(current, data, rows)
            else:
                new_state, output = self._step(current, take_rows(data, rows))
            if output is not None:
                outputs.append(output)
        return new_state, _concatenate(outputs)


def _own_code(step_fn: StepFn) -> StepFn:
    """step_fn behind a function with a code object of its own. torch.compile keeps its compiled graphs
    per code object, up to a small limit; every model's step shares the code of `Steps.train`, so without
    this the ninth model of a process (or batch shape) would hit the limit."""
    def step(state: Any, batch: Any) -> tuple[Any, Any]:
        return step_fn(state, batch)

    code = step.__code__.replace(co_name=f"lamina_step_{next(_step_numbers)}")
    return types.FunctionType(code, step.__globals__, code.co_name, None, step.__closure__)


def _on_device(value: Any) -> Any:
    return convert_to_tensor(value) if isinstance(value, np.ndarray) else value


def compile_step(step_fn: StepFn, mode: str = "auto", donate_state: bool = False,
                 whole_graph: bool = True) -> CompiledStep:
    """Prepare step_fn(state, batch) -> (state, output) to run on the device; see CompiledStep. Without
    `whole_graph`, a compiled step may break into several graphs where torch.compile cannot trace."""
    return CompiledStep(step_fn, mode, donate_state, whole_graph)


def _concatenate(outputs: list) -> Any:
    if not outputs:
        return None
    if len(outputs) == 1:
        return outputs[0]
    return map_leaves(lambda *parts: torch.cat(parts) if parts[0].dim() else torch.stack(parts), *outputs)


def clear_gradients(variables: Any) -> None:
    """Drop what `loss.backward()` accumulated in each variable's `.grad` (a custom torch train step's zero_grad)."""
    for variable in variables:
        variable.grad = None
