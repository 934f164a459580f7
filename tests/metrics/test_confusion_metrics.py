"""Thresholded confusion metrics against scikit-learn, accumulated over batches, on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (average_precision_score, confusion_matrix, precision_score, recall_score,
                             roc_auc_score)

from lamina import backend, layers, metrics, models

rng = np.random.default_rng(7)
N = 90
LABELS = rng.integers(0, 2, size=(N, 1)).astype("float32")
SCORES = np.clip(0.35 * LABELS + 0.65 * rng.uniform(size=(N, 1)), 0, 1).astype("float32")
WEIGHTS = rng.uniform(0.0, 2.0, size=N).astype("float32")
MULTI_LABELS = rng.integers(0, 2, size=(N, 3)).astype("float32")
MULTI_SCORES = np.clip(0.3 * MULTI_LABELS + 0.7 * rng.uniform(size=(N, 3)), 0, 1).astype("float32")
# scores in the middle of distinct buckets of 200 evenly spaced thresholds: bucketing loses nothing
GRID_SCORES = ((rng.integers(0, 199, size=(N, 1)) + 0.5) / 199).astype("float32")
BATCHES = [slice(0, 30), slice(30, 60), slice(60, N)]  # one batch shape: jax compiles each op once


def _np(x) -> np.ndarray:
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _run(metric, y_true, y_pred, sample_weight=None) -> np.ndarray:
    for rows in BATCHES:
        weight = None if sample_weight is None else sample_weight[rows]
        metric.update_state(y_true[rows], y_pred[rows], sample_weight=weight)
    return _np(metric.result())


def _counts(y_true, y_pred, threshold, weight=None):
    """tn, fp, fn, tp from scikit-learn's confusion matrix."""
    return confusion_matrix(y_true.ravel(), (y_pred > threshold).ravel(), labels=[0, 1],
                            sample_weight=weight).ravel()


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_counts_precision_recall_match_sklearn(backend_name: str) -> None:
    thresholds = [0.3, 0.5, 0.8]
    with backend.use(backend_name):
        expected = np.array([_counts(LABELS, SCORES, t, WEIGHTS) for t in thresholds], dtype="float64")
        for column, cls in enumerate([metrics.TrueNegatives, metrics.FalsePositives, metrics.FalseNegatives,
                                      metrics.TruePositives]):
            np.testing.assert_allclose(_run(cls(thresholds=thresholds), LABELS, SCORES, WEIGHTS),
                                       expected[:, column], rtol=1e-5)
        assert _run(metrics.TruePositives(), LABELS, SCORES) == _counts(LABELS, SCORES, 0.5)[3]
        for weights in (None, WEIGHTS):
            predicted = SCORES > 0.5
            assert _run(metrics.Precision(), LABELS, SCORES, weights) == pytest.approx(
                precision_score(LABELS, predicted, sample_weight=weights), abs=1e-5)
            assert _run(metrics.Recall(), LABELS, SCORES, weights) == pytest.approx(
                recall_score(LABELS, predicted, sample_weight=weights), abs=1e-5)
        # evenly spaced thresholds take the histogram path: the same values as a direct comparison
        even = [0.0, 0.25, 0.5, 0.75, 1.0]
        expected = [precision_score(LABELS, SCORES > t, sample_weight=WEIGHTS, zero_division=0) for t in even]
        np.testing.assert_allclose(_run(metrics.Precision(thresholds=even), LABELS, SCORES, WEIGHTS), expected,
                                   atol=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_class_id_and_top_k(backend_name: str) -> None:
    with backend.use(backend_name):
        precision = _run(metrics.Precision(class_id=2), MULTI_LABELS, MULTI_SCORES, WEIGHTS)
        assert precision == pytest.approx(precision_score(MULTI_LABELS[:, 2], MULTI_SCORES[:, 2] > 0.5,
                                                          sample_weight=WEIGHTS), abs=1e-5)
        recall = _run(metrics.Recall(class_id=1, thresholds=0.6), MULTI_LABELS, MULTI_SCORES)
        assert recall == pytest.approx(recall_score(MULTI_LABELS[:, 1], MULTI_SCORES[:, 1] > 0.6), abs=1e-5)
        # top_k: only the k best scores of each row count as predicted positives
        in_top_2 = MULTI_SCORES >= np.sort(MULTI_SCORES, axis=1)[:, -2:-1]
        top_2 = _run(metrics.Precision(top_k=2), MULTI_LABELS, MULTI_SCORES)
        assert top_2 == pytest.approx(precision_score(MULTI_LABELS.ravel(), in_top_2.ravel()), abs=1e-5)
        recall_top_1 = _run(metrics.Recall(top_k=1), MULTI_LABELS, MULTI_SCORES)
        top_1 = MULTI_SCORES == MULTI_SCORES.max(axis=1, keepdims=True)
        assert recall_top_1 == pytest.approx(recall_score(MULTI_LABELS.ravel(), top_1.ravel()), abs=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_auc_matches_sklearn(backend_name: str) -> None:
    with backend.use(backend_name):
        # exact when no two different scores share a bucket; close (200 thresholds) otherwise
        exact = roc_auc_score(LABELS, GRID_SCORES)
        assert _run(metrics.AUC(), LABELS, GRID_SCORES) == pytest.approx(exact, abs=1e-5)
        roc = roc_auc_score(LABELS, SCORES, sample_weight=WEIGHTS)
        assert _run(metrics.AUC(), LABELS, SCORES, WEIGHTS) == pytest.approx(roc, abs=5e-3)
        pr = average_precision_score(LABELS, SCORES, sample_weight=WEIGHTS)
        assert _run(metrics.AUC(curve="PR"), LABELS, SCORES, WEIGHTS) == pytest.approx(pr, abs=2e-2)


def test_auc_summation_methods_and_given_thresholds() -> None:
    roc = roc_auc_score(LABELS, SCORES, sample_weight=WEIGHTS)
    with backend.use("torch"):
        # Riemann sums bound the trapezoids
        low = _run(metrics.AUC(summation_method="minoring"), LABELS, SCORES, WEIGHTS)
        high = _run(metrics.AUC(summation_method="majoring"), LABELS, SCORES, WEIGHTS)
        assert low <= roc + 5e-3 and high >= roc - 5e-3 and high - low < 0.05
        pr_low = _run(metrics.AUC(curve="PR", summation_method="minoring"), LABELS, SCORES, WEIGHTS)
        assert pr_low <= _run(metrics.AUC(curve="PR", summation_method="majoring"), LABELS, SCORES, WEIGHTS)
        assert 0.0 < _run(metrics.AUC(curve="PRGAIN"), LABELS, SCORES, WEIGHTS) <= 1.0
        inner = list(rng.permutation(np.linspace(0, 1, 200)[1:-1]))  # sorted: the default thresholds
        assert _run(metrics.AUC(thresholds=inner), LABELS, SCORES, WEIGHTS) == \
            pytest.approx(_run(metrics.AUC(), LABELS, SCORES, WEIGHTS), abs=1e-6)
        uneven = list(np.sort(rng.uniform(size=150)))  # compared one by one, not bucketed
        assert _run(metrics.AUC(thresholds=uneven), LABELS, SCORES, WEIGHTS) == pytest.approx(roc, abs=2e-2)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_auc_multi_label_label_weights_and_logits(backend_name: str) -> None:
    per_label = np.array([roc_auc_score(MULTI_LABELS[:, j], MULTI_SCORES[:, j]) for j in range(3)])
    with backend.use(backend_name):
        multi = metrics.AUC(multi_label=True)  # built from the first batch
        assert _run(multi, MULTI_LABELS, MULTI_SCORES) == pytest.approx(per_label.mean(), abs=1e-2)
        weighted = metrics.AUC(multi_label=True, num_labels=3, label_weights=[1.0, 0.0, 3.0])
        assert _run(weighted, MULTI_LABELS, MULTI_SCORES) == pytest.approx(
            (per_label[0] + 3 * per_label[2]) / 4, abs=1e-2)
        # without multi_label, every label is one more sample (label weights weigh them)
        pooled = roc_auc_score(MULTI_LABELS.ravel(), MULTI_SCORES.ravel())
        assert _run(metrics.AUC(), MULTI_LABELS, MULTI_SCORES) == pytest.approx(pooled, abs=1e-2)
        logits = np.log(SCORES + 1e-3) - np.log1p(1e-3 - SCORES)
        from_logits = _run(metrics.AUC(from_logits=True), LABELS, logits.astype("float32"))
        assert from_logits == pytest.approx(_run(metrics.AUC(), LABELS, 1 / (1 + np.exp(-logits))), abs=1e-6)


def _rates(y_true, y_pred, weights, num_thresholds=200):
    """Sensitivity, specificity and precision at evenly spaced thresholds, one comparison per threshold."""
    counts = np.array([_counts(y_true, y_pred, t, weights)
                       for t in np.arange(num_thresholds) / (num_thresholds - 1)], dtype="float64")
    tn, fp, fn, tp = counts.T
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = {"sensitivity": tp / (tp + fn), "specificity": tn / (tn + fp), "precision": tp / (tp + fp)}
    return {name: np.nan_to_num(value) for name, value in rates.items()}


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_trade_off_metrics(backend_name: str) -> None:
    rates = _rates(LABELS, SCORES, WEIGHTS)

    def best(maximised, constrained, value):
        return rates[maximised][rates[constrained] >= value].max(initial=0.0)

    with backend.use(backend_name):
        cases = [(metrics.SensitivityAtSpecificity(0.7), best("sensitivity", "specificity", 0.7)),
                 (metrics.SpecificityAtSensitivity(0.8), best("specificity", "sensitivity", 0.8)),
                 (metrics.PrecisionAtRecall(0.6), best("precision", "sensitivity", 0.6)),
                 (metrics.RecallAtPrecision(0.75), best("sensitivity", "precision", 0.75))]
        for metric, expected in cases:
            assert _run(metric, LABELS, SCORES, WEIGHTS) == pytest.approx(expected, abs=1e-5), metric.name
        few = metrics.PrecisionAtRecall(0.5, num_thresholds=1)  # the single threshold is 0.5
        assert _run(few, LABELS, SCORES) == pytest.approx(precision_score(LABELS, SCORES > 0.5), abs=1e-5)


ALL = [lambda: metrics.TruePositives(thresholds=[0.2, 0.6]), metrics.FalseNegatives, metrics.TrueNegatives,
       metrics.FalsePositives, lambda: metrics.Precision(top_k=2, class_id=1), lambda: metrics.Recall(0.4),
       lambda: metrics.AUC(num_thresholds=50, curve="PR", summation_method="majoring", label_weights=[1.0, 2.0]),
       lambda: metrics.AUC(thresholds=[0.2, 0.7], multi_label=True, num_labels=2, from_logits=True),
       lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=30, class_id=0),
       lambda: metrics.SpecificityAtSensitivity(0.4), lambda: metrics.PrecisionAtRecall(0.3),
       lambda: metrics.RecallAtPrecision(0.9, name="rap")]


def test_config_round_trip_reset_and_lookup() -> None:
    y_true, y_pred = MULTI_LABELS[:, :2], MULTI_SCORES[:, :2]
    with backend.use("torch"):
        for factory in ALL:
            metric = factory()
            config = metric.get_config()
            clone = type(metric).from_config(config)
            assert clone.get_config() == config
            first = _run(clone, y_true, y_pred)
            clone.reset_state()
            for variable in clone.variables:
                assert not _np(variable.value).any()
            np.testing.assert_allclose(_run(clone, y_true, y_pred), first, rtol=1e-6)
        assert metrics.AUC(name="auc").get_config() == {
            "name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
            "summation_method": "interpolation", "multi_label": False, "num_labels": None, "label_weights": None,
            "from_logits": False}
        assert set(metrics.Precision().get_config()) == {"name", "dtype", "thresholds", "top_k", "class_id"}
        assert metrics.Recall(thresholds=np.array([0.25, 0.5])).get_config()["thresholds"] == [0.25, 0.5]
        assert metrics.get("precision").name == "precision" and isinstance(metrics.get("auc"), metrics.AUC)
        assert isinstance(metrics.get({"class_name": "Recall", "config": {"thresholds": 0.3}}), metrics.Recall)


def test_unnamed_metrics_get_unique_names() -> None:
    with backend.use("torch"):
        first, second = metrics.Precision(), metrics.Precision()
        assert first.name.startswith("precision") and second.name.startswith("precision_")
        assert second.name != first.name
        assert metrics.AUC(name="roc").name == "roc"


@pytest.mark.parametrize("make, message", [
    (lambda: metrics.Precision(thresholds=1.5), "thresholds"),
    (lambda: metrics.Recall(top_k=0), "top_k"),
    (lambda: metrics.AUC(curve="ROCK"), "curve"),
    (lambda: metrics.AUC(summation_method="mean"), "summation_method"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: metrics.AUC(num_labels=3), "num_labels"),
    (lambda: metrics.SensitivityAtSpecificity(1.5), "specificity"),
    (lambda: metrics.RecallAtPrecision(-0.1), "precision"),
    (lambda: metrics.PrecisionAtRecall(0.5, num_thresholds=0), "num_thresholds"),
])
def test_bad_arguments_name_the_argument(make, message: str) -> None:
    with backend.use("torch"), pytest.raises(ValueError, match=message):
        make()


def test_class_id_needs_class_scores() -> None:
    with backend.use("torch"), pytest.raises(ValueError, match="class_id"):
        metrics.Precision(class_id=0).update_state(LABELS[:, 0], SCORES[:, 0])


def _fit(metric_list, epochs=2):
    x = rng.normal(size=(48, 4)).astype("float32")
    y = (x[:, :3] + rng.normal(size=(48, 3)) > 0).astype("float32")
    model = models.Sequential([layers.Input((4,)), layers.Dense(3, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metric_list)
    history = model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, validation_data=(x[:16], y[:16]))
    return model, history.history, (x, y)


def test_in_fit_history_keys_and_values(training_backend: str) -> None:
    # unnamed metrics are numbered in the order made in this process (as Keras does): name them here
    compiled = [metrics.Precision(name="precision"), metrics.Precision(name="precision_1"), metrics.AUC(name="auc"),
                metrics.Recall(thresholds=[0.3, 0.7], name="recall"), "false_negatives"]
    model, history, (x, y) = _fit(compiled)
    keys = {"loss", "precision", "precision_1", "auc", "recall", "false_negatives"}
    assert set(history) == keys | {f"val_{key}" for key in keys}
    assert history["precision"] == history["precision_1"] and 0.0 <= history["auc"][-1] <= 1.0
    assert np.asarray(history["recall"][-1]).shape == (2,)  # one value per threshold, as Keras logs it
    scores = _np(model.predict(x, verbose=0))
    # the validation values are the metric over the validation data, with the trained weights
    assert history["val_precision"][-1] == pytest.approx(precision_score(y[:16].ravel(), scores[:16].ravel() > 0.5),
                                                         abs=1e-5)
    assert history["val_auc"][-1] == pytest.approx(roc_auc_score(y[:16].ravel(), scores[:16].ravel()), abs=2e-2)
