"""F1Score and FBetaScore against scikit-learn, accumulated over batches, on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, fbeta_score

from lamina import backend, layers, metrics, models

rng = np.random.default_rng(3)
N, C = 60, 4
LABELS = (rng.uniform(size=(N, C)) < 0.4).astype("float32")  # multi-label targets
SCORES = np.clip(0.3 * LABELS + 0.7 * rng.uniform(size=(N, C)), 0, 1).astype("float32")
ONE_HOT = np.eye(C, dtype="float32")[rng.integers(0, C, size=N)]
WEIGHTS = rng.uniform(0.2, 2.0, size=N).astype("float32")
BATCHES = [slice(0, 20), slice(20, 40), slice(40, N)]


def _run(metric, y_true, y_pred, sample_weight=None) -> np.ndarray:
    for rows in BATCHES:
        weight = None if sample_weight is None else sample_weight[rows]
        metric.update_state(y_true[rows], y_pred[rows], sample_weight=weight)
    return np.asarray(backend.impl.convert_to_numpy(metric.result()), dtype="float64")


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_f1_and_fbeta_match_sklearn(backend_name: str) -> None:
    predicted = SCORES > 0.5
    with backend.use(backend_name):
        for average in (None, "micro", "macro", "weighted"):
            for weights in (None, WEIGHTS):
                expected = f1_score(LABELS, predicted, average=average, sample_weight=weights)
                result = _run(metrics.F1Score(average=average, threshold=0.5), LABELS, SCORES, weights)
                assert result.shape == (() if average else (C,))  # one score per class without averaging
                np.testing.assert_allclose(result, expected, atol=1e-5)
        for average in (None, "macro"):
            expected = fbeta_score(LABELS, predicted, beta=2.0, average=average, sample_weight=WEIGHTS)
            result = _run(metrics.FBetaScore(average=average, beta=2.0, threshold=0.5), LABELS, SCORES, WEIGHTS)
            np.testing.assert_allclose(result, expected, atol=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_without_threshold_the_top_score_is_the_prediction(backend_name: str) -> None:
    top = np.eye(C)[SCORES.argmax(-1)]
    with backend.use(backend_name):
        result = _run(metrics.F1Score(average="macro"), ONE_HOT, SCORES)
        assert result == pytest.approx(f1_score(ONE_HOT, top, average="macro"), abs=1e-5)
        # a row of zeros predicts nothing
        metric = metrics.F1Score(average="micro")
        metric.update_state(np.eye(2, dtype="float32"), np.array([[0.0, 0.0], [0.2, 0.7]], "float32"))
        assert float(backend.impl.convert_to_numpy(metric.result())) == pytest.approx(2 / 3, abs=1e-5)


def test_config_reset_and_errors() -> None:
    with backend.use("torch"):
        f1 = metrics.F1Score(average="weighted", threshold=0.4)
        assert f1.name.startswith("f1_score") and metrics.F1Score().name == "f1_score"
        assert f1.get_config() == {"name": "f1_score", "dtype": "float32", "average": "weighted", "threshold": 0.4}
        fbeta = metrics.FBetaScore(beta=0.5, name="f")
        assert fbeta.get_config() == {"name": "f", "dtype": "float32", "average": None, "beta": 0.5,
                                      "threshold": None}
        clone = metrics.FBetaScore.from_config(fbeta.get_config())
        first = _run(clone, LABELS, SCORES)
        clone.reset_state()
        np.testing.assert_allclose(_run(clone, LABELS, SCORES), first, rtol=1e-6)
        assert isinstance(metrics.get("f1_score"), metrics.F1Score)
        for make, argument in [(lambda: metrics.F1Score(average="samples"), "average"),
                               (lambda: metrics.FBetaScore(beta=0.0), "beta"),
                               (lambda: metrics.F1Score(threshold=1.5), "threshold")]:
            with pytest.raises(ValueError, match=argument):
                make()
        with pytest.raises(ValueError, match="shape"):
            metrics.F1Score().update_state(LABELS[:, 0], SCORES[:, 0])


def test_in_fit_logs_one_score_per_class(training_backend: str) -> None:
    x = rng.normal(size=(32, 5)).astype("float32")
    model = models.Sequential([layers.Input((5,)), layers.Dense(C, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=["f1_score", metrics.F1Score(average="macro", name="macro_f1")])
    history = model.fit(x, ONE_HOT[:32], epochs=2, batch_size=16, verbose=0, validation_data=(x, ONE_HOT[:32]))
    assert set(history.history) == {"loss", "f1_score", "macro_f1", "val_loss", "val_f1_score", "val_macro_f1"}
    per_class = np.asarray(history.history["val_f1_score"][-1])
    assert per_class.shape == (C,)
    predicted = np.eye(C)[np.asarray(backend.impl.convert_to_numpy(model.predict(x, verbose=0))).argmax(-1)]
    np.testing.assert_allclose(per_class, f1_score(ONE_HOT[:32], predicted, average=None, zero_division=0),
                               atol=1e-5)
    assert history.history["val_macro_f1"][-1] == pytest.approx(per_class.mean(), abs=1e-5)
