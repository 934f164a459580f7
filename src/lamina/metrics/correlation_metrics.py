"""Correlation metrics: Pearson's and Lin's concordance correlation along an axis, averaged over samples."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.losses.loss import targets_and_predictions
from lamina.metrics.regression_metrics import LossMetricWrapper

EPSILON = 1e-7


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """Pearson's correlation coefficient of y_true and y_pred along axis."""
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    y_true = y_true - B.mean(y_true, axis=axis, keepdims=True)
    y_pred = y_pred - B.mean(y_pred, axis=axis, keepdims=True)
    y_true = y_true / B.std(y_true, axis=axis, keepdims=True)
    y_pred = y_pred / B.std(y_pred, axis=axis, keepdims=True)
    return B.mean(y_true * y_pred, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """Lin's concordance correlation of y_true and y_pred along axis, 2 cov / (var_t + var_p + (mean_t - mean_p)**2).

    The covariance is taken as Keras 3.15 takes it, about the mean of y_pred for both factors, so that the
    numbers are Keras's.
    """
    B = backend.impl
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    true_mean = B.mean(y_true, axis=axis, keepdims=True)
    pred_mean = B.mean(y_pred, axis=axis, keepdims=True)
    true_var = B.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = B.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + B.square(true_mean - pred_mean)
    return B.mean(2.0 * covariance / (norm + EPSILON), axis=axis)


class PearsonCorrelation(LossMetricWrapper):
    """The mean Pearson correlation along `axis` over samples."""

    config_keys = ("axis",)

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(pearson_correlation, name, dtype, axis=axis)


class ConcordanceCorrelation(LossMetricWrapper):
    """The mean concordance correlation along `axis` over samples."""

    config_keys = ("axis",)

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(concordance_correlation, name, dtype, axis=axis)


__all__ = ["PearsonCorrelation", "ConcordanceCorrelation", "pearson_correlation", "concordance_correlation"]
