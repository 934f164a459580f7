"""Hinge losses: margins of scores against labels of -1 and 1 (labels of 0 and 1 are mapped to them)."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.losses.loss import BuiltinLoss, prediction, targets_and_predictions


def _signed_labels(y_true: Any) -> Any:
    """Labels that are all 0 or 1 become -1 or 1; any other labels are taken as they are."""
    B = backend.impl
    binary = B.min(B.cast(B.logical_or(B.equal(y_true, 0.0), B.equal(y_true, 1.0)), "float32"))
    return B.where(B.greater(binary, 0.0), 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> Any:
    """mean(max(1 - y_true * y_pred, 0)) over the last axis."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    return B.mean(B.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> Any:
    """mean(max(1 - y_true * y_pred, 0)**2) over the last axis."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    return B.mean(B.square(B.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> Any:
    """max(max over the wrong classes - score of the true class + 1, 0), for one-hot labels."""
    B = backend.impl
    y_pred = prediction(y_pred)
    y_true = B.cast(y_true, B.dtype_of(y_pred))
    positive = B.sum(y_true * y_pred, axis=-1)
    negative = B.max((1.0 - y_true) * y_pred, axis=-1)
    return B.maximum(negative - positive + 1.0, 0.0)


class Hinge(BuiltinLoss):
    """The hinge loss, reduced over the batch."""

    function = staticmethod(hinge)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "hinge",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class SquaredHinge(BuiltinLoss):
    """The squared hinge loss, reduced over the batch."""

    function = staticmethod(squared_hinge)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "squared_hinge",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class CategoricalHinge(BuiltinLoss):
    """The categorical hinge loss of one-hot labels, reduced over the batch."""

    function = staticmethod(categorical_hinge)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "categorical_hinge",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


FUNCTIONS = (hinge, squared_hinge, categorical_hinge)
CLASSES = (Hinge, SquaredHinge, CategoricalHinge)
