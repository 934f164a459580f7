"""Accuracy functions and classes as Keras defines them: element-wise values, signatures, configs."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, metrics

rng = np.random.default_rng(11)
SCORES = rng.normal(size=(10, 5)).astype("float32")
LABELS = rng.integers(0, 5, size=10)


def _np(x) -> np.ndarray:
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_functions_return_one_value_per_element_or_sample(backend_name: str) -> None:
    y_true = (rng.uniform(size=(10, 3)) < 0.5).astype("float32")
    y_pred = rng.uniform(size=(10, 3)).astype("float32")
    with backend.use(backend_name):
        # accuracy and binary_accuracy compare element by element (no mean over the last axis)
        np.testing.assert_array_equal(_np(metrics.binary_accuracy(y_true, y_pred)), (y_pred > 0.5) == y_true)
        np.testing.assert_array_equal(_np(metrics.binary_accuracy(y_true, y_pred, threshold=0.8)),
                                      (y_pred > 0.8) == y_true)
        np.testing.assert_array_equal(_np(metrics.accuracy(y_true, y_true[::-1].copy())), y_true == y_true[::-1])
        assert _np(metrics.binary_accuracy(y_true[:, :1], y_pred[:, 0])).shape == (10, 1)
        one_hot = np.eye(5, dtype="float32")[LABELS]
        np.testing.assert_array_equal(_np(metrics.categorical_accuracy(one_hot, SCORES)),
                                      LABELS == SCORES.argmax(-1))
        np.testing.assert_array_equal(_np(metrics.sparse_categorical_accuracy(LABELS[:, None], SCORES)),
                                      LABELS == SCORES.argmax(-1))
        np.testing.assert_array_equal(_np(metrics.sparse_categorical_accuracy(LABELS.astype("float32"), SCORES)),
                                      LABELS == SCORES.argmax(-1))
        ranks = (SCORES > SCORES[np.arange(10), LABELS][:, None]).sum(-1)
        np.testing.assert_array_equal(_np(metrics.top_k_categorical_accuracy(one_hot, SCORES, k=2)), ranks < 2)
        np.testing.assert_array_equal(_np(metrics.sparse_top_k_categorical_accuracy(LABELS, SCORES, k=3)),
                                      ranks < 3)
        # a rank-3 prediction: the matches keep the targets' shape
        sequence = _np(metrics.sparse_top_k_categorical_accuracy(LABELS.reshape(2, 5), SCORES.reshape(2, 5, 5)))
        assert sequence.shape == (2, 5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_top_k_ties_count_and_sorted_ids(backend_name: str) -> None:
    with backend.use(backend_name):
        tied = np.array([[0.2, 0.5, 0.5, 0.1]], dtype="float32")
        assert _np(metrics.sparse_top_k_categorical_accuracy(np.array([2]), tied, k=1)).tolist() == [1.0]
        sorted_ids = np.argsort(-SCORES, axis=-1).astype("float32")
        ranks = (SCORES > SCORES[np.arange(10), LABELS][:, None]).sum(-1)
        metric = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
        metric.update_state(LABELS, sorted_ids)
        assert float(_np(metric.result())) == pytest.approx((ranks < 2).mean())


def test_signatures_and_configs_as_keras() -> None:
    with backend.use("torch"):
        assert metrics.TopKCategoricalAccuracy(3).k == 3  # k comes first, as in Keras
        assert metrics.TopKCategoricalAccuracy(3).get_config() == {"name": "top_k_categorical_accuracy",
                                                                   "dtype": "float32", "k": 3}
        assert metrics.SparseTopKCategoricalAccuracy(2).get_config() == {
            "name": "sparse_top_k_categorical_accuracy", "dtype": "float32", "k": 2}
        assert metrics.SparseTopKCategoricalAccuracy(from_sorted_ids=True).get_config()["from_sorted_ids"] is True
        assert metrics.BinaryAccuracy("b", None, 0.3).get_config() == {"name": "b", "dtype": "float32",
                                                                       "threshold": 0.3}
        for cls in (metrics.Accuracy, metrics.CategoricalAccuracy, metrics.SparseCategoricalAccuracy):
            metric = cls()
            assert metric.get_config() == {"name": metric.name, "dtype": "float32"}
            assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()
        clone = metrics.SparseTopKCategoricalAccuracy.from_config(
            metrics.SparseTopKCategoricalAccuracy(k=1, from_sorted_ids=True).get_config())
        assert clone.k == 1 and clone.from_sorted_ids
        assert isinstance(metrics.get("top_k_categorical_accuracy"), metrics.TopKCategoricalAccuracy)
