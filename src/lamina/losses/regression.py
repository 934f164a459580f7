"""Regression losses: errors between predicted and true values, averaged over the last axis."""

from __future__ import annotations

import math
from typing import Any

from lamina import backend
from lamina.losses.loss import BuiltinLoss, targets_and_predictions

EPSILON = 1e-7


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    return B.mean(B.square(B.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    return B.mean(B.abs(B.subtract(y_true, y_pred)), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    """100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    return 100.0 * B.mean(B.abs((y_true - y_pred) / B.maximum(B.abs(y_true), EPSILON)), axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    """mean((log(1 + max(y_pred, 1e-7)) - log(1 + max(y_true, 1e-7)))**2)."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    first = B.log(B.maximum(y_pred, EPSILON) + 1.0)
    second = B.log(B.maximum(y_true, EPSILON) + 1.0)
    return B.mean(B.square(first - second), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    """Quadratic for errors up to delta, linear beyond: 0.5 * e**2 or delta * |e| - 0.5 * delta**2."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    error = B.abs(y_pred - y_true)
    quadratic = B.minimum(error, delta)
    return B.mean(0.5 * B.square(quadratic) + delta * (error - quadratic), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> Any:
    """mean(log(cosh(y_pred - y_true))), computed as x + softplus(-2x) - log(2) so that it never overflows."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    error = y_pred - y_true
    return B.mean(error + B.softplus(-2.0 * error) - math.log(2.0), axis=-1)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """Minus the cosine of the angle between y_true and y_pred along axis: -1 for the same direction."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    return -B.sum(B.normalize(y_true, axis=axis) * B.normalize(y_pred, axis=axis), axis=axis)


class MeanSquaredError(BuiltinLoss):
    """mean((y_true - y_pred)**2) over the last axis, reduced over the batch."""

    function = staticmethod(mean_squared_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "mean_squared_error",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class MeanAbsoluteError(BuiltinLoss):
    """mean(|y_true - y_pred|) over the last axis, reduced over the batch."""

    function = staticmethod(mean_absolute_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "mean_absolute_error",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class MeanAbsolutePercentageError(BuiltinLoss):
    """100 * mean(|y_true - y_pred| / |y_true|) over the last axis, reduced over the batch."""

    function = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class MeanSquaredLogarithmicError(BuiltinLoss):
    """mean((log(1 + y_pred) - log(1 + y_true))**2) over the last axis, reduced over the batch."""

    function = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class Huber(BuiltinLoss):
    """The Huber loss with threshold `delta`, reduced over the batch."""

    function = staticmethod(huber)

    def __init__(self, delta: float = 1.0, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "huber_loss", dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, delta=delta)


class LogCosh(BuiltinLoss):
    """mean(log(cosh(y_pred - y_true))) over the last axis, reduced over the batch."""

    function = staticmethod(log_cosh)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "log_cosh",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class CosineSimilarity(BuiltinLoss):
    """Minus the cosine similarity along `axis`, reduced over the batch."""

    function = staticmethod(cosine_similarity)

    def __init__(self, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "cosine_similarity", dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, axis=axis)


FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
             huber, log_cosh, cosine_similarity)
CLASSES = (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber,
           LogCosh, CosineSimilarity)
