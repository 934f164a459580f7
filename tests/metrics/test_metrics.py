"""Metrics accumulated over several batches on torch and jax, against NumPy; names and accuracy resolution."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, losses, metrics

BACKENDS = ["torch", "jax"]
rng = np.random.default_rng(1)
SCORES = rng.normal(size=(12, 6)).astype("float32")
LABELS = rng.integers(0, 6, size=12)
LABELS[:4] = SCORES[:4].argmax(-1)  # a few right answers
ONE_HOT = np.eye(6, dtype="float32")[LABELS]
WEIGHTS = rng.uniform(0.0, 2.0, size=12).astype("float32")
BATCHES = [slice(0, 7), slice(7, 12)]  # uneven batches: the result is per sample, not per batch


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _run(metric, y_true, y_pred, sample_weight=None):
    for rows in BATCHES:
        weight = None if sample_weight is None else sample_weight[rows]
        metric.update_state(y_true[rows], y_pred[rows], sample_weight=weight)
    return float(_np(metric.result()))


def _mean(values, weights=None):
    values = np.asarray(values, dtype="float64")
    return values.mean() if weights is None else (values * weights).sum() / weights.sum()


def _top_k(labels, scores, k):
    true_score = scores[np.arange(len(labels)), labels]
    return ((scores > true_score[:, None]).sum(-1) < k).astype("float64")


BINARY_TRUE = rng.integers(0, 2, size=(12, 1)).astype("float32")
BINARY_PRED = rng.uniform(size=(12, 1)).astype("float32")
REGRESSION_TRUE = rng.normal(size=(12, 3)).astype("float32")
REGRESSION_PRED = rng.normal(size=(12, 3)).astype("float32")

# name -> (metric factory, y_true, y_pred, NumPy per-sample values)
CASES = {
    "accuracy": (metrics.Accuracy, LABELS, SCORES.argmax(-1) * (np.arange(12) % 3 > 0),
                 (LABELS == SCORES.argmax(-1) * (np.arange(12) % 3 > 0))),
    "binary_accuracy": (metrics.BinaryAccuracy, BINARY_TRUE, BINARY_PRED, (BINARY_PRED > 0.5) == BINARY_TRUE),
    "binary_accuracy_threshold": (lambda: metrics.BinaryAccuracy(threshold=0.7), BINARY_TRUE, BINARY_PRED,
                                  (BINARY_PRED > 0.7) == BINARY_TRUE),
    "binary_accuracy_flat_labels": (metrics.BinaryAccuracy, BINARY_TRUE[:, 0], BINARY_PRED,
                                    (BINARY_PRED > 0.5) == BINARY_TRUE),
    "categorical_accuracy": (metrics.CategoricalAccuracy, ONE_HOT, SCORES, LABELS == SCORES.argmax(-1)),
    "sparse_categorical_accuracy": (metrics.SparseCategoricalAccuracy, LABELS, SCORES, LABELS == SCORES.argmax(-1)),
    "sparse_categorical_accuracy_n_by_1": (metrics.SparseCategoricalAccuracy, LABELS[:, None], SCORES,
                                           LABELS == SCORES.argmax(-1)),
    "top_k": (lambda: metrics.TopKCategoricalAccuracy(k=2), ONE_HOT, SCORES, _top_k(LABELS, SCORES, 2)),
    "top_5_default": (metrics.TopKCategoricalAccuracy, ONE_HOT, SCORES, _top_k(LABELS, SCORES, 5)),
    "sparse_top_k": (lambda: metrics.SparseTopKCategoricalAccuracy(k=3), LABELS, SCORES, _top_k(LABELS, SCORES, 3)),
    "mean_squared_error": (metrics.MeanSquaredError, REGRESSION_TRUE, REGRESSION_PRED,
                           ((REGRESSION_TRUE - REGRESSION_PRED).astype("float64") ** 2).mean(-1)),
    "mean_absolute_error": (metrics.MeanAbsoluteError, REGRESSION_TRUE, REGRESSION_PRED,
                            np.abs(REGRESSION_TRUE - REGRESSION_PRED).astype("float64").mean(-1)),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_batches_then_result_match_numpy(backend_name: str, name: str) -> None:
    factory, y_true, y_pred, per_sample = CASES[name]
    per_sample = np.asarray(per_sample, dtype="float64").reshape(12, -1).mean(-1)
    with backend.use(backend_name):
        metric = factory()
        assert _run(metric, y_true, y_pred) == pytest.approx(_mean(per_sample), abs=1e-6)
        metric.reset_state()
        assert float(_np(metric.result())) == 0.0
        assert _run(metric, y_true, y_pred, WEIGHTS) == pytest.approx(_mean(per_sample, WEIGHTS), abs=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_mean_and_sum(backend_name: str) -> None:
    values = rng.normal(size=(12, 4)).astype("float32")
    with backend.use(backend_name):
        mean = metrics.Mean()
        for rows in BATCHES:
            mean.update_state(values[rows])
        assert float(_np(mean.result())) == pytest.approx(values.mean(), abs=1e-6)
        mean.reset_state()
        # a weight per sample counts for each of its values
        for rows in BATCHES:
            mean.update_state(values[rows], sample_weight=WEIGHTS[rows])
        expected = (values.mean(-1) * WEIGHTS).sum() / WEIGHTS.sum()
        assert float(_np(mean.result())) == pytest.approx(expected, abs=1e-6)
        total = metrics.Sum()
        total.update_state(values[:, 0], sample_weight=WEIGHTS)
        assert float(_np(total.result())) == pytest.approx((values[:, 0] * WEIGHTS).sum(), abs=1e-5)


def test_result_before_any_update_is_zero() -> None:
    with backend.use("jax"):
        assert float(_np(metrics.Mean().result())) == 0.0


@pytest.mark.parametrize("loss, y_true_shape, y_pred_shape, expected", [
    ("sparse_categorical_crossentropy", (32,), (32, 10), metrics.SparseCategoricalAccuracy),
    ("sparse_categorical_crossentropy", (32, 1), (32, 10), metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", (32, 10), (32, 10), metrics.CategoricalAccuracy),
    ("binary_crossentropy", (32, 1), (32, 1), metrics.BinaryAccuracy),
    ("binary_crossentropy", (32, 5), (32, 5), metrics.BinaryAccuracy),  # multi-label: per-label accuracy
    ("mse", (32, 1), (32, 1), metrics.BinaryAccuracy),
    ("mse", (32,), (32, 10), metrics.SparseCategoricalAccuracy),
    ("mse", (32, 1), (32, 10), metrics.SparseCategoricalAccuracy),
    ("mse", (32, 10), (32, 10), metrics.CategoricalAccuracy),
    (lambda y_true, y_pred: y_pred, (32,), (32, 4), metrics.SparseCategoricalAccuracy),
])
def test_accuracy_for(loss, y_true_shape: tuple, y_pred_shape: tuple, expected: type) -> None:
    assert metrics.accuracy_for(losses.get(loss), y_true_shape, y_pred_shape) is expected


@pytest.mark.parametrize("identifier, cls, name", [
    ("accuracy", metrics.Accuracy, "accuracy"),
    ("acc", metrics.Accuracy, "acc"),
    ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy, "sparse_categorical_accuracy"),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy, "top_k_categorical_accuracy"),
    ("mse", metrics.MeanSquaredError, "mse"),
    ("mae", metrics.MeanAbsoluteError, "mae"),
    ("CategoricalAccuracy", metrics.CategoricalAccuracy, "CategoricalAccuracy"),
])
def test_get_by_name(identifier: str, cls: type, name: str) -> None:
    metric = metrics.get(identifier)
    assert type(metric) is cls and metric.name == name


def test_default_names() -> None:
    assert metrics.CategoricalAccuracy().name == "categorical_accuracy"
    assert metrics.MeanSquaredError().name == "mean_squared_error"
    assert metrics.Mean().name == "mean"


@pytest.mark.parametrize("identifier, suggestion", [("acuracy", "'accuracy'"), ("mean_sqared_error",
                                                                                 "'mean_squared_error'")])
def test_unknown_name_suggests_the_closest(identifier: str, suggestion: str) -> None:
    with pytest.raises(ValueError, match=f"Unknown metric '{identifier}'. Did you mean {suggestion}"):
        metrics.get(identifier)


def test_config_round_trip() -> None:
    for metric in (metrics.BinaryAccuracy(threshold=0.3, name="b"), metrics.TopKCategoricalAccuracy(k=2),
                   metrics.CategoricalCrossentropy(from_logits=True), metrics.Mean(name="m")):
        rebuilt = type(metric).from_config(metric.get_config())
        assert rebuilt.get_config() == metric.get_config()
    assert metrics.BinaryAccuracy(threshold=0.3).get_config()["threshold"] == 0.3


def test_function_metric() -> None:
    metric = metrics.get(lambda y_true, y_pred: y_pred - y_true)
    with backend.use("torch"):
        metric.update_state(np.ones(4), np.full(4, 3.0))
        assert float(_np(metric.result())) == pytest.approx(2.0)
