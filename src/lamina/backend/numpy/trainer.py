"""The numpy StepRunner: inference only; batches are row selections of the in-memory arrays."""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from lamina.backend import TRAINING_BACKENDS
from lamina.utils import tree


def _gather(structure: Any, rows: np.ndarray) -> Any:
    if structure is None:
        return None
    if isinstance(structure, np.ndarray):
        return np.take(structure, rows, axis=0)
    return tree.map_structure(lambda a: None if a is None else np.take(a, rows, axis=0), structure)


def _inference_only(what: str) -> NoReturn:
    raise RuntimeError(f"The numpy backend is inference-only: {what} needs a training backend "
                       f"({' or '.join(TRAINING_BACKENDS)}). Set LAMINA_BACKEND to one of them.")


class StepRunner:
    """Runs the predict steps of one model; training and evaluation raise."""

    steps_per_call = 1

    def __init__(self, model: Any) -> None:
        self.model = model

    def train_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        _inference_only("training (train_batch)")

    def train_arrays(self, data: tuple, order: np.ndarray, offset: int, steps: int, batch_size: int) -> None:
        _inference_only("training (train_arrays)")

    def test_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        _inference_only("evaluation (test_batch)")

    def test_arrays(self, data: tuple, order: np.ndarray, offset: int, steps: int, batch_size: int) -> None:
        _inference_only("evaluation (test_arrays)")

    def predict_batch(self, x: Any) -> Any:
        return self.model(x, training=False)

    def predict_arrays(self, x: Any, order: np.ndarray, offset: int, steps: int, batch_size: int) -> Any:
        """The model's outputs for `steps` batches of the samples order[offset:], concatenated."""
        rows = np.asarray(order)[offset:offset + steps * batch_size].reshape(steps, batch_size)
        outputs = [self.predict_batch(_gather(x, row)) for row in rows]
        if len(outputs) == 1:
            return outputs[0]
        flat = [tree.flatten(o) for o in outputs]
        return tree.unflatten_as(outputs[0], [np.concatenate([f[i] for f in flat]) for i in range(len(flat[0]))])
