"""Probabilistic losses: cross-entropies (plain, focal, generalized), KL divergence and Poisson.

Every cross-entropy given the output of the backend's own softmax or sigmoid computes from the logits
behind it (`logits_if_known`): the same value as from probabilities wherever those are not saturated,
and an exact value and a useful gradient where they are.
"""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.losses.loss import BuiltinLoss, logits_if_known, prediction, set_keras_mask, targets_and_predictions

EPSILON = 1e-7


def _check_axis(axis: Any, function: str) -> None:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"{function}: axis must be an int, got {axis!r} of type {type(axis).__name__}.")


def _smooth_binary(y_true: Any, label_smoothing: float) -> Any:
    """Labels pulled towards 0.5."""
    return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing if label_smoothing else y_true


def _smooth_categorical(y_true: Any, label_smoothing: float, axis: int) -> Any:
    """One-hot labels pulled towards the uniform distribution over the classes."""
    if not label_smoothing:
        return y_true
    return y_true * (1.0 - label_smoothing) + label_smoothing / backend.impl.shape(y_true)[axis]


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Any:
    """-(y log p + (1 - y) log(1 - p)), averaged over axis."""
    B = backend.impl
    y_pred, from_logits = logits_if_known(y_pred, from_logits, "sigmoid")
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    y_true = _smooth_binary(y_true, label_smoothing)
    return B.mean(B.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def binary_focal_crossentropy(y_true: Any, y_pred: Any, apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                              axis: int = -1) -> Any:
    """The binary cross-entropy times (1 - p_t)**gamma (and alpha or 1 - alpha when balancing classes)."""
    B = backend.impl
    y_pred, from_logits = logits_if_known(y_pred, from_logits, "sigmoid")
    y_true, y_pred = targets_and_predictions(y_true, y_pred)
    y_true = _smooth_binary(y_true, label_smoothing)
    crossentropy = B.binary_crossentropy(y_true, y_pred, from_logits=from_logits)
    if from_logits:
        # 1 - p_t = y (1 - p) + (1 - y) p, with 1 - sigmoid(z) = sigmoid(-z): no cancellation when saturated;
        # the floor keeps the gradient of a power below 1 finite where it is exactly 0.
        miss = y_true * B.sigmoid(-y_pred) + (1.0 - y_true) * B.sigmoid(y_pred)
        miss = B.maximum(miss, 1e-12)
    else:
        miss = 1.0 - (y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred))
    focal = B.power(miss, gamma) * crossentropy
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return B.mean(focal, axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Any:
    """-sum(y log p) over axis, for one-hot (or soft) labels y."""
    B = backend.impl
    _check_axis(axis, "categorical_crossentropy")
    y_pred, from_logits = logits_if_known(y_pred, from_logits, "softmax", axis)
    y_pred = prediction(y_pred)
    y_true = _smooth_categorical(B.cast(y_true, B.dtype_of(y_pred)), label_smoothing, axis)
    return B.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(y_true: Any, y_pred: Any, alpha: float = 0.25, gamma: float = 2.0,
                                   from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1) -> Any:
    """-sum(alpha * (1 - p)**gamma * y log p) over axis."""
    B = backend.impl
    _check_axis(axis, "categorical_focal_crossentropy")
    y_pred, from_logits = logits_if_known(y_pred, from_logits, "softmax", axis)
    y_pred = prediction(y_pred)
    y_true = _smooth_categorical(B.cast(y_true, B.dtype_of(y_pred)), label_smoothing, axis)
    if from_logits:
        log_probabilities = B.log_softmax(y_pred, axis=axis)
        probabilities = B.exp(log_probabilities)
    else:
        probabilities = y_pred / B.sum(y_pred, axis=axis, keepdims=True)
        log_probabilities = B.log(B.clip(probabilities, EPSILON, 1.0 - EPSILON))
    modulating = B.power(1.0 - B.clip(probabilities, EPSILON, 1.0 - EPSILON), gamma)
    return B.sum(alpha * modulating * (-y_true * log_probabilities), axis=axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False,
                                    ignore_class: int | None = None, axis: int = -1) -> Any:
    """-log p[label] for integer labels; labels equal to ignore_class give 0 and are masked out of the mean."""
    B = backend.impl
    y_pred, from_logits = logits_if_known(y_pred, from_logits, "softmax", axis)
    y_pred = prediction(y_pred)
    y_true = B.convert_to_tensor(y_true)
    if len(B.shape(y_true)) == len(B.shape(y_pred)) and B.shape(y_true)[axis] == 1:
        y_true = B.squeeze(y_true, axis)
    if ignore_class is None:
        return B.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    valid = B.not_equal(y_true, ignore_class)
    y_true = B.where(valid, y_true, 0)
    values = B.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)
    values = B.where(valid, values, 0.0)
    return set_keras_mask(values, valid)


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    """sum(y_true * log(y_true / y_pred)) over the last axis, both clipped to [1e-7, 1]."""
    B = backend.impl
    y_pred = prediction(y_pred)
    y_true = B.clip(B.cast(y_true, B.dtype_of(y_pred)), EPSILON, 1.0)
    y_pred = B.clip(y_pred, EPSILON, 1.0)
    return B.sum(y_true * B.log(y_true / y_pred), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> Any:
    """mean(y_pred - y_true * log(y_pred + 1e-7)) over the last axis."""
    B = backend.impl
    y_pred = prediction(y_pred)
    y_true = B.cast(y_true, B.dtype_of(y_pred))
    return B.mean(y_pred - y_true * B.log(y_pred + EPSILON), axis=-1)


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> Any:
    """(1 - p[label]**q) / q for integer labels: robust to noisy labels, the cross-entropy as q -> 0."""
    B = backend.impl
    y_pred = prediction(y_pred)
    y_true = B.convert_to_tensor(y_true)
    classes = B.shape(y_pred)[-1]
    if len(B.shape(y_true)) == len(B.shape(y_pred)) and B.shape(y_true)[-1] == 1 and classes != 1:
        y_true = B.squeeze(y_true, -1)
    one_hot = B.one_hot(B.cast(y_true, "int32"), classes, dtype=B.dtype_of(y_pred))
    probability = B.sum(y_pred * one_hot, axis=-1)
    return (1.0 - B.power(probability, q)) / q


class BinaryCrossentropy(BuiltinLoss):
    """The binary cross-entropy of labels in [0, 1], reduced over the batch."""

    function = staticmethod(binary_crossentropy)

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "binary_crossentropy",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(BuiltinLoss):
    """The binary focal cross-entropy, which weighs down well-classified examples, reduced over the batch."""

    function = staticmethod(binary_focal_crossentropy)

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "binary_focal_crossentropy",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(BuiltinLoss):
    """The cross-entropy of one-hot labels, reduced over the batch."""

    function = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str | None = "sum_over_batch_size", name: str | None = "categorical_crossentropy",
                 dtype: Any = None) -> None:
        _check_axis(axis, "CategoricalCrossentropy")
        super().__init__(reduction, name, dtype, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(BuiltinLoss):
    """The categorical focal cross-entropy of one-hot labels, reduced over the batch."""

    function = staticmethod(categorical_focal_crossentropy)

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "categorical_focal_crossentropy", dtype: Any = None) -> None:
        _check_axis(axis, "CategoricalFocalCrossentropy")
        super().__init__(reduction, name, dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(BuiltinLoss):
    """The cross-entropy of integer labels, reduced over the batch (and over the labels not ignored)."""

    function = staticmethod(sparse_categorical_crossentropy)
    integer_targets = True

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: str | None = "sum_over_batch_size", axis: int = -1,
                 name: str | None = "sparse_categorical_crossentropy", dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype, from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class KLDivergence(BuiltinLoss):
    """The Kullback-Leibler divergence of y_pred from y_true, reduced over the batch."""

    function = staticmethod(kl_divergence)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "kl_divergence",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class Poisson(BuiltinLoss):
    """The Poisson negative log-likelihood (without its constant), reduced over the batch."""

    function = staticmethod(poisson)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = "poisson",
                 dtype: Any = None) -> None:
        super().__init__(reduction, name, dtype)


class CategoricalGeneralizedCrossEntropy(BuiltinLoss):
    """The generalized cross-entropy of integer labels with exponent q in (0, 1), reduced over the batch."""

    function = staticmethod(categorical_generalized_cross_entropy)

    def __init__(self, q: float = 0.5, reduction: str | None = "sum_over_batch_size",
                 name: str | None = "categorical_generalized_cross_entropy", dtype: Any = None) -> None:
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in the interval (0, 1), got {q!r}.")
        super().__init__(reduction, name, dtype, q=q)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        # Its labels are not shaped like its predictions: a call of its own tells fit's target-shape
        # check, which knows only the built-in losses of same-shaped or sparse labels, to leave them be.
        return super().call(y_true, y_pred)


FUNCTIONS = (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy, categorical_focal_crossentropy,
             sparse_categorical_crossentropy, kl_divergence, poisson, categorical_generalized_cross_entropy)
CLASSES = (BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy, CategoricalFocalCrossentropy,
           SparseCategoricalCrossentropy, KLDivergence, Poisson, CategoricalGeneralizedCrossEntropy)
