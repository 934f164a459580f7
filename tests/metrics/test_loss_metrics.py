"""Metrics built from loss functions (regression, probabilistic, hinge, correlation) and R2Score, accumulated
over uneven batches with sample weights on torch and jax, against NumPy and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import r2_score

from lamina import backend, metrics

BACKENDS = ["torch", "jax"]
EPSILON = 1e-7
rng = np.random.default_rng(3)
N, K = 12, 4
BATCHES = [slice(0, 5), slice(5, 12)]
WEIGHTS = rng.uniform(0.0, 2.0, size=N).astype("float32")
Y_TRUE = rng.normal(size=(N, K)).astype("float32")
Y_PRED = (Y_TRUE + rng.normal(size=(N, K))).astype("float32")
POSITIVE_TRUE = rng.uniform(0.1, 2.0, size=(N, K)).astype("float32")
POSITIVE_PRED = rng.uniform(0.1, 2.0, size=(N, K)).astype("float32")
LABELS = rng.integers(0, K, size=N)
ONE_HOT = np.eye(K, dtype="float32")[LABELS]
LOGITS = rng.normal(size=(N, K)).astype("float32") * 2
BINARY = rng.integers(0, 2, size=(N, K)).astype("float32")


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


PROBABILITIES = _softmax(LOGITS.astype("float64")).astype("float32")
SIGMOID = (1 / (1 + np.exp(-LOGITS.astype("float64")))).astype("float32")


def _run(metric, y_true, y_pred, sample_weight=None) -> np.ndarray:
    for rows in BATCHES:
        metric.update_state(y_true[rows], y_pred[rows], None if sample_weight is None else sample_weight[rows])
    return _np(metric.result())


def _signed(y):
    return 2 * y - 1


def _bce(y, p):
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def _pearson(y, p):
    y, p = y - y.mean(-1, keepdims=True), p - p.mean(-1, keepdims=True)
    return (y * p).mean(-1) / y.std(-1) / p.std(-1)


def _concordance(y, p):
    # As Keras 3.15 computes it: the covariance term centres both factors on the mean of p.
    y_mean, p_mean = y.mean(-1, keepdims=True), p.mean(-1, keepdims=True)
    norm = y.var(-1, keepdims=True) + p.var(-1, keepdims=True) + (y_mean - p_mean) ** 2
    return (2 * (y - p_mean) * (p - p_mean) / (norm + EPSILON)).mean(-1)


# name -> (metric factory, y_true, y_pred, NumPy per-sample values)
CASES = {
    "mean_squared_error": (metrics.MeanSquaredError, Y_TRUE, Y_PRED, lambda y, p: ((y - p) ** 2).mean(-1)),
    "mean_absolute_error": (metrics.MeanAbsoluteError, Y_TRUE, Y_PRED, lambda y, p: np.abs(y - p).mean(-1)),
    "mean_absolute_percentage_error": (metrics.MeanAbsolutePercentageError, Y_TRUE, Y_PRED,
                                       lambda y, p: 100 * np.abs((y - p) / np.maximum(np.abs(y), EPSILON)).mean(-1)),
    "mean_squared_logarithmic_error": (metrics.MeanSquaredLogarithmicError, POSITIVE_TRUE, POSITIVE_PRED,
                                       lambda y, p: ((np.log1p(y) - np.log1p(p)) ** 2).mean(-1)),
    "cosine_similarity": (metrics.CosineSimilarity, Y_TRUE, Y_PRED, lambda y, p: (y * p).sum(-1) / np.linalg.norm(
        y, axis=-1) / np.linalg.norm(p, axis=-1)),
    "logcosh": (metrics.LogCoshError, Y_TRUE, Y_PRED, lambda y, p: np.log(np.cosh(p - y)).mean(-1)),
    "binary_crossentropy": (lambda: metrics.BinaryCrossentropy(label_smoothing=0.2), BINARY, SIGMOID,
                            lambda y, p: _bce(y * 0.8 + 0.1, p)),
    "categorical_crossentropy": (lambda: metrics.CategoricalCrossentropy(from_logits=True), ONE_HOT, LOGITS,
                                 lambda y, p: -(y * np.log(_softmax(p))).sum(-1)),
    "sparse_categorical_crossentropy": (metrics.SparseCategoricalCrossentropy, LABELS, PROBABILITIES,
                                        lambda y, p: -np.log(p[np.arange(N), y.astype(int)])),
    "kl_divergence": (metrics.KLDivergence, PROBABILITIES[::-1].copy(), PROBABILITIES,
                      lambda y, p: (y * np.log(y / p)).sum(-1)),
    "poisson": (metrics.Poisson, POSITIVE_TRUE, POSITIVE_PRED, lambda y, p: (p - y * np.log(p + EPSILON)).mean(-1)),
    "hinge": (metrics.Hinge, BINARY, LOGITS, lambda y, p: np.maximum(1 - _signed(y) * p, 0).mean(-1)),
    "squared_hinge": (metrics.SquaredHinge, BINARY, LOGITS,
                      lambda y, p: (np.maximum(1 - _signed(y) * p, 0) ** 2).mean(-1)),
    "categorical_hinge": (metrics.CategoricalHinge, ONE_HOT, LOGITS,
                          lambda y, p: np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)),
    "pearson_correlation": (metrics.PearsonCorrelation, Y_TRUE, Y_PRED, _pearson),
    "concordance_correlation": (metrics.ConcordanceCorrelation, Y_TRUE, Y_PRED, _concordance),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_batches_then_result_match_numpy(backend_name: str, name: str) -> None:
    factory, y_true, y_pred, reference = CASES[name]
    per_sample = reference(y_true.astype("float64"), y_pred.astype("float64"))
    with backend.use(backend_name):
        metric = factory()
        assert metric.name == name
        np.testing.assert_allclose(_run(metric, y_true, y_pred), per_sample.mean(), rtol=1e-5, atol=1e-6)
        metric.reset_state()
        weighted = (per_sample * WEIGHTS).sum() / WEIGHTS.sum()
        np.testing.assert_allclose(_run(metric, y_true, y_pred, WEIGHTS), weighted, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_root_mean_squared_error(backend_name: str) -> None:
    squared = (Y_TRUE - Y_PRED).astype("float64") ** 2
    with backend.use(backend_name):
        metric = metrics.RootMeanSquaredError()
        np.testing.assert_allclose(_run(metric, Y_TRUE, Y_PRED), np.sqrt(squared.mean()), rtol=1e-5)
        metric.reset_state()
        expected = np.sqrt((squared * WEIGHTS[:, None]).sum() / (WEIGHTS.sum() * K))
        np.testing.assert_allclose(_run(metric, Y_TRUE, Y_PRED, WEIGHTS), expected, rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("aggregation, multioutput", [("uniform_average", "uniform_average"),
                                                      ("variance_weighted_average", "variance_weighted"),
                                                      (None, "raw_values")])
def test_r2_score_matches_sklearn(backend_name: str, aggregation: str | None, multioutput: str) -> None:
    with backend.use(backend_name):
        metric = metrics.R2Score(class_aggregation=aggregation)
        np.testing.assert_allclose(_run(metric, Y_TRUE, Y_PRED), r2_score(Y_TRUE, Y_PRED, multioutput=multioutput),
                                   rtol=1e-4, atol=1e-6)
        metric.reset_state()
        expected = r2_score(Y_TRUE, Y_PRED, sample_weight=WEIGHTS, multioutput=multioutput)
        np.testing.assert_allclose(_run(metric, Y_TRUE, Y_PRED, WEIGHTS), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_adjusted_r2_score(backend_name: str) -> None:
    r2 = r2_score(Y_TRUE, Y_PRED)
    samples = Y_TRUE.size  # as Keras counts the samples of the adjustment: every value
    with backend.use(backend_name):
        adjusted = _run(metrics.R2Score(num_regressors=3), Y_TRUE, Y_PRED)
        np.testing.assert_allclose(adjusted, 1 - (1 - r2) * (samples - 1) / (samples - 3 - 1), rtol=1e-4)
        # more regressors than samples allow: the plain R2
        np.testing.assert_allclose(_run(metrics.R2Score(num_regressors=samples), Y_TRUE, Y_PRED), r2, rtol=1e-4)
        one_output = metrics.R2Score()
        one_output.update_state(Y_TRUE[:, 0], Y_PRED[:, :1])  # (n,) against (n, 1)
        np.testing.assert_allclose(_np(one_output.result()), r2_score(Y_TRUE[:, 0], Y_PRED[:, 0]), rtol=1e-4)


def test_r2_score_checks_its_arguments_and_shapes() -> None:
    with pytest.raises(ValueError, match="class_aggregation must be one of"):
        metrics.R2Score(class_aggregation="macro")
    with pytest.raises(ValueError, match="num_regressors must be an int >= 0"):
        metrics.R2Score(num_regressors=-1)
    with backend.use("torch"), pytest.raises(ValueError, match=r"R2Score expects 2D inputs"):
        metrics.R2Score().update_state(np.ones((2, 3, 4)), np.ones((2, 3, 4)))


def test_updates_trace_under_jit() -> None:
    import jax

    with backend.use("jax"):
        for metric in (metrics.MeanSquaredError(), metrics.RootMeanSquaredError(), metrics.PearsonCorrelation(),
                       metrics.R2Score(class_aggregation="variance_weighted_average", num_regressors=2)):
            if isinstance(metric, metrics.R2Score):
                metric.build(Y_TRUE.shape, Y_PRED.shape)
            update = jax.jit(metric.stateless_update_state)
            result = jax.jit(metric.stateless_result)
            state = [variable.value for variable in metric.variables]
            for rows in BATCHES:
                state = update(state, Y_TRUE[rows], Y_PRED[rows], WEIGHTS[rows])
            eager = type(metric)(**{key: value for key, value in metric.get_config().items() if key != "dtype"})
            np.testing.assert_allclose(_np(result(state)), _run(eager, Y_TRUE, Y_PRED, WEIGHTS), rtol=1e-5)


def test_function_names_of_the_metrics_namespace() -> None:
    with backend.use("torch"):
        for name in ("mean_squared_error", "mean_absolute_error", "hinge", "squared_hinge", "poisson", "log_cosh",
                     "huber", "kl_divergence"):
            assert _np(getattr(metrics, name)(POSITIVE_TRUE, POSITIVE_PRED)).shape == (N,)
        assert _np(metrics.binary_focal_crossentropy(BINARY, SIGMOID)).shape == (N,)
        np.testing.assert_allclose(_np(metrics.pearson_correlation(Y_TRUE, Y_PRED)), _pearson(Y_TRUE, Y_PRED),
                                   rtol=1e-5)


@pytest.mark.parametrize("metric, expected", [
    (metrics.MeanSquaredError(name="m"), {"name": "m", "dtype": "float32"}),
    (metrics.LogCoshError(), {"name": "logcosh", "dtype": "float32"}),
    (metrics.CosineSimilarity(axis=0), {"name": "cosine_similarity", "dtype": "float32", "axis": 0}),
    (metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
     {"name": "binary_crossentropy", "dtype": "float32", "from_logits": True, "label_smoothing": 0.1}),
    (metrics.SparseCategoricalCrossentropy(ignore_class=3),
     {"name": "sparse_categorical_crossentropy", "dtype": "float32", "from_logits": False, "ignore_class": 3,
      "axis": -1}),
    (metrics.R2Score(class_aggregation=None, num_regressors=2),
     {"name": "r2_score", "dtype": "float32", "class_aggregation": None, "num_regressors": 2}),
    (metrics.ConcordanceCorrelation(axis=0), {"name": "concordance_correlation", "dtype": "float32", "axis": 0}),
])
def test_configs_are_keras_and_round_trip(metric, expected: dict) -> None:
    assert metric.get_config() == expected
    assert type(metric).from_config(metric.get_config()).get_config() == expected


@pytest.mark.parametrize("identifier, cls", [
    ("root_mean_squared_error", metrics.RootMeanSquaredError), ("r2_score", metrics.R2Score),
    ("squared_hinge", metrics.SquaredHinge), ("poisson", metrics.Poisson),
    ("pearson_correlation", metrics.PearsonCorrelation), ("MeanSquaredLogarithmicError",
                                                          metrics.MeanSquaredLogarithmicError),
])
def test_get_by_name(identifier: str, cls: type) -> None:
    assert type(metrics.get(identifier)) is cls


def test_r2_score_built_from_shapes_runs_in_a_jitted_fit() -> None:
    # Built before the first step (from the shapes compile knows), its state is part of the jitted step.
    import lamina
    from lamina.layers import Dense, Input
    from lamina.models import Sequential

    x = rng.normal(size=(16, 3)).astype("float32")
    y = x @ np.arange(6, dtype="float32").reshape(3, 2)
    with backend.use("jax"):
        lamina.set_random_seed(0)
        model = Sequential([Input((3,)), Dense(2)])
        r2 = metrics.R2Score()
        r2.build((None, 2), (None, 2))
        model.compile("sgd", "mse", metrics=[r2])
        model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        result = model.evaluate(x, y, verbose=0, return_dict=True)["r2_score"]
        expected = r2_score(y, model.predict(x, verbose=0))
    assert result == pytest.approx(expected, abs=1e-4)
    single = metrics.R2Score()
    single.build((None,), (None, 1))
    assert [tuple(v.shape) for v in single.variables[1:]] == [(1,)] * 4
