"""What the shared step needs from numpy: inference only; steps run eagerly on row selections of arrays."""

from __future__ import annotations

from typing import Any, Callable, NoReturn

import numpy as np

from lamina.backend import TRAINING_BACKENDS
from lamina.backend.common import InPlaceStateScope, map_leaves, state_in_place, store_in_place

StepFn = Callable[[Any, Any], tuple[Any, Any]]


def _inference_only(what: str) -> NoReturn:
    raise RuntimeError(f"The numpy backend is inference-only: {what} needs a training backend "
                       f"({' or '.join(TRAINING_BACKENDS)}). Set LAMINA_BACKEND to one of them.")


# The numpy step reads its variables in place: their "values" are the variables themselves.
state_values = state_in_place
store_state = store_in_place
StateScope = InPlaceStateScope


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


def compile_step(step_fn: StepFn, mode: str = "auto", donate_state: bool = False,
                 whole_graph: bool = True) -> CompiledStep:
    return CompiledStep(step_fn, mode, donate_state)
