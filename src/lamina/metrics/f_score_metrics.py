"""F-scores: the weighted harmonic mean of precision and recall, per class or averaged."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.metrics.confusion_metrics import EPSILON, unique_name
from lamina.metrics.metric import Metric

_AVERAGES = (None, "micro", "macro", "weighted")
_COUNTS = ("true_positives", "false_positives", "false_negatives", "intermediate_weights")


class FBetaScore(Metric):
    """(1 + beta^2) * precision * recall / (beta^2 * precision + recall), for multi-class or multi-label data.

    y_true and y_pred have shape (samples, classes). Without `threshold`, the highest score of each row is
    the prediction; with it, every score above it. `average` None gives one score per class; "micro" pools
    the counts of all classes; "macro" averages the class scores; "weighted" weighs them by class support.
    """

    def __init__(self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
                 name: str | None = "fbeta_score", dtype: Any = None) -> None:
        super().__init__(unique_name(name, "fbeta_score"), dtype or "float32")
        if average not in _AVERAGES:
            raise ValueError(f"`average` must be one of {list(_AVERAGES)}, got {average!r}.")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0.0:
            raise ValueError(f"`beta` must be a float > 0, got {beta!r}.")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"`threshold` must be None or a float with 0 < threshold <= 1, got {threshold!r}.")
        self.average = average
        self.beta = float(beta)
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self.built = False

    def build(self, y_true_shape: Any, y_pred_shape: Any) -> None:
        """Create the counts: one per class, or single totals with average="micro"."""
        if self.built:
            return
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2 or y_pred_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} expects y_true and y_pred of shape (samples, classes), got "
                             f"y_true.shape={tuple(y_true_shape)} and y_pred.shape={tuple(y_pred_shape)}.")
        shape = () if self.average == "micro" else (int(y_pred_shape[-1]),)
        for count in _COUNTS:
            setattr(self, count, self.add_variable(shape=shape, name=count))
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        B = backend.impl
        y_true = B.cast(B.convert_to_tensor(y_true), "float32")
        y_pred = B.cast(B.convert_to_tensor(y_pred), "float32")
        self.build(B.shape(y_true), B.shape(y_pred))
        if self.threshold is None:  # the top score of each row (all tied tops), unless it is zero
            top = B.max(y_pred, axis=-1, keepdims=True)
            predicted = B.logical_and(B.greater_equal(y_pred, top), B.greater(B.abs(y_pred), 1e-9))
        else:
            predicted = B.greater(y_pred, self.threshold)
        predicted = B.cast(predicted, "float32")
        weight = None
        if sample_weight is not None:
            weight = B.cast(B.convert_to_tensor(sample_weight), "float32")
            weight = B.reshape(weight, (-1, 1))  # one weight per sample
        parts = (predicted * y_true, predicted * (1.0 - y_true), (1.0 - predicted) * y_true, y_true)
        for count, part in zip(_COUNTS, parts):
            part = part if weight is None else part * weight
            getattr(self, count).assign_add(B.sum(part, axis=self.axis))

    def result(self) -> Any:
        B = backend.impl
        if not self.built:
            return B.convert_to_tensor(0.0)
        tp = self.true_positives.value
        precision = tp / (tp + self.false_positives.value + EPSILON)
        recall = tp / (tp + self.false_negatives.value + EPSILON)
        beta_squared = self.beta ** 2
        score = (1.0 + beta_squared) * precision * recall / (beta_squared * precision + recall + EPSILON)
        if self.average == "weighted":
            support = self.intermediate_weights.value
            return B.sum(score * support / (B.sum(support) + EPSILON))
        if self.average is not None:
            return B.mean(score)
        return score

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """The harmonic mean of precision and recall (FBetaScore with beta=1)."""

    def __init__(self, average: str | None = None, threshold: float | None = None, name: str | None = "f1_score",
                 dtype: Any = None) -> None:
        super().__init__(average=average, beta=1.0, threshold=threshold, name=unique_name(name, "f1_score"),
                         dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


__all__ = ["FBetaScore", "F1Score"]
