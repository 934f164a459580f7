"""The torch StepRunner: eager steps with autograd; data stays on the device and batches are index selections."""

from __future__ import annotations

from typing import Any

import torch

from lamina.trainers import step
from lamina.utils import tree


def _gather(structure: Any, rows: torch.Tensor) -> Any:
    if structure is None:
        return None
    if isinstance(structure, torch.Tensor):
        return structure.index_select(0, rows)
    return tree.map_structure(lambda t: None if t is None else t.index_select(0, rows), structure)


def _rows(order: torch.Tensor, offset: int, steps: int, batch_size: int) -> torch.Tensor:
    """The index rows (steps, batch_size) of the next batches: a view, no copy."""
    return order[offset:offset + steps * batch_size].view(steps, batch_size)


class StepRunner:
    """Runs train/test/predict steps of one compiled model."""

    steps_per_call = 1

    def __init__(self, model: Any) -> None:
        self.model = model
        self.trainable = model.trainable_weights

    # --- training ----------------------------------------------------------------------------------

    def train_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        model = self.model
        loss, y_pred = step.forward_and_loss(model, x, y, sample_weight, training=True)
        grads = torch.autograd.grad(loss, self.trainable, allow_unused=True)
        with torch.no_grad():
            grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, self.trainable)]
            model.optimizer.apply(grads, self.trainable)
            step.update_metrics(model, loss.detach(), y, _detached(y_pred), sample_weight)

    def train_arrays(self, data: tuple, order: torch.Tensor, offset: int, steps: int, batch_size: int) -> None:
        """`steps` steps on the samples order[offset:], batch_size at a time."""
        x, y, sample_weight = data
        for row in _rows(order, offset, steps, batch_size):
            self.train_batch(_gather(x, row), _gather(y, row), _gather(sample_weight, row))

    # --- evaluation and inference -------------------------------------------------------------------

    @torch.no_grad()
    def test_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        loss, y_pred = step.forward_and_loss(self.model, x, y, sample_weight, training=False)
        step.update_metrics(self.model, loss, y, y_pred, sample_weight)

    def test_arrays(self, data: tuple, order: torch.Tensor, offset: int, steps: int, batch_size: int) -> None:
        x, y, sample_weight = data
        for row in _rows(order, offset, steps, batch_size):
            self.test_batch(_gather(x, row), _gather(y, row), _gather(sample_weight, row))

    @torch.inference_mode()
    def predict_batch(self, x: Any) -> Any:
        return self.model(x, training=False)

    def predict_arrays(self, x: Any, order: torch.Tensor, offset: int, steps: int, batch_size: int) -> Any:
        outputs = [self.predict_batch(_gather(x, row)) for row in _rows(order, offset, steps, batch_size)]
        if len(outputs) == 1:
            return outputs[0]
        flat = [tree.flatten(o) for o in outputs]
        return tree.unflatten_as(outputs[0], [torch.cat([f[i] for f in flat]) for i in range(len(flat[0]))])


def _detached(structure: Any) -> Any:
    if isinstance(structure, torch.Tensor):
        return structure.detach()
    return tree.map_structure(lambda t: t.detach(), structure)
