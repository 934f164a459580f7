"""IoU metrics against scikit-learn's jaccard_score and confusion_matrix, on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, jaccard_score

from lamina import backend, layers, metrics, models

rng = np.random.default_rng(5)
N, C = 60, 4
LABELS = rng.integers(0, C, size=N)
PREDICTED = np.where(rng.uniform(size=N) < 0.5, LABELS, rng.integers(0, C, size=N))
SCORES = (np.eye(C)[PREDICTED] + 0.5 * rng.uniform(size=(N, C))).astype("float32")  # argmax is PREDICTED
WEIGHTS = rng.uniform(0.2, 2.0, size=N).astype("float32")
INT_WEIGHTS = rng.integers(0, 3, size=N)
BATCHES = [slice(0, 20), slice(20, 40), slice(40, N)]


def _np(x) -> np.ndarray:
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _run(metric, y_true, y_pred, sample_weight=None) -> float:
    for rows in BATCHES:
        weight = None if sample_weight is None else sample_weight[rows]
        metric.update_state(y_true[rows], y_pred[rows], sample_weight=weight)
    return float(_np(metric.result()))


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_mean_iou_and_iou_match_sklearn(backend_name: str) -> None:
    with backend.use(backend_name):
        mean_iou = metrics.MeanIoU(num_classes=C)
        assert _run(mean_iou, LABELS, PREDICTED) == pytest.approx(
            jaccard_score(LABELS, PREDICTED, average="macro"), abs=1e-5)
        np.testing.assert_array_equal(_np(mean_iou.total_cm.value), confusion_matrix(LABELS, PREDICTED))
        # int32 counts by default, as Keras keeps them: integer weights count exactly
        assert _run(metrics.MeanIoU(C), LABELS, PREDICTED, INT_WEIGHTS) == pytest.approx(
            jaccard_score(LABELS, PREDICTED, average="macro", sample_weight=INT_WEIGHTS), abs=1e-5)
        per_class = jaccard_score(LABELS, PREDICTED, average=None, sample_weight=WEIGHTS)
        iou = metrics.IoU(num_classes=C, target_class_ids=[0, 2], dtype="float32")
        assert _run(iou, LABELS, PREDICTED, WEIGHTS) == pytest.approx(per_class[[0, 2]].mean(), abs=1e-5)
        scores = metrics.MeanIoU(C, sparse_y_pred=False, dtype="float32")
        assert _run(scores, LABELS, SCORES, WEIGHTS) == pytest.approx(per_class.mean(), abs=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_ignore_class_one_hot_and_binary(backend_name: str) -> None:
    kept = LABELS != 1
    with backend.use(backend_name):
        ignoring = metrics.MeanIoU(C, ignore_class=1)
        expected = jaccard_score(LABELS[kept], PREDICTED[kept], average=None, labels=[0, 1, 2, 3])
        union_nonzero = [c for c in range(C) if (LABELS[kept] == c).any() or (PREDICTED[kept] == c).any()]
        assert _run(ignoring, LABELS, PREDICTED) == pytest.approx(expected[union_nonzero].mean(), abs=1e-5)
        one_hot = np.eye(C, dtype="float32")[LABELS]
        assert _run(metrics.OneHotMeanIoU(C), one_hot, SCORES) == pytest.approx(
            jaccard_score(LABELS, PREDICTED, average="macro"), abs=1e-5)
        assert _run(metrics.OneHotIoU(C, target_class_ids=[3]), one_hot, SCORES) == pytest.approx(
            jaccard_score(LABELS, PREDICTED, average=None)[3], abs=1e-5)
        binary_true = (LABELS % 2).astype("float32")
        binary_scores = rng.uniform(size=N).astype("float32")
        binary_scores[:3] = 0.5  # at the threshold counts as class 1
        expected = jaccard_score(binary_true, binary_scores >= 0.5, average=None)
        assert _run(metrics.BinaryIoU(), binary_true, binary_scores) == pytest.approx(expected.mean(), abs=1e-5)
        assert _run(metrics.BinaryIoU(target_class_ids=[1], threshold=0.3), binary_true, binary_scores) == \
            pytest.approx(jaccard_score(binary_true, binary_scores >= 0.3), abs=1e-5)


def test_configs_reset_names_and_errors() -> None:
    with backend.use("torch"):
        assert metrics.MeanIoU(3, name="m").get_config() == {
            "num_classes": 3, "name": "m", "dtype": "int32", "ignore_class": None, "sparse_y_true": True,
            "sparse_y_pred": True, "axis": -1}
        assert metrics.IoU(3, [0, 1], name="i").get_config() == {
            "name": "i", "dtype": "int32", "num_classes": 3, "target_class_ids": [0, 1], "ignore_class": None,
            "sparse_y_true": True, "sparse_y_pred": True, "axis": -1}
        assert metrics.BinaryIoU(name="b").get_config() == {"target_class_ids": [0, 1], "threshold": 0.5,
                                                             "name": "b", "dtype": "int32"}
        assert set(metrics.OneHotIoU(3, [1]).get_config()) == {"num_classes", "target_class_ids", "name", "dtype",
                                                               "ignore_class", "sparse_y_pred", "axis"}
        assert metrics.MeanIoU(3).name.startswith("mean_io_u") and metrics.BinaryIoU().name.startswith("binary_io_u")
        for metric in (metrics.IoU(C, [1, 2], ignore_class=0), metrics.MeanIoU(C, dtype="float32"),
                       metrics.OneHotIoU(C, [0]), metrics.OneHotMeanIoU(C, sparse_y_pred=True), metrics.BinaryIoU()):
            clone = type(metric).from_config(metric.get_config())
            assert clone.get_config() == metric.get_config()
        metric = metrics.MeanIoU(C)
        first = _run(metric, LABELS, PREDICTED)
        metric.reset_state()
        assert not _np(metric.total_cm.value).any()
        assert _run(metric, LABELS, PREDICTED) == pytest.approx(first)
        with pytest.raises(ValueError, match="target_class_ids"):
            metrics.IoU(3, [0, 3])
        with pytest.raises(ValueError, match="num_classes"):
            metrics.MeanIoU(0)


def test_in_fit_history_matches_jaccard(training_backend: str) -> None:
    x = rng.normal(size=(32, 5)).astype("float32")
    one_hot = np.eye(C, dtype="float32")[LABELS[:32]]
    model = models.Sequential([layers.Input((5,)), layers.Dense(C, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=[metrics.OneHotMeanIoU(C, name="one_hot_mean_io_u"),
                           metrics.OneHotIoU(C, [0, 1], name="iou")])
    history = model.fit(x, one_hot, epochs=2, batch_size=16, verbose=0, validation_data=(x, one_hot)).history
    assert set(history) == {"loss", "one_hot_mean_io_u", "iou", "val_loss", "val_one_hot_mean_io_u", "val_iou"}
    predicted = np.asarray(backend.impl.convert_to_numpy(model.predict(x, verbose=0))).argmax(-1)
    per_class = jaccard_score(LABELS[:32], predicted, average=None, labels=list(range(C)), zero_division=0)
    present = [c for c in range(C) if (LABELS[:32] == c).any() or (predicted == c).any()]
    assert history["val_one_hot_mean_io_u"][-1] == pytest.approx(per_class[present].mean(), abs=1e-5)
    targets = [c for c in (0, 1) if c in present]
    assert history["val_iou"][-1] == pytest.approx(per_class[targets].mean() if targets else 0.0, abs=1e-5)
