"""Metrics by their Keras names."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend, losses
from lamina.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from lamina.utils import naming


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


def _wrapper(class_name: str, fn: Callable[..., Any], default_name: str, **defaults: Any) -> type:
    def __init__(self: MeanMetricWrapper, name: str | None = None, dtype: Any = "float32", **options: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name or default_name, dtype, **{**defaults, **options})

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__,
                                                   "__doc__": f"The mean {default_name} over samples."})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy", threshold=0.5)
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", k=5)
SparseTopKCategoricalAccuracy = _wrapper("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy", k=5)
MeanSquaredError = _wrapper("MeanSquaredError", losses.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", losses.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", losses.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")
BinaryCrossentropy = _wrapper("BinaryCrossentropy", losses.binary_crossentropy, "binary_crossentropy",
                              from_logits=False)
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", losses.categorical_crossentropy,
                                   "categorical_crossentropy", from_logits=False)
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", from_logits=False)

CLASSES = {cls.__name__: cls for cls in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)}
NAMES: dict[str, type] = {naming.to_snake_case(name): cls for name, cls in CLASSES.items() if name not in ("Mean", "Sum")}
NAMES.update({"mse": MeanSquaredError, "mae": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
              "acc": Accuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
              "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy})

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


def get(identifier: Any) -> Metric:
    """A Metric for a name, a config dict, a Metric instance or class, or a per-sample function."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        return naming.lookup("metric", identifier, {**NAMES, **CLASSES})(name=identifier)
    if isinstance(identifier, dict):
        return naming.lookup("metric", identifier["class_name"], CLASSES).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"A metric must be a name, a Metric or a function, got {type(identifier).__name__}.")


__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "get", "accuracy_for", *CLASSES]
