"""Overlap losses for segmentation: Dice and Tversky, over the whole batch or per sample along `axis`."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.losses.loss import BuiltinLoss, prediction

EPSILON = 1e-7


def _as_axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> Any:
    """1 - 2 |y_true . y_pred| / (|y_true| + |y_pred|), summed over axis (every axis when None)."""
    B = backend.impl
    y_pred = prediction(y_pred)
    y_true = B.cast(y_true, B.dtype_of(y_pred))
    axis = _as_axis(axis)
    intersection = B.sum(y_true * y_pred, axis=axis)
    total = B.sum(y_true, axis=axis) + B.sum(y_pred, axis=axis)
    return 1.0 - 2.0 * intersection / (total + EPSILON)


def tversky(y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None) -> Any:
    """1 - TP / (TP + alpha FP + beta FN), with soft counts summed over axis (every axis when None).

    As Keras counts them, FP sums (1 - y_pred) * y_true and FN sums y_pred * (1 - y_true).
    """
    B = backend.impl
    y_pred = prediction(y_pred)
    y_true = B.cast(y_true, B.dtype_of(y_pred))
    axis = _as_axis(axis)
    true_positive = B.sum(y_true * y_pred, axis=axis)
    false_positive = B.sum((1.0 - y_pred) * y_true, axis=axis)
    false_negative = B.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - true_positive / (true_positive + alpha * false_positive + beta * false_negative + EPSILON)


class Dice(BuiltinLoss):
    """The Dice loss, reduced over the batch."""

    function = staticmethod(dice)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "dice", axis: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, axis=axis)


class Tversky(BuiltinLoss):
    """The Tversky loss (the Dice loss when alpha = beta = 0.5), reduced over the batch."""

    function = staticmethod(tversky)

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "tversky", axis: Any = None, dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


FUNCTIONS = (dice, tversky)
CLASSES = (Dice, Tversky)
