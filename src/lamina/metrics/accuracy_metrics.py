"""Accuracy metrics: how often predictions match the targets."""

from __future__ import annotations

from typing import Any

from lamina import backend, losses
from lamina.metrics.metric import mean_metric_class


def _match_mean(matches: Any) -> Any:
    """Per-sample values: the mean over the last axis, except for one value per sample already."""
    B = backend.impl
    matches = B.cast(matches, "float32")
    return B.mean(matches, axis=-1) if len(B.shape(matches)) > 1 else matches


def accuracy(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(B.convert_to_tensor(y_true), B.convert_to_tensor(y_pred))
    return _match_mean(B.equal(B.cast(y_true, "float32"), B.cast(y_pred, "float32")))


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    B = backend.impl
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(B.convert_to_tensor(y_true), B.convert_to_tensor(y_pred))
    predicted = B.cast(B.greater(y_pred, threshold), "float32")
    return _match_mean(B.equal(B.cast(y_true, "float32"), predicted))


def categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    return B.cast(B.equal(B.argmax(y_true, axis=-1), B.argmax(y_pred, axis=-1)), "float32")


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true = B.cast(y_true, "int64")
    if len(B.shape(y_true)) == len(B.shape(y_pred)):
        y_true = B.squeeze(y_true, -1)
    return B.cast(B.equal(y_true, B.argmax(y_pred, axis=-1)), "float32")


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    return sparse_top_k_categorical_accuracy(backend.impl.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    B = backend.impl
    y_true = B.cast(y_true, "int64")
    if len(B.shape(y_true)) == len(B.shape(y_pred)):
        y_true = B.squeeze(y_true, -1)
    true_score = B.take_along_axis(y_pred, B.expand_dims(y_true, -1), axis=-1)
    rank = B.sum(B.cast(B.greater(y_pred, true_score), "float32"), axis=-1)
    return B.cast(B.less(rank, float(k)), "float32")


Accuracy = mean_metric_class("Accuracy", accuracy, "accuracy")
BinaryAccuracy = mean_metric_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
CategoricalAccuracy = mean_metric_class("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = mean_metric_class("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy")
TopKCategoricalAccuracy = mean_metric_class("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = mean_metric_class("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy", k=5)

_ACCURACY_FOR_LOSS = {"sparse_categorical_crossentropy": SparseCategoricalAccuracy,
                      "categorical_crossentropy": CategoricalAccuracy,
                      "binary_crossentropy": BinaryAccuracy}


def accuracy_for(loss: Any, y_true_shape: tuple, y_pred_shape: tuple) -> type:
    """The accuracy a plain 'accuracy' means, from the loss, else from the shapes (as Keras resolves it)."""
    loss_function = getattr(type(loss), "function", None)
    for name, cls in _ACCURACY_FOR_LOSS.items():
        if loss_function is losses.FUNCTIONS[name]:
            return cls
    if y_pred_shape[-1] == 1:
        return BinaryAccuracy
    if len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1 and y_pred_shape[-1] not in (None, 1)):
        return SparseCategoricalAccuracy
    return CategoricalAccuracy


__all__ = ["accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy"]
