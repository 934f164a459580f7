"""Probabilistic metrics: cross-entropies between target and predicted distributions."""

from __future__ import annotations

from lamina import losses
from lamina.metrics.metric import mean_metric_class


BinaryCrossentropy = mean_metric_class("BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
                              from_logits=False)
CategoricalCrossentropy = mean_metric_class("CategoricalCrossentropy", losses.categorical_crossentropy,
                                   "categorical_crossentropy", from_logits=False)
SparseCategoricalCrossentropy = mean_metric_class("SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", from_logits=False)


__all__ = ["BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy"]
