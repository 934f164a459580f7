"""Intersection-over-union metrics, from a confusion matrix accumulated over batches."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend
from lamina.metrics.confusion_metrics import EPSILON, unique_name
from lamina.metrics.metric import Metric
from lamina.utils import naming


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int, weights: Any = None, dtype: Any = "int32") -> Any:
    """The (num_classes, num_classes) matrix of (weighted) counts: row = target class, column = predicted.

    Pairs with a class outside [0, num_classes) are dropped.
    """
    B = backend.impl
    y_true = B.reshape(B.cast(y_true, "int32"), (-1,))
    y_pred = B.reshape(B.cast(y_pred, "int32"), (-1,))
    inside = B.logical_and(B.logical_and(B.greater_equal(y_true, 0), B.less(y_true, num_classes)),
                           B.logical_and(B.greater_equal(y_pred, 0), B.less(y_pred, num_classes)))
    cells = B.where(inside, y_true * num_classes + y_pred, num_classes * num_classes)  # outside: dropped
    values = B.ones_like(y_true, dtype=dtype) if weights is None else B.cast(weights, dtype)
    counts = B.segment_sum(values, cells, num_segments=num_classes * num_classes)
    return B.reshape(counts, (num_classes, num_classes))


def _check_class_ids(num_classes: int, target_class_ids: Sequence[int]) -> list[int]:
    ids = [int(i) for i in target_class_ids]
    if not ids or min(ids) < 0 or max(ids) >= num_classes:
        raise ValueError(f"`target_class_ids` must be a non-empty list of class ids in [0, {num_classes}), "
                         f"got {list(target_class_ids)!r}.")
    return ids


class IoU(Metric):
    """The mean over `target_class_ids` of TP / (TP + FP + FN), from the accumulated confusion matrix.

    Classes that never occur in targets nor predictions are left out of the mean. The matrix is kept in
    `dtype`, int32 by default, so fractional sample weights are truncated unless dtype is a float type.
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1) -> None:
        super().__init__(unique_name(name, naming.to_snake_case(type(self).__name__)), dtype or "int32")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"`num_classes` must be a positive integer, got {num_classes!r}.")
        self.num_classes = num_classes
        self.target_class_ids = _check_class_ids(num_classes, target_class_ids)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self._target_tensor = backend.impl.convert_to_tensor(self.target_class_ids)
        self._diagonal = backend.impl.eye(num_classes)
        self.total_cm = self.add_variable(shape=(num_classes, num_classes), name="total_confusion_matrix")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        B = backend.impl
        y_true, y_pred = B.convert_to_tensor(y_true), B.convert_to_tensor(y_pred)
        if not self.sparse_y_true:
            y_true = B.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = B.argmax(y_pred, axis=self.axis)
        y_true = B.reshape(B.cast(y_true, "int32"), (-1,))
        y_pred = B.reshape(B.cast(y_pred, "int32"), (-1,))
        if sample_weight is None:
            weight = B.ones_like(y_true, dtype=self.dtype)
        else:
            weight = B.cast(B.convert_to_tensor(sample_weight), self.dtype)
            weight = B.broadcast_to(B.reshape(weight, (-1,)) if len(B.shape(weight)) > 1 else weight,
                                    B.shape(y_true))
        if self.ignore_class is not None:
            weight = B.where(B.equal(y_true, self.ignore_class), B.zeros_like(weight), weight)
        self.total_cm.assign_add(confusion_matrix(y_true, y_pred, self.num_classes, weight, self.dtype))

    def result(self) -> Any:
        B = backend.impl
        matrix = B.cast(self.total_cm.value, "float32")
        true_positives = B.sum(matrix * self._diagonal, axis=0)  # the diagonal
        union = B.sum(matrix, axis=0) + B.sum(matrix, axis=1) - true_positives
        true_positives = B.take(true_positives, self._target_tensor)
        union = B.take(union, self._target_tensor)
        valid = B.greater(union, 1e-9)
        iou = B.where(valid, true_positives / (union + EPSILON), 0.0)
        return B.sum(iou, axis=self.axis) / (B.sum(B.cast(valid, "float32")) + EPSILON)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary targets, with scores at or above `threshold` predicted as class 1."""

    def __init__(self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        B = backend.impl
        predicted = B.cast(B.greater_equal(B.cast(B.convert_to_tensor(y_pred), "float32"), self.threshold), "int32")
        super().update_state(B.cast(B.convert_to_tensor(y_true), "int32"), predicted, sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class MeanIoU(IoU):
    """The IoU averaged over all classes."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
                 axis: int = -1) -> None:
        super().__init__(num_classes, list(range(num_classes)) if isinstance(num_classes, int) else [], name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU of one-hot targets (and of class scores, unless `sparse_y_pred`)."""

    def __init__(self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
                 dtype: Any = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
                 axis: int = -1) -> None:
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """MeanIoU of one-hot targets (and of class scores, unless `sparse_y_pred`)."""

    def __init__(self, num_classes: int, name: str | None = None, dtype: Any = None,
                 ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1) -> None:
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


__all__ = ["IoU", "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]
