"""What the shared step needs from numpy: inference only; steps run eagerly on row selections of arrays."""

from __future__ import annotations

from typing import Any, Callable, NoReturn, Sequence

import numpy as np

from lamina.backend import TRAINING_BACKENDS
from lamina.backend.common import map_leaves

StepFn = Callable[[Any, Any], tuple[Any, Any]]


def _inference_only(what: str) -> NoReturn:
    raise RuntimeError(f"The numpy backend is inference-only: {what} needs a training backend "
                       f"({' or '.join(TRAINING_BACKENDS)}). Set LAMINA_BACKEND to one of them.")


def state_values(variables: Sequence[Any]) -> list[Any]:
    """The values a step receives for these variables: the variables themselves, read in place."""
    return list(variables)


def store_state(variables: Sequence[Any], values: Sequence[Any]) -> None:
    for variable, value in zip(variables, values):
        if value is not variable:
            variable.assign(value)


class StateScope:
    """The numpy step reads its variables in place: nothing to swap in or out."""

    def __init__(self, variables: Sequence[Any], values: Sequence[Any]) -> None:
        self.variables = variables

    def __enter__(self) -> "StateScope":
        return self

    def current(self, variables: Sequence[Any]) -> list[Any]:
        return list(variables)

    def __exit__(self, *exc_info: Any) -> None:
        return None


def value_and_grad(fn: Callable[[list], tuple[Any, Any]]) -> NoReturn:
    _inference_only("training (gradients)")


def take_rows(structure: Any, rows: np.ndarray) -> Any:
    return map_leaves(lambda a: np.take(a, rows, axis=0), structure)


def steps_per_call(requested: int) -> int:
    return 1


class CompiledStep:
    """A step run eagerly, batch by batch."""

    def __init__(self, step_fn: StepFn, mode: str = "auto", donate_state: bool = False) -> None:
        self.step_fn = step_fn

    def __call__(self, state: Any, batch: Any) -> tuple[Any, Any]:
        return self.step_fn(state, batch)

    def over_rows(self, state: Any, data: Any, order: np.ndarray, offset: int, steps: int,
                  batch_size: int) -> tuple[Any, Any]:
        """`steps` steps on the samples order[offset:], batch_size at a time; outputs joined along rows."""
        rows = np.asarray(order)[offset:offset + steps * batch_size].reshape(steps, batch_size)
        outputs = []
        for row in rows:
            state, output = self.step_fn(state, take_rows(data, row))
            outputs.append(output)
        if outputs[0] is None:
            return state, None
        return state, map_leaves(lambda *parts: np.concatenate(parts), *outputs)


def compile_step(step_fn: StepFn, mode: str = "auto", donate_state: bool = False) -> CompiledStep:
    return CompiledStep(step_fn, mode, donate_state)
