"""Probabilistic metrics: cross-entropies, KL divergence and Poisson between targets and predictions."""

from __future__ import annotations

from typing import Any

from lamina.losses.probabilistic import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                                         categorical_focal_crossentropy, kl_divergence, poisson,
                                         sparse_categorical_crossentropy)
from lamina.metrics.regression_metrics import LossMetricWrapper


class KLDivergence(LossMetricWrapper):
    """The mean Kullback-Leibler divergence over samples."""

    def __init__(self, name: str = "kl_divergence", dtype: Any = None) -> None:
        super().__init__(kl_divergence, name, dtype)


class Poisson(LossMetricWrapper):
    """The mean Poisson loss over samples."""

    def __init__(self, name: str = "poisson", dtype: Any = None) -> None:
        super().__init__(poisson, name, dtype)


class BinaryCrossentropy(LossMetricWrapper):
    """The mean binary cross-entropy over samples."""

    config_keys = ("from_logits", "label_smoothing")

    def __init__(self, name: str = "binary_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0) -> None:
        super().__init__(binary_crossentropy, name, dtype, from_logits=from_logits, label_smoothing=label_smoothing)


class CategoricalCrossentropy(LossMetricWrapper):
    """The mean categorical cross-entropy over samples."""

    config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name: str = "categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 label_smoothing: float = 0, axis: int = -1) -> None:
        super().__init__(categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossMetricWrapper):
    """The mean sparse categorical cross-entropy over samples."""

    config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, name: str = "sparse_categorical_crossentropy", dtype: Any = None, from_logits: bool = False,
                 ignore_class: int | None = None, axis: int = -1) -> None:
        super().__init__(sparse_categorical_crossentropy, name, dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)


__all__ = ["KLDivergence", "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
           "categorical_focal_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "poisson"]
