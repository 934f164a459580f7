"""SKLearnClassifier, SKLearnRegressor, SKLearnTransformer: scikit-learn's estimator protocol around a model."""

from __future__ import annotations

from typing import Iterator

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import lamina
from lamina import backend, layers
from lamina.wrappers import SKLearnClassifier, SKLearnRegressor, SKLearnTransformer

QUIET = {"verbose": 0}


@pytest.fixture
def on_torch() -> Iterator[None]:
    """The wrappers hold no backend code: past the first test, which runs on both, torch alone keeps them fast."""
    with backend.use("torch"):
        lamina.set_random_seed(1234)
        yield


def blobs(samples: int = 96, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated clusters in 4 features (offset and scaled, so that the scaler matters)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, samples)
    centres = np.array([[4.0, 0, 0, 0], [0, 4.0, 0, 0], [0, 0, 4.0, 0]])
    return 50.0 + 10.0 * (centres[labels] + rng.normal(size=(samples, 4))), labels


def mlp(X: np.ndarray, y: np.ndarray, units: int = 16, activation: str = "softmax",
        loss: str = "categorical_crossentropy") -> lamina.Model:
    """The callable the wrappers call: sizes come from the data they were given."""
    inputs = layers.Input((X.shape[1],))
    hidden = layers.Dense(units, activation="relu")(inputs)
    model = lamina.Model(inputs, layers.Dense(y.shape[1], activation=activation)(hidden))
    model.compile(optimizer=lamina.optimizers.Adam(0.05), loss=loss)
    return model


def test_a_classifier_in_a_pipeline_learns_labels_of_any_kind(training_backend: str) -> None:
    X, labels = blobs()
    names = np.array(["cat", "dog", "eel"])[labels]
    pipeline = make_pipeline(StandardScaler(), SKLearnClassifier(mlp, fit_kwargs={"epochs": 15, **QUIET}))
    pipeline.fit(X, names)
    classifier = pipeline[-1]
    assert list(classifier.classes_) == ["cat", "dog", "eel"] and classifier.n_features_in_ == 4
    assert classifier.epoch_ == 15 and len(classifier.history_.history["loss"]) == 15
    assert pipeline.score(X, names) > 0.9
    assert set(pipeline.predict(X[:10])) <= {"cat", "dog", "eel"}
    probabilities = pipeline.predict_proba(X[:10])
    assert probabilities.shape == (10, 3)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(classifier.classes_[probabilities.argmax(axis=1)], pipeline.predict(X[:10]))
    with pytest.raises(ValueError, match="4 features"):
        classifier.predict(X[:5, :3])


def test_grid_search_picks_hyper_parameters_of_a_regressor(on_torch: None) -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(64, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3
    search = GridSearchCV(SKLearnRegressor(mlp, model_kwargs={"activation": None, "loss": "mse"},
                                           fit_kwargs={"epochs": 30, "batch_size": 16, **QUIET}),
                          {"model_kwargs": [{"units": 1, "activation": None, "loss": "mse"},
                                            {"units": 16, "activation": None, "loss": "mse"}]},
                          cv=2, n_jobs=1)
    search.fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.best_params_["model_kwargs"]["units"] == 16  # one relu unit cannot fit a plane
    prediction = search.best_estimator_.predict(X)
    assert prediction.shape == (64,)
    assert search.score(X, y) > 0.8  # R²
    assert not hasattr(search.estimator, "model_")  # the search fitted clones


def test_the_estimator_protocol(on_torch: None) -> None:
    X, labels = blobs(48)
    given = mlp(X, np.eye(3)[labels])
    before = [w.copy() for w in given.get_weights()]
    estimator = SKLearnClassifier(given, fit_kwargs={"epochs": 2, **QUIET})
    assert estimator.get_params() == {"model": given, "warm_start": False, "model_kwargs": None,
                                      "fit_kwargs": {"epochs": 2, **QUIET}}
    copy = clone(estimator.set_params(warm_start=True))
    assert copy.get_params()["warm_start"] is True and copy.get_params()["fit_kwargs"] == {"epochs": 2, **QUIET}
    with pytest.raises(NotFittedError):
        copy.predict(X)
    estimator.set_params(warm_start=False).fit(X, labels)
    assert estimator.model_ is not given  # fitted a clone: the given model keeps its weights
    for old, new in zip(before, given.get_weights()):
        np.testing.assert_array_equal(old, new)
    warm = SKLearnClassifier(given, warm_start=True, fit_kwargs={"epochs": 1, **QUIET}).fit(X, labels)
    first = warm.model_
    assert first is given and warm.fit(X, labels).model_ is first  # warm start keeps training the same model
    binary = SKLearnClassifier(lambda X, y: mlp(X, y[:, 1:], activation="sigmoid", loss="binary_crossentropy"),
                               fit_kwargs={"epochs": 1, **QUIET}).fit(X, labels > 0)
    scores, probabilities = binary.decision_function(X), binary.predict_proba(X)
    assert list(binary.classes_) == [False, True] and scores.shape == (48,) and probabilities.shape == (48, 2)
    np.testing.assert_allclose(probabilities[:, 1], scores, rtol=1e-6)  # one sigmoid unit: P(True)
    np.testing.assert_array_equal(binary.predict(X), scores > 0.5)
    with pytest.raises(RuntimeError, match="compiled"):
        SKLearnClassifier(lamina.Sequential([layers.Input((4,)), layers.Dense(3)])).fit(X, labels)
    with pytest.raises(ValueError, match="one class only"):
        SKLearnClassifier(mlp).fit(X, np.zeros(len(X)))


def test_a_transformer_feeds_its_outputs_to_the_next_step(on_torch: None) -> None:
    X, labels = blobs(64)
    embed = SKLearnTransformer(mlp, model_kwargs={"activation": "tanh", "loss": "mse"},
                               fit_kwargs={"epochs": 5, **QUIET})
    pipeline = make_pipeline(StandardScaler(), embed)
    features = pipeline.fit_transform(X, np.eye(3)[labels])  # the model learns the one-hot rows from X
    assert features.shape == (64, 3) and pipeline[-1].n_features_in_ == 4
    np.testing.assert_allclose(pipeline.transform(X), features, rtol=1e-5, atol=1e-6)
    assert LogisticRegression().fit(features, labels).score(features, labels) > 0.9
