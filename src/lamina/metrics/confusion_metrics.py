"""Metrics from thresholded confusion counts: TP/FP/TN/FN, precision, recall, AUC and their trade-offs.

Every metric here keeps, per decision threshold, the (weighted) number of true/false positives/negatives
in backend variables. One batch updates all thresholds at once: either one broadcast comparison of the
predictions against every threshold, or, for evenly spaced thresholds, a histogram of the predictions
over the threshold buckets followed by a reversed cumulative sum (linear in the batch, not in thresholds).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.losses import squeeze_or_expand_to_same_rank
from lamina.metrics.metric import Metric
from lamina.utils import naming

EPSILON = 1e-7
NEG_INF = -1e10  # the score given to predictions outside the top k
COUNTS = ("true_positives", "false_positives", "true_negatives", "false_negatives")


def divide_no_nan(x: Any, y: Any) -> Any:
    """x / y, and 0 where y is 0."""
    B = backend.impl
    nonzero = B.not_equal(y, 0.0)
    return B.where(nonzero, B.divide(x, B.where(nonzero, y, 1.0)), 0.0)


def parse_thresholds(thresholds: Any, default: float, argument: str = "thresholds") -> list[float]:
    """The thresholds as a list of floats in [0, 1] (the default alone when None)."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]
    invalid = [t for t in values if t is None or isinstance(t, bool) or not isinstance(t, (int, float, np.number))
               or not 0.0 <= t <= 1.0]
    if invalid or not values:
        raise ValueError(f"`{argument}` must be a float or a non-empty list of floats in [0, 1], "
                         f"got {thresholds!r}.")
    return [float(t) for t in values]


def _as_config(thresholds: Any) -> Any:
    """The thresholds argument as plain Python numbers, so that a config holding it saves as JSON."""
    if isinstance(thresholds, (list, tuple, np.ndarray)):
        return [float(t) for t in thresholds]
    return None if thresholds is None else float(thresholds)


def evenly_spaced(thresholds: Sequence[float]) -> bool:
    """Whether the thresholds are i / (n - 1) for i = 0..n-1 (n >= 3), up to the float epsilon."""
    count = len(thresholds)
    return count >= 3 and bool(np.allclose(thresholds, np.arange(count) / (count - 1), atol=EPSILON))


def unique_name(name: str | None, default: str) -> str:
    """The name given, else the default made unique in this process ('precision', 'precision_1', ...)."""
    return name if name else naming.unique_name(default)


def _weights_like(sample_weight: Any, y_pred: Any) -> Any:
    """Sample weights broadcast to y_pred's shape: a weight per sample covers all of its labels."""
    B = backend.impl
    weight = B.cast(B.convert_to_tensor(sample_weight), "float32")
    rank = len(B.shape(y_pred))
    if len(B.shape(weight)) == rank + 1 and B.shape(weight)[-1] == 1:
        weight = B.squeeze(weight, -1)
    while len(B.shape(weight)) < rank:
        weight = B.expand_dims(weight, -1)
    return B.broadcast_to(weight, B.shape(y_pred))


def _keep_top_k(y_pred: Any, k: int) -> Any:
    """y_pred with every score outside the k largest of its row replaced by NEG_INF."""
    B = backend.impl
    _, indices = B.top_k(y_pred, k)  # exactly k per row, ties going to the lower index
    classes = B.arange(B.shape(y_pred)[-1], dtype="int32")
    picked = B.equal(B.expand_dims(B.cast(indices, "int32"), -1), classes)  # (..., k, classes)
    in_top_k = B.sum(B.cast(picked, "float32"), axis=-2)
    return B.where(B.greater(in_top_k, 0.0), y_pred, NEG_INF)


def _prepare(y_true: Any, y_pred: Any, sample_weight: Any, top_k: int | None,
             class_id: int | None) -> tuple[Any, Any, Any]:
    B = backend.impl
    y_true = B.cast(B.convert_to_tensor(y_true), "float32")
    y_pred = B.cast(B.convert_to_tensor(y_pred), "float32")
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if B.shape(y_true) != B.shape(y_pred):
        y_true = B.broadcast_to(y_true, B.shape(y_pred))
    weight = None if sample_weight is None else _weights_like(sample_weight, y_pred)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        if len(B.shape(y_pred)) < 2:
            raise ValueError(f"With class_id, y_pred must have shape (num_samples, num_classes), got shape "
                             f"{tuple(B.shape(y_pred))}.")
        pick = lambda x: x[..., class_id:class_id + 1]  # noqa: E731
        y_true, y_pred = pick(y_true), pick(y_pred)
        weight = None if weight is None else pick(weight)
    return y_true, y_pred, weight


def _bucket_counts(y_pred: Any, labelled: Any, num_thresholds: int, with_epsilon: bool) -> Any:
    """Counts above each of n evenly spaced thresholds, from a histogram over the n buckets.

    A prediction p lies above thresholds 0..b, where b = ceil(p * (n - 1)) - 1. The histogram is
    summed from the top down, so entry i totals every prediction above threshold i.
    y_pred: (samples, labels); labelled: (samples, labels, 2), the weighted positives and negatives;
    returns (thresholds, labels, 2).
    """
    B = backend.impl
    samples, labels = B.shape(y_pred)
    bucket = B.ceil(B.clip(y_pred, 0.0, 1.0) * float(num_thresholds - 1)) - 1.0
    if with_epsilon:  # the first threshold lies just below 0: every prediction is above it
        bucket = B.maximum(bucket, 0.0)
    bucket = B.cast(bucket, "int32")
    segments = bucket * labels + B.arange(labels, dtype="int32")
    segments = B.where(B.less(bucket, 0), num_thresholds * labels, segments)  # above no threshold: dropped
    histogram = B.segment_sum(B.reshape(labelled, (samples * labels, 2)), B.reshape(segments, (-1,)),
                              num_segments=num_thresholds * labels)
    histogram = B.reshape(histogram, (num_thresholds, labels, 2))
    return B.flip(B.cumsum(B.flip(histogram, 0), axis=0), 0)


def _broadcast_counts(y_pred: Any, labelled: Any, thresholds: Any, below: bool) -> tuple[Any, Any]:
    """Counts above (and, when asked, at or below) each threshold, from one comparison with every threshold."""
    B = backend.impl
    above = B.cast(B.greater(B.expand_dims(y_pred, 0), B.reshape(thresholds, (-1, 1, 1))), "float32")
    if not below:
        return B.einsum("tnl,nlk->tlk", above, labelled), None  # (thresholds, labels, 2)
    sides = B.einsum("stnl,nlk->stlk", B.stack([above, 1.0 - above]), labelled)  # (2, thresholds, labels, 2)
    return sides[0], sides[1]


def confusion_counts(y_true: Any, y_pred: Any, thresholds: Sequence[float], threshold_tensor: Any = None,
                     evenly: bool = False, sample_weight: Any = None, top_k: int | None = None,
                     class_id: int | None = None, multi_label: bool = False, label_weights: Any = None,
                     wanted: Sequence[str] = COUNTS) -> dict[str, Any]:
    """The weighted TP, FP, TN and FN of one batch at each threshold (a prediction counts when above it).

    A target counts as positive when it is non-zero. The counts have shape (thresholds,), or
    (thresholds, labels) with `multi_label`, where y_pred is (samples, labels) and labels count apart.
    Only the `wanted` counts are returned.
    """
    B = backend.impl
    y_true, y_pred, weight = _prepare(y_true, y_pred, sample_weight, top_k, class_id)
    if label_weights is not None and not multi_label:
        label_weights = B.broadcast_to(label_weights, B.shape(y_pred))
        weight = label_weights if weight is None else weight * label_weights
    if multi_label:
        if len(B.shape(y_pred)) != 2:
            raise ValueError(f"With multi_label=True, y_pred must have rank 2 (samples, labels), got shape "
                             f"{tuple(B.shape(y_pred))}.")
    else:
        y_true, y_pred = B.reshape(y_true, (-1, 1)), B.reshape(y_pred, (-1, 1))
        weight = None if weight is None else B.reshape(weight, (-1, 1))
    positive = B.cast(B.not_equal(y_true, 0.0), "float32")
    labelled = B.stack([positive, 1.0 - positive], axis=-1)  # (samples, labels, 2)
    if weight is not None:
        labelled = labelled * B.expand_dims(weight, -1)
    if evenly:
        above = _bucket_counts(y_pred, labelled, len(thresholds), thresholds[0] < 0.0 or thresholds[-1] > 1.0)
        below = B.sum(labelled, axis=0) - above  # the totals (labels, 2) less those above
    else:
        if threshold_tensor is None:
            threshold_tensor = B.convert_to_tensor(np.asarray(thresholds, dtype="float32"))
        above, below = _broadcast_counts(y_pred, labelled, threshold_tensor,
                                         "true_negatives" in wanted or "false_negatives" in wanted)
    sources = {"true_positives": (above, 0), "false_positives": (above, 1), "true_negatives": (below, 1),
               "false_negatives": (below, 0)}
    result = {name: sources[name][0][..., sources[name][1]] for name in wanted}
    return result if multi_label else {key: value[:, 0] for key, value in result.items()}


class ConfusionCountsMetric(Metric):
    """A metric over the confusion counts at a fixed list of thresholds, kept in backend variables."""

    counts: tuple[str, ...] = COUNTS

    def _init_counts(self, thresholds: list[float], evenly: bool | None = None, shape: tuple = ()) -> None:
        self.thresholds = thresholds
        self._evenly = evenly_spaced(thresholds) if evenly is None else evenly
        self._threshold_tensor = backend.impl.convert_to_tensor(np.asarray(thresholds, dtype="float32"))
        for count in self.counts:
            setattr(self, count, self.add_variable(shape=(len(thresholds), *shape), name=count))

    def _accumulate(self, y_true: Any, y_pred: Any, sample_weight: Any, **options: Any) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._threshold_tensor, self._evenly,
                                  sample_weight, wanted=self.counts, **options)
        for count in self.counts:
            getattr(self, count).assign_add(counts[count])

    def _values(self) -> dict[str, Any]:
        return {count: getattr(self, count).value for count in self.counts}

    def _one_or_all(self, values: Any) -> Any:
        """A scalar for a single threshold, else one value per threshold (as Keras returns them)."""
        return values[0] if len(self.thresholds) == 1 else values


class _ConfusionCount(ConfusionCountsMetric):
    """One of the four counts, at each threshold (0.5 by default)."""

    count = "true_positives"

    def __init__(self, thresholds: float | Sequence[float] | None = None, name: str | None = None,
                 dtype: Any = None) -> None:
        super().__init__(unique_name(name, naming.to_snake_case(type(self).__name__)), dtype or "float32")
        self.counts = ("accumulator",)
        self._init_counts(parse_thresholds(thresholds, 0.5))
        self.init_thresholds = _as_config(thresholds)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, self._threshold_tensor, self._evenly,
                                  sample_weight, wanted=(self.count,))
        self.accumulator.assign_add(counts[self.count])

    def result(self) -> Any:
        return self._one_or_all(self.accumulator.value)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The weighted number of positive targets predicted above the threshold."""

    count = "true_positives"


class FalsePositives(_ConfusionCount):
    """The weighted number of negative targets predicted above the threshold."""

    count = "false_positives"


class TrueNegatives(_ConfusionCount):
    """The weighted number of negative targets predicted at or below the threshold."""

    count = "true_negatives"


class FalseNegatives(_ConfusionCount):
    """The weighted number of positive targets predicted at or below the threshold."""

    count = "false_negatives"


class _PrecisionRecall(ConfusionCountsMetric):
    """Precision or recall at each threshold, of one class (`class_id`) or of the top-k scores."""

    def __init__(self, thresholds: float | Sequence[float] | None = None, top_k: int | None = None,
                 class_id: int | None = None, name: str | None = None, dtype: Any = None) -> None:
        super().__init__(unique_name(name, naming.to_snake_case(type(self).__name__)), dtype or "float32")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"`top_k` must be a positive integer or None, got {top_k!r}.")
        if class_id is not None and (isinstance(class_id, bool) or not isinstance(class_id, int) or class_id < 0):
            raise ValueError(f"`class_id` must be a non-negative integer or None, got {class_id!r}.")
        self.top_k = top_k
        self.class_id = class_id
        self._init_counts(parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF))
        self.init_thresholds = _as_config(thresholds)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._accumulate(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """TP / (TP + FP): the fraction of predicted positives that are positive."""

    counts = ("true_positives", "false_positives")

    def result(self) -> Any:
        tp = self.true_positives.value
        return self._one_or_all(divide_no_nan(tp, tp + self.false_positives.value))


class Recall(_PrecisionRecall):
    """TP / (TP + FN): the fraction of positives predicted positive."""

    counts = ("true_positives", "false_negatives")

    def result(self) -> Any:
        tp = self.true_positives.value
        return self._one_or_all(divide_no_nan(tp, tp + self.false_negatives.value))


def _rates(counts: dict[str, Any]) -> dict[str, Any]:
    tp, fp, tn, fn = (counts[name] for name in COUNTS)
    return {"sensitivity": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp),
            "precision": divide_no_nan(tp, tp + fp)}


class _AtConstraint(ConfusionCountsMetric):
    """The best value of one rate over the thresholds where another rate reaches a target value."""

    constrained = "specificity"  # the rate that must reach `value`
    maximised = "sensitivity"  # the rate whose best value is the result
    argument = "specificity"  # the constructor argument holding the target value

    def __init__(self, value: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(unique_name(name, naming.to_snake_case(type(self).__name__)), dtype or "float32")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise ValueError(f"`{self.argument}` must be a number in [0, 1], got {value!r}.")
        if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 0:
            raise ValueError(f"`num_thresholds` must be an integer > 0, got {num_thresholds!r}.")
        self.value = value
        setattr(self, self.argument, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self._init_counts([0.5], evenly=False)
        else:
            self._init_counts([i / (num_thresholds - 1) for i in range(num_thresholds)], evenly=True)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._accumulate(y_true, y_pred, sample_weight, class_id=self.class_id)

    def result(self) -> Any:
        B = backend.impl
        rates = _rates(self._values())
        feasible = B.greater_equal(rates[self.constrained], self.value)
        return B.max(B.where(feasible, rates[self.maximised], 0.0), initial=0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id, "num_thresholds": self.num_thresholds,
                self.argument: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) over the thresholds where the specificity is at least `specificity`."""

    constrained, maximised, argument = "specificity", "sensitivity", "specificity"

    def __init__(self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity over the thresholds where the sensitivity is at least `sensitivity`."""

    constrained, maximised, argument = "sensitivity", "specificity", "sensitivity"

    def __init__(self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtConstraint):
    """The best precision over the thresholds where the recall is at least `recall`."""

    constrained, maximised, argument = "sensitivity", "precision", "recall"

    def __init__(self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtConstraint):
    """The best recall over the thresholds where the precision is at least `precision`."""

    constrained, maximised, argument = "precision", "sensitivity", "precision"

    def __init__(self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
                 name: str | None = None, dtype: Any = None) -> None:
        super().__init__(precision, num_thresholds, class_id, name, dtype)


_CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
_SUMMATION_METHODS = ("interpolation", "majoring", "minoring")


def _choice(argument: str, value: Any, choices: dict[str, str]) -> str:
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"`{argument}` must be one of {sorted(set(choices.values()))}, got {value!r}.")
    return choices[value.lower()]


class AUC(ConfusionCountsMetric):
    """The area under the ROC or precision-recall curve, from confusion counts at many thresholds."""

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC", summation_method: str = "interpolation",
                 name: str | None = None, dtype: Any = None, thresholds: Sequence[float] | None = None,
                 multi_label: bool = False, num_labels: int | None = None, label_weights: Any = None,
                 from_logits: bool = False) -> None:
        super().__init__(unique_name(name, "auc"), dtype or "float32")
        self.curve = _choice("curve", curve, _CURVES)
        self.summation_method = _choice("summation_method", summation_method,
                                        {method: method for method in _SUMMATION_METHODS})
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, 0.5))
            self.num_thresholds = len(inner) + 2
            evenly = evenly_spaced([0.0, *inner, 1.0])
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, int) or num_thresholds <= 1:
                raise ValueError(f"`num_thresholds` must be an integer > 1, got {num_thresholds!r}.")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            evenly = True
        # just outside [0, 1], so that predictions of exactly 0 and 1 fall on the right side of the ends
        self._all_thresholds = ([-EPSILON, *inner, 1.0 + EPSILON], evenly)
        self.thresholds = self._all_thresholds[0]
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype="float32")
        self._label_weight_tensor = (None if label_weights is None
                                     else backend.impl.convert_to_tensor(self.label_weights))
        self._from_logits = from_logits
        self.built = False
        if not multi_label or num_labels:
            self.build(None, (None, num_labels) if multi_label else None)

    def build(self, y_true_shape: Any, y_pred_shape: Any) -> None:
        """Create the counts; with `multi_label`, one column per label, so the labels must be known."""
        if self.built:
            return
        shape: tuple = ()
        if self.multi_label:
            if y_pred_shape is None or len(y_pred_shape) != 2 or y_pred_shape[1] is None:
                raise ValueError(f"With multi_label=True, y_pred must have shape (samples, labels), got shape "
                                 f"{y_pred_shape}.")
            shape = (int(y_pred_shape[1]),)
        self._init_counts(*self._all_thresholds, shape=shape)
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        B = backend.impl
        y_pred = B.convert_to_tensor(y_pred)
        self.build(None, B.shape(y_pred))
        if self._from_logits:
            y_pred = B.sigmoid(y_pred)
        self._accumulate(y_true, y_pred, sample_weight, multi_label=self.multi_label,
                         label_weights=None if self.multi_label else self._label_weight_tensor)

    def _over_labels(self, terms: Any) -> Any:
        """The area: the terms summed over thresholds, and averaged over labels with `multi_label`."""
        B = backend.impl
        if not self.multi_label:
            return B.sum(terms)
        by_label = B.sum(terms, axis=0)
        if self._label_weight_tensor is None:
            return B.mean(by_label)
        return divide_no_nan(B.sum(by_label * self._label_weight_tensor), B.sum(self._label_weight_tensor))

    def _interpolated_pr_auc(self, tp: Any, fp: Any, fn: Any) -> Any:
        """PR-AUC with precision interpolated between thresholds (Davis & Goadrich, 2006)."""
        B = backend.impl
        predicted = tp + fp
        d_tp = tp[:-1] - tp[1:]
        d_predicted = predicted[:-1] - predicted[1:]
        slope = divide_no_nan(d_tp, B.maximum(d_predicted, 0.0))
        intercept = tp[1:] - slope * predicted[1:]
        both_positive = B.logical_and(B.greater(predicted[:-1], 0.0), B.greater(predicted[1:], 0.0))
        ratio = B.where(both_positive, divide_no_nan(predicted[:-1], B.maximum(predicted[1:], 0.0)), 1.0)
        increments = divide_no_nan(slope * (d_tp + intercept * B.log(ratio)), B.maximum(tp[1:] + fn[1:], 0.0))
        return self._over_labels(increments)

    def result(self) -> Any:
        B = backend.impl
        if not self.built:
            return B.convert_to_tensor(np.float32(0.0))
        tp, fp, tn, fn = (self._values()[name] for name in COUNTS)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr_auc(tp, fp, fn)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, divide_no_nan(tp, tp + fp)
        else:  # precision-recall gain
            scale = divide_no_nan(tp + fn, tn + fp)
            no_tp = B.equal(tp, 0.0)
            x = B.maximum(B.where(no_tp, 0.0, 1.0 - scale * divide_no_nan(fn, tp)), 0.0)
            y = B.where(no_tp, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = B.minimum(y[:-1], y[1:])
        else:
            heights = B.maximum(y[:-1], y[1:])
        return self._over_labels((x[:-1] - x[1:]) * heights)

    def get_config(self) -> dict:
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


__all__ = ["TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall",
           "SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall", "RecallAtPrecision", "AUC"]
