"""Accuracy metrics: how often predictions match the targets."""

from __future__ import annotations

from typing import Any

from lamina import backend, losses
from lamina.backend.common import is_float_dtype
from lamina.metrics.metric import MeanMetricWrapper


def _float(x: Any) -> Any:
    B = backend.impl
    return B.cast(B.convert_to_tensor(x), "float32")


def accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where y_pred equals y_true, else 0.0, element by element."""
    B = backend.impl
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(_float(y_true), _float(y_pred))
    return B.cast(B.equal(y_true, y_pred), "float32")


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> Any:
    """1.0 where (y_pred > threshold) equals y_true, else 0.0, element by element."""
    B = backend.impl
    y_true, y_pred = losses.squeeze_or_expand_to_same_rank(_float(y_true), _float(y_pred))
    return B.cast(B.equal(y_true, B.cast(B.greater(y_pred, threshold), "float32")), "float32")


def _sparse_matches(y_true: Any, predicted: Any) -> Any:
    """Integer targets (a trailing axis of 1 allowed) against predicted class ids."""
    B = backend.impl
    y_true = B.convert_to_tensor(y_true)
    if len(B.shape(y_true)) == len(B.shape(predicted)) + 1 and B.shape(y_true)[-1] == 1:
        y_true = B.squeeze(y_true, -1)
    if is_float_dtype(B.dtype_of(y_true)):
        return B.cast(B.equal(_float(y_true), B.cast(predicted, "float32")), "float32")
    return B.cast(B.equal(y_true, B.cast(predicted, B.dtype_of(y_true))), "float32")


def categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where the top class of y_pred is the one-hot class of y_true, per sample."""
    B = backend.impl
    y_true, y_pred = B.convert_to_tensor(y_true), B.convert_to_tensor(y_pred)
    return _sparse_matches(B.argmax(y_true, axis=-1), B.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> Any:
    """1.0 where the top class of y_pred is the integer class y_true, per sample."""
    return _sparse_matches(y_true, backend.impl.argmax(backend.impl.convert_to_tensor(y_pred), axis=-1))


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> Any:
    """1.0 where the one-hot class of y_true is among the k top scores of y_pred (ties count as in)."""
    B = backend.impl
    return sparse_top_k_categorical_accuracy(B.argmax(B.convert_to_tensor(y_true), axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False) -> Any:
    """1.0 where the integer class y_true is among the k top scores of y_pred (ties count as in).

    With `from_sorted_ids`, y_pred holds class ids sorted from the highest score down, and the first k count.
    """
    B = backend.impl
    y_pred = B.convert_to_tensor(y_pred)
    y_true = B.convert_to_tensor(y_true)
    shape = B.shape(y_true)
    y_true = B.reshape(y_true, (-1,))
    y_pred = B.reshape(y_pred, (-1, B.shape(y_pred)[-1]))
    if from_sorted_ids:
        hits = B.equal(B.expand_dims(_float(y_true), 1), _float(y_pred[:, :k]))
        matches = B.greater(B.sum(B.cast(hits, "float32"), axis=1), 0.0)
    else:
        matches = B.in_top_k(B.cast(y_true, "int32"), y_pred, k)
    return B.reshape(B.cast(matches, "float32"), shape)


class Accuracy(MeanMetricWrapper):
    """How often predictions equal the targets."""

    def __init__(self, name: str = "accuracy", dtype: Any = None) -> None:
        super().__init__(accuracy, name, dtype or "float32")


class BinaryAccuracy(MeanMetricWrapper):
    """How often predictions above `threshold` match binary targets."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5) -> None:
        super().__init__(binary_accuracy, name, dtype or "float32", threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the top predicted class is the one-hot target class."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(categorical_accuracy, name, dtype or "float32")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the top predicted class is the integer target class."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(sparse_categorical_accuracy, name, dtype or "float32")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target class is among the k top predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None) -> None:
        super().__init__(top_k_categorical_accuracy, name, dtype or "float32", k=k)
        self.k = k


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer target class is among the k top predictions (or the first k sorted ids)."""

    def __init__(self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None,
                 from_sorted_ids: bool = False) -> None:
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype or "float32", k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self) -> dict:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:  # as Keras writes it: only when set
            config["from_sorted_ids"] = True
        return config


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
