"""Regression metrics: errors between predicted and true values."""

from __future__ import annotations

from lamina import losses
from lamina.metrics.metric import mean_metric_class


MeanSquaredError = mean_metric_class("MeanSquaredError", losses.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = mean_metric_class("MeanAbsoluteError", losses.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = mean_metric_class("MeanAbsolutePercentageError", losses.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")


__all__ = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError"]
