"""The math of one step, shared by every backend's StepRunner: forward, loss, metric updates."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.utils import tree


def forward_and_loss(model: Any, x: Any, y: Any, sample_weight: Any, training: bool) -> tuple[Any, Any]:
    """The model's predictions and the total loss: compiled losses plus the model's own (`add_loss`, penalties)."""
    model._clear_losses()
    y_pred = model(x, training=training)
    loss = model._compile_loss(y, y_pred, sample_weight) if model._compile_loss is not None else 0.0
    for extra in model.losses:
        loss = loss + extra
    return loss, y_pred


def update_metrics(model: Any, loss: Any, y: Any, y_pred: Any, sample_weight: Any) -> None:
    """Accumulate the loss (weighted by batch size) and the compiled metrics."""
    batch_size = backend.impl.shape(tree.flatten(y_pred)[0])[0]
    model._loss_tracker.add(loss, batch_size)
    if y is not None:
        model._compile_metrics.update_state(y, y_pred, sample_weight)


def metric_variables(model: Any) -> list[Any]:
    return [variable for metric in model.metrics for variable in metric.variables]
