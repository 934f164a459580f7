"""Regression metrics: errors between predicted and true values, R2 and cosine similarity."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend, losses
from lamina.losses.loss import apply_mask, get_keras_mask, squeeze_or_expand_to_same_rank, targets_and_predictions
from lamina.losses.regression import (huber, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                                      mean_squared_error, mean_squared_logarithmic_error)
from lamina.metrics.metric import Mean, MeanMetricWrapper, Metric


class LossMetricWrapper(MeanMetricWrapper):
    """The weighted mean over samples of a loss function, with the masks Keras applies: the mask of y_pred
    and, with sample weights, the mask the function sets on its values (a sparse cross-entropy's ignore_class)."""

    config_keys: tuple[str, ...] = ()  # the function's options that get_config reports

    def __init__(self, fn: Callable[..., Any], name: str | None, dtype: Any = "float32", **fn_options: Any) -> None:
        super().__init__(fn, name, dtype or "float32", **fn_options)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        mask = get_keras_mask(y_pred)
        values = self.fn(y_true, y_pred, **self.fn_options)
        sample_weight = apply_mask(sample_weight, mask, "float32", "sum")
        if sample_weight is not None:
            sample_weight = apply_mask(sample_weight, get_keras_mask(values), "float32", "sum")
        Mean.update_state(self, values, sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **{key: self.fn_options[key] for key in self.config_keys}}


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> Any:
    """The cosine of the angle between y_true and y_pred along axis: 1 for the same direction."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class MeanSquaredError(LossMetricWrapper):
    """The mean squared error over samples."""

    def __init__(self, name: str = "mean_squared_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(LossMetricWrapper):
    """The mean absolute error over samples."""

    def __init__(self, name: str = "mean_absolute_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(LossMetricWrapper):
    """The mean absolute percentage error over samples."""

    def __init__(self, name: str = "mean_absolute_percentage_error", dtype: Any = None) -> None:
        super().__init__(mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(LossMetricWrapper):
    """The mean squared logarithmic error over samples."""

    def __init__(self, name: str = "mean_squared_logarithmic_error", dtype: Any = None) -> None:
        super().__init__(mean_squared_logarithmic_error, name, dtype)


class CosineSimilarity(LossMetricWrapper):
    """The mean cosine similarity along `axis` over samples."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1) -> None:
        super().__init__(cosine_similarity, name, dtype, axis=axis)

    config_keys = ("axis",)


class LogCoshError(LossMetricWrapper):
    """The mean log-cosh error over samples."""

    def __init__(self, name: str = "logcosh", dtype: Any = None) -> None:
        super().__init__(log_cosh, name, dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the (weighted) mean of the squared errors over every value seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None) -> None:
        super().__init__(name, dtype or "float32")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = targets_and_predictions(y_true, y_pred)
        super().update_state(backend.impl.square(y_pred - y_true), sample_weight)

    def result(self) -> Any:
        return backend.impl.sqrt(super().result())


_CLASS_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """The coefficient of determination of 2D targets (batch, outputs), per output or aggregated.

    Args:
        class_aggregation: None (one score per output), "uniform_average" or "variance_weighted_average".
        num_regressors: the number of independent variables, for the adjusted R2 (0: the plain R2); while
            there are too few samples for it, the result is the plain R2.
    """

    def __init__(self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
                 name: str = "r2_score", dtype: Any = None) -> None:
        super().__init__(name, dtype or "float32")
        if class_aggregation not in _CLASS_AGGREGATIONS:
            raise ValueError(f"R2Score: class_aggregation must be one of {_CLASS_AGGREGATIONS}, "
                             f"got {class_aggregation!r}.")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be an int >= 0, got {num_regressors!r}.")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(name="num_samples")
        self.built = False

    def build(self, y_true_shape: tuple, y_pred_shape: tuple) -> None:
        """Create the per-output sums; called with the shapes of the first batch (or before training)."""
        if len(y_true_shape) == 1 and len(y_pred_shape) == 2 and y_pred_shape[-1] == 1:
            y_true_shape = (*y_true_shape, 1)  # (n,) against (n, 1), as update_state matches them
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs of shape (batch_size, output_dim), got "
                             f"y_true.shape={tuple(y_true_shape)} and y_pred.shape={tuple(y_pred_shape)}.")
        if y_pred_shape[-1] is None:
            raise ValueError(f"R2Score needs a known output_dim, got y_pred.shape={tuple(y_pred_shape)}.")
        outputs = (y_pred_shape[-1],)
        self.squared_sum = self.add_variable(outputs, name="squared_sum")
        self.sum = self.add_variable(outputs, name="sum")
        self.total_mse = self.add_variable(outputs, name="residual")
        self.count = self.add_variable(outputs, name="count")
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        B = backend.impl
        y_true = B.cast(B.convert_to_tensor(y_true), self.dtype)
        y_pred = B.cast(B.convert_to_tensor(y_pred), self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self.built:
            self.build(B.shape(y_true), B.shape(y_pred))
        if sample_weight is None:
            weight = B.ones_like(y_true)
        else:
            weight = B.cast(B.convert_to_tensor(sample_weight), self.dtype)
        if len(B.shape(weight)) == 1:
            weight = B.expand_dims(weight, 1)
        weight = B.broadcast_to(weight, B.shape(y_true))
        weighted = y_true * weight
        self.sum.assign_add(B.sum(weighted, axis=0))
        self.squared_sum.assign_add(B.sum(y_true * weighted, axis=0))
        self.total_mse.assign_add(B.sum(B.square(y_true - y_pred) * weight, axis=0))
        self.count.assign_add(B.sum(weight, axis=0))
        self.num_samples.assign_add(float(B.size(y_true)))

    def result(self) -> Any:
        B = backend.impl
        if not self.built:
            return B.convert_to_tensor(0.0)
        mean = self.sum.value / self.count.value
        total = self.squared_sum.value - self.sum.value * mean
        raw = 1.0 - self.total_mse.value / total
        raw = B.where(B.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = B.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = B.sum(total * raw) / B.sum(total)
        else:
            score = raw
        if self.num_regressors:
            score = self._adjusted(score)
        return score

    def _adjusted(self, score: Any) -> Any:
        """The adjusted R2, 1 - (1 - R2) (n - 1) / (n - p - 1); the plain R2 while n - p - 1 <= 0."""
        B = backend.impl
        n, p = self.num_samples.value, float(self.num_regressors)
        defined = B.greater(n - p - 1.0, 0.0)
        adjusted = 1.0 - (1.0 - score) * (n - 1.0) / B.where(defined, n - p - 1.0, 1.0)
        return B.where(defined, adjusted, score)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


__all__ = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
           "RootMeanSquaredError", "CosineSimilarity", "LogCoshError", "R2Score", "mean_squared_error",
           "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
           "log_cosh"]
