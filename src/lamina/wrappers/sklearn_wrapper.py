"""The scikit-learn estimator protocol around a compiled model.

Each estimator takes the model (a compiled `Model`, or a callable `model(X=X, y=y, **model_kwargs)` that builds
and compiles one), builds a fresh copy for each `fit` (unless `warm_start`), and follows scikit-learn's
conventions: hyper-parameters are the constructor's arguments (`get_params`/`set_params`, `clone`), what is
learned ends in an underscore (`model_`, `history_`, `classes_`, `n_features_in_`).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

try:
    import sklearn
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.utils.multiclass import type_of_target
    from sklearn.utils.validation import check_is_fitted
except ImportError as error:  # pragma: no cover - scikit-learn is a development dependency
    raise ImportError("lamina.wrappers needs scikit-learn: run `pip install scikit-learn`.") from error

from lamina.models.cloning import clone_model
from lamina.models.model import Model

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def _validate_data(estimator: BaseEstimator, X: Any, y: Any = "no_validation", **kwargs: Any) -> Any:
    """scikit-learn's input checks (and `n_features_in_`), through the function or method its version has."""
    try:
        from sklearn.utils.validation import validate_data
    except ImportError:  # scikit-learn < 1.6
        return estimator._validate_data(X, y, **kwargs)
    return validate_data(estimator, X, y, **kwargs)


def _check_compiled(model: Any) -> None:
    if not isinstance(model, Model):
        raise TypeError(f"model must be a Model or a callable that returns one, and it gave a "
                        f"{type(model).__name__}.")
    if not model.compiled or not model.loss or getattr(model, "optimizer", None) is None:
        raise RuntimeError(f"The model {model.name!r} must be compiled with a loss and an optimizer before the "
                           "wrapper fits it: call model.compile(optimizer=..., loss=...) first (in the callable "
                           "that builds it, if you pass one).")


class _SKLearnBase(BaseEstimator):
    """What the three estimators share: building the model, fitting it, predicting with it."""

    _multi_output = True

    def __init__(self, model: Model | Callable[..., Model], warm_start: bool = False,
                 model_kwargs: dict | None = None, fit_kwargs: dict | None = None) -> None:
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_clone__(self) -> "_SKLearnBase":
        # A given Model is not copied here: `fit` clones it (unless warm_start), which is cheaper than a deep copy.
        params = self.get_params(deep=False)
        params["model_kwargs"] = copy.deepcopy(self.model_kwargs)
        params["fit_kwargs"] = copy.deepcopy(self.fit_kwargs)
        clone = type(self)(**params)
        if hasattr(self, "_metadata_request"):
            clone._metadata_request = copy.deepcopy(self._metadata_request)
        return clone

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {"non_deterministic": True, "multioutput": self._multi_output}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True
        tags.target_tags.multi_output = self._multi_output
        return tags

    @property
    def epoch_(self) -> int:
        """How many epochs the last `fit` trained."""
        history = getattr(self, "history_", None)
        return len(history.epoch) if history is not None else 0

    def set_fit_request(self, **kwargs: Any) -> "_SKLearnBase":
        """Ask scikit-learn's metadata routing to pass these fit arguments (e.g. `sample_weight=True`) to `fit`."""
        if not sklearn.get_config().get("enable_metadata_routing", False):
            raise RuntimeError("set_fit_request needs scikit-learn's metadata routing: call "
                               "sklearn.set_config(enable_metadata_routing=True) first.")
        from sklearn.utils.metadata_routing import MetadataRequest

        request = getattr(self, "_metadata_request", None) or MetadataRequest(owner=type(self).__name__)
        for param, alias in kwargs.items():
            request.fit.add_request(param=param, alias=alias)
        self._metadata_request = request
        return self

    def _build_model(self, X: np.ndarray, y: np.ndarray) -> Model:
        if self.warm_start and getattr(self, "model_", None) is not None:
            return self.model_
        if isinstance(self.model, Model):
            return self.model if self.warm_start else clone_model(self.model)
        if not callable(self.model):
            raise TypeError(f"model must be a compiled Model or a callable that builds one, got "
                            f"{type(self.model).__name__}.")
        return self.model(X=X, y=y, **(self.model_kwargs or {}))

    def fit(self, X: Any, y: Any, **kwargs: Any) -> "_SKLearnBase":
        """Fit a fresh model (or keep training the last one, with `warm_start`); keyword arguments go to
        `model.fit` and take precedence over `fit_kwargs`."""
        X, y = _validate_data(self, X, y, reset=True, multi_output=self._multi_output)
        target = self._encode_target(y)
        model = self._build_model(X, target)
        _check_compiled(model)
        target = self._fit_target(model, target)
        self.history_ = model.fit(X, target, **{**(self.fit_kwargs or {}), **kwargs})
        self.model_ = model
        return self

    def _raw_predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = _validate_data(self, X, reset=False)
        return np.asarray(self.model_.predict(X, verbose=0))

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        """Regression targets go in as columns: a 1-D y becomes (n, 1), and predictions come back 1-D."""
        type_of_target(y, input_name="y", raise_unknown=True)
        self._target_ndim = y.ndim
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _fit_target(self, model: Model, target: np.ndarray) -> np.ndarray:
        """The targets in the shape the built model's output has."""
        return target

    def _decode_output(self, output: np.ndarray) -> np.ndarray:
        return output[:, 0] if self._target_ndim == 1 and output.ndim == 2 and output.shape[1] == 1 else output


class SKLearnClassifier(ClassifierMixin, _SKLearnBase):
    """A scikit-learn classifier around a model: the model learns one-hot targets (one column per class of
    `classes_`, in sorted order; the callable that builds it is given them) and outputs a probability per class;
    for two classes, a model with one output unit (a sigmoid) learns the probability of the second one."""

    _multi_output = False

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {**super()._more_tags(), "poor_score": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        return tags

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        kind = type_of_target(y, input_name="y", raise_unknown=True)
        if kind not in ("binary", "multiclass"):
            raise ValueError(f"SKLearnClassifier supports binary and multiclass targets; y is {kind!r}.")
        self.classes_, indices = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"SKLearnClassifier needs at least 2 classes in y; it has one class only: "
                             f"{self.classes_[0]!r}.")
        self._target_ndim = 1
        return np.eye(len(self.classes_), dtype="float32")[indices.reshape(-1)]

    def _fit_target(self, model: Model, target: np.ndarray) -> np.ndarray:
        """Two classes and one output unit (a sigmoid): the unit learns whether the sample is of the second class."""
        try:
            units = model.output_shape[-1]
        except (AttributeError, ValueError, TypeError, IndexError):  # not built yet, or several outputs
            return target
        return target[:, 1:] if len(self.classes_) == 2 and units == 1 else target

    def decision_function(self, X: Any) -> np.ndarray:
        """The model's outputs, shaped as scikit-learn's scorers expect: for two classes, the score of the
        second class, shape (n_samples,); else one column per class."""
        output = self._raw_predict(X)
        return output[:, -1] if len(self.classes_) == 2 and output.ndim == 2 else output

    def predict_proba(self, X: Any) -> np.ndarray:
        """The probability of each class of `classes_`, shape (n_samples, n_classes)."""
        output = self._raw_predict(X)
        if output.ndim == 2 and output.shape[1] == 1 and len(self.classes_) == 2:
            return np.concatenate([1.0 - output, output], axis=1)
        if output.ndim != 2 or output.shape[1] != len(self.classes_):
            raise ValueError(f"The model outputs shape {output.shape[1:]} per sample, but y has "
                             f"{len(self.classes_)} classes: its last layer needs {len(self.classes_)} units.")
        return output

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample, as a label of `classes_`."""
        probabilities = self.predict_proba(X)
        return self.classes_[np.argmax(probabilities, axis=1)]


class SKLearnRegressor(RegressorMixin, _SKLearnBase):
    """A scikit-learn regressor around a model; `score` is R²."""

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {**super()._more_tags(), "poor_score": True}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        return tags

    def predict(self, X: Any) -> np.ndarray:
        """The model's predictions as float64 (scikit-learn's regressors' dtype), 1-D when `fit` had a 1-D y."""
        return self._decode_output(self._raw_predict(X)).astype("float64")


class SKLearnTransformer(TransformerMixin, _SKLearnBase):
    """A scikit-learn transformer around a model: `transform` returns the model's outputs (e.g. embeddings)."""

    def _more_tags(self) -> dict:  # scikit-learn < 1.6
        return {**super()._more_tags(), "preserves_dtype": []}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

    def transform(self, X: Any) -> np.ndarray:
        """The model's outputs for X, shape (n_samples, n_outputs)."""
        return self._raw_predict(X)
