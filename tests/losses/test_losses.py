"""Losses against NumPy references on torch and jax: functions, reductions, weights, masks, names, configs."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, losses

BACKENDS = ["torch", "jax"]
EPSILON = 1e-7
rng = np.random.default_rng(0)
Y_TRUE = rng.normal(size=(6, 4)).astype("float32")
Y_PRED = rng.normal(size=(6, 4)).astype("float32")
POSITIVE_TRUE = rng.uniform(0.1, 2.0, size=(6, 4)).astype("float32")
POSITIVE_PRED = rng.uniform(0.1, 2.0, size=(6, 4)).astype("float32")
LOGITS = rng.normal(size=(6, 5)).astype("float32") * 2
LABELS = np.array([0, 3, 1, 4, 2, 3])
ONE_HOT = np.eye(5, dtype="float32")[LABELS]
BINARY = rng.integers(0, 2, size=(6, 3)).astype("float32")
BINARY_LOGITS = rng.normal(size=(6, 3)).astype("float32") * 2
WEIGHTS = np.array([0.5, 1.0, 0.0, 2.0, 1.5, 0.25], dtype="float32")


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _bce(y, p):
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def _huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2).mean(-1)


def _kld(y, p):
    y, p = np.clip(y, EPSILON, 1), np.clip(p, EPSILON, 1)
    return (y * np.log(y / p)).sum(-1)


def _focal_bce(y, p, gamma=2.0):
    p_t = y * p + (1 - y) * (1 - p)
    return ((1 - p_t) ** gamma * _bce_elements(y, p)).mean(-1)


def _bce_elements(y, p):
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _focal_cce(y, p, alpha=0.25, gamma=2.0):
    p = np.clip(p / p.sum(-1, keepdims=True), EPSILON, 1 - EPSILON)
    return (alpha * (1 - p) ** gamma * -y * np.log(p)).sum(-1)


def _cosine(y, p):
    return -(y * p).sum(-1) / np.linalg.norm(y, axis=-1) / np.linalg.norm(p, axis=-1)


def _signed(y):
    return 2 * y - 1 if np.isin(y, (0, 1)).all() else y


PROBABILITIES = _softmax(LOGITS.astype("float64")).astype("float32")
PROBABILITIES_TRUE = _softmax(rng.normal(size=(6, 5))).astype("float32")

# name -> (function, y_true, y_pred, NumPy per-sample reference)
CASES = {
    "mean_squared_error": (losses.mean_squared_error, Y_TRUE, Y_PRED, lambda y, p: ((y - p) ** 2).mean(-1)),
    "mean_absolute_error": (losses.mean_absolute_error, Y_TRUE, Y_PRED, lambda y, p: np.abs(y - p).mean(-1)),
    "mean_absolute_percentage_error": (losses.mean_absolute_percentage_error, Y_TRUE, Y_PRED,
                                       lambda y, p: 100 * np.abs((y - p) / np.maximum(np.abs(y), EPSILON)).mean(-1)),
    "mean_squared_logarithmic_error": (losses.mean_squared_logarithmic_error, POSITIVE_TRUE, POSITIVE_PRED,
                                       lambda y, p: ((np.log1p(y) - np.log1p(p)) ** 2).mean(-1)),
    "huber": (losses.huber, Y_TRUE, Y_PRED, _huber),
    "binary_crossentropy": (losses.binary_crossentropy, BINARY, _sigmoid(BINARY_LOGITS), _bce),
    "categorical_crossentropy": (losses.categorical_crossentropy, ONE_HOT, PROBABILITIES,
                                 lambda y, p: -(y * np.log(p)).sum(-1)),
    "sparse_categorical_crossentropy": (losses.sparse_categorical_crossentropy, LABELS, PROBABILITIES,
                                        lambda y, p: -np.log(p[np.arange(len(y)), y.astype(int)])),
    "hinge": (losses.hinge, BINARY, Y_PRED[:, :3], lambda y, p: np.maximum(1 - (2 * y - 1) * p, 0).mean(-1)),
    "kl_divergence": (losses.kl_divergence, PROBABILITIES_TRUE, PROBABILITIES, _kld),
    "log_cosh": (losses.log_cosh, Y_TRUE, Y_PRED, lambda y, p: np.log(np.cosh(p - y)).mean(-1)),
    "cosine_similarity": (losses.cosine_similarity, Y_TRUE, Y_PRED, _cosine),
    "poisson": (losses.poisson, POSITIVE_TRUE, POSITIVE_PRED, lambda y, p: (p - y * np.log(p + EPSILON)).mean(-1)),
    "squared_hinge": (losses.squared_hinge, BINARY, Y_PRED[:, :3],
                      lambda y, p: (np.maximum(1 - _signed(y) * p, 0) ** 2).mean(-1)),
    "categorical_hinge": (losses.categorical_hinge, ONE_HOT, LOGITS, lambda y, p: np.maximum(
        ((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)),
    "binary_focal_crossentropy": (losses.binary_focal_crossentropy, BINARY, _sigmoid(BINARY_LOGITS), _focal_bce),
    "categorical_focal_crossentropy": (losses.categorical_focal_crossentropy, ONE_HOT, PROBABILITIES, _focal_cce),
    "categorical_generalized_cross_entropy": (
        lambda y, p: losses.categorical_generalized_cross_entropy(y, p, q=0.3), LABELS, PROBABILITIES,
        lambda y, p: (1 - p[np.arange(len(y)), y.astype(int)] ** 0.3) / 0.3),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_functions_match_numpy(backend_name: str, name: str) -> None:
    function, y_true, y_pred, reference = CASES[name]
    expected = reference(y_true.astype("float64"), y_pred.astype("float64"))
    with backend.use(backend_name) as B:
        values = function(B.convert_to_tensor(y_true), B.convert_to_tensor(y_pred))
        assert B.shape(values) == (6,)
        np.testing.assert_allclose(_np(values), expected, rtol=1e-5, atol=1e-5)
        # NumPy inputs work too, as with Keras
        np.testing.assert_allclose(_np(function(y_true, y_pred)), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
def test_reductions_and_sample_weight(backend_name: str, reduction: str) -> None:
    per_sample = ((Y_TRUE - Y_PRED).astype("float64") ** 2).mean(-1)
    weighted = per_sample * WEIGHTS
    expected = {"sum_over_batch_size": (per_sample.mean(), weighted.mean()),
                "sum": (per_sample.sum(), weighted.sum()),
                "none": (per_sample, weighted),
                "mean_with_sample_weight": (per_sample.mean(), weighted.sum() / WEIGHTS.sum())}[reduction]
    with backend.use(backend_name):
        loss = losses.MeanSquaredError(reduction=reduction)
        np.testing.assert_allclose(_np(loss(Y_TRUE, Y_PRED)), expected[0], rtol=1e-5)
        np.testing.assert_allclose(_np(loss(Y_TRUE, Y_PRED, sample_weight=WEIGHTS)), expected[1], rtol=1e-5)
        # a weight of shape (n, 1) is the same as (n,)
        column = _np(loss(Y_TRUE, Y_PRED, sample_weight=WEIGHTS[:, None]))
        np.testing.assert_allclose(column.reshape(np.shape(expected[1])), expected[1], rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_per_sample_weights_cover_every_timestep(backend_name: str) -> None:
    y_true, y_pred = rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3, 2))
    per_step = ((y_true - y_pred) ** 2).mean(-1)  # (6, 3)
    with backend.use(backend_name):
        value = losses.MeanSquaredError()(y_true, y_pred, sample_weight=WEIGHTS)
        np.testing.assert_allclose(_np(value), (per_step * WEIGHTS[:, None]).mean(), rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_targets_of_shape_n_against_predictions_n_by_1(backend_name: str) -> None:
    y_true, y_pred = Y_TRUE[:, 0], Y_PRED[:, :1]
    expected = ((y_true - y_pred[:, 0]).astype("float64") ** 2).mean()
    with backend.use(backend_name):
        assert backend.impl.shape(losses.mean_squared_error(y_true, y_pred)) == (6,)
        np.testing.assert_allclose(_np(losses.get("mse")(y_true, y_pred)), expected, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.get("mse")(y_true[:, None], y_pred[:, 0])), expected, rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_from_logits_for_the_three_crossentropies(backend_name: str) -> None:
    log_probabilities = np.log(_softmax(LOGITS.astype("float64")))
    categorical = -(ONE_HOT * log_probabilities).sum(-1).mean()
    sparse = -log_probabilities[np.arange(6), LABELS].mean()
    z = BINARY_LOGITS.astype("float64")
    binary = (np.maximum(z, 0) - z * BINARY + np.log1p(np.exp(-np.abs(z)))).mean()
    with backend.use(backend_name):
        np.testing.assert_allclose(_np(losses.CategoricalCrossentropy(from_logits=True)(ONE_HOT, LOGITS)),
                                   categorical, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, LOGITS)),
                                   sparse, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.SparseCategoricalCrossentropy(True)(LABELS[:, None], LOGITS)),
                                   sparse, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.BinaryCrossentropy(from_logits=True)(BINARY, BINARY_LOGITS)),
                                   binary, rtol=1e-5)


SATURATED_LOGITS = np.array([[0.0, 2.0, -1.0], [1.0, 0.5, -0.5], [20.0, 0.0, -20.0], [-30.0, 30.0, 0.0]],
                            dtype="float32")
SATURATED_LABELS = np.array([1, 0, 1, 0])  # the last two rows put far below 1e-7 on the true class


def _saturated_crossentropies(backend_name: str) -> dict[str, np.ndarray]:
    """The three cross-entropies of softmax / sigmoid outputs made by the backend's own ops."""
    with backend.use(backend_name) as B:
        logits = B.convert_to_tensor(SATURATED_LOGITS)
        probabilities = B.softmax(logits, -1)
        sigmoid = B.sigmoid(logits)
        return {
            "sparse": _np(losses.sparse_categorical_crossentropy(SATURATED_LABELS, probabilities)),
            "categorical": _np(losses.categorical_crossentropy(np.eye(3)[SATURATED_LABELS], probabilities)),
            "binary": _np(losses.binary_crossentropy(np.eye(3)[SATURATED_LABELS], sigmoid)),
        }


def test_saturated_softmax_crossentropy_is_the_same_on_every_backend() -> None:
    # From a softmax or sigmoid in the same computation, the cross-entropy is that of its logits on
    # every backend: exact, where clipping the probabilities to 1e-7 would cap it near 16.1.
    z = SATURATED_LOGITS.astype("float64")
    log_probabilities = np.log(_softmax(z))
    one_hot = np.eye(3)[SATURATED_LABELS]
    expected = {"sparse": -log_probabilities[np.arange(4), SATURATED_LABELS],
                "categorical": -(one_hot * log_probabilities).sum(-1),
                "binary": (np.maximum(z, 0) - z * one_hot + np.log1p(np.exp(-np.abs(z)))).mean(-1)}
    assert expected["sparse"][3] > 50  # far beyond what a clipped log could give
    results = {name: _saturated_crossentropies(name) for name in ("torch", "jax", "numpy")}
    for name, values in results.items():
        for kind, reference in expected.items():
            np.testing.assert_allclose(values[kind], reference, rtol=1e-5, err_msg=f"{kind} on {name}")
    for kind in expected:
        np.testing.assert_allclose(results["torch"][kind], results["jax"][kind], rtol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_probabilities_from_elsewhere_are_clipped_to_epsilon(backend_name: str) -> None:
    # The same saturated probabilities, handed over as plain arrays: every backend clips them to 1e-7.
    probabilities = _softmax(SATURATED_LOGITS.astype("float64")).astype("float32")
    clipped = np.clip(probabilities.astype("float64"), EPSILON, 1 - EPSILON)
    expected = -np.log(clipped)[np.arange(4), SATURATED_LABELS]
    with backend.use(backend_name):
        np.testing.assert_allclose(_np(losses.sparse_categorical_crossentropy(SATURATED_LABELS, probabilities)),
                                   expected, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.categorical_crossentropy(np.eye(3)[SATURATED_LABELS], probabilities)),
                                   expected, rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_softmax_over_another_axis_is_not_taken_for_the_loss_axis(backend_name: str) -> None:
    logits = SATURATED_LOGITS[:3, :3]
    probabilities_over_rows = _softmax(logits.T.astype("float64")).T  # softmax over axis 0
    one_hot = np.eye(3)[SATURATED_LABELS[:3]]
    normalised = np.clip(probabilities_over_rows / probabilities_over_rows.sum(-1, keepdims=True), EPSILON,
                         1 - EPSILON)
    with backend.use(backend_name) as B:
        probabilities = B.softmax(B.convert_to_tensor(logits), 0)
        assert B.logits_of(probabilities, "softmax", -1) is None
        assert B.logits_of(probabilities, "sigmoid") is None
        assert B.logits_of(probabilities, "softmax", 0) is not None
        value = _np(losses.categorical_crossentropy(one_hot, probabilities))
    np.testing.assert_allclose(value, -(one_hot * np.log(normalised)).sum(-1), rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_saturated_softmax_keeps_a_gradient(backend_name: str) -> None:
    # A model sure of the wrong class still learns: the gradient with respect to its logits is
    # softmax - one_hot, not the zero that a clipped probability would give.
    logits = SATURATED_LOGITS[2:]
    one_hot = np.eye(3)[SATURATED_LABELS[2:]]
    expected = (_softmax(logits.astype("float64")) - one_hot) / 2
    with backend.use(backend_name) as B:
        gradient = _gradient_of_mean_crossentropy(B, backend_name, logits, one_hot)
    np.testing.assert_allclose(gradient, expected, rtol=1e-5, atol=1e-7)


def _gradient_of_mean_crossentropy(B, backend_name: str, logits: np.ndarray, one_hot: np.ndarray) -> np.ndarray:
    loss = losses.CategoricalCrossentropy()
    if backend_name == "torch":
        import torch

        z = torch.tensor(logits, requires_grad=True)
        loss(one_hot, B.softmax(z, -1)).backward()
        return z.grad.numpy()
    import jax

    return np.asarray(jax.grad(lambda z: loss(one_hot, B.softmax(z, -1)))(logits))


def test_logits_of_checks_its_activation() -> None:
    with pytest.raises(ValueError, match="activation must be one of"):
        backend.impl.logits_of(PROBABILITIES, "relu")


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_label_smoothing(backend_name: str) -> None:
    smoothed = ONE_HOT * 0.8 + 0.2 / 5
    categorical = -(smoothed * np.log(PROBABILITIES.astype("float64"))).sum(-1).mean()
    probabilities = _sigmoid(BINARY_LOGITS.astype("float64"))
    binary = _bce(BINARY * 0.8 + 0.1, probabilities).mean()
    with backend.use(backend_name):
        np.testing.assert_allclose(
            _np(losses.CategoricalCrossentropy(label_smoothing=0.2)(ONE_HOT, PROBABILITIES)), categorical, rtol=1e-5)
        np.testing.assert_allclose(
            _np(losses.BinaryCrossentropy(label_smoothing=0.2)(BINARY, probabilities.astype("float32"))),
            binary, rtol=1e-5)


def test_hinge_takes_minus_one_one_labels_as_they_are() -> None:
    signs = 2 * BINARY - 1
    expected = np.maximum(1 - signs * Y_PRED[:, :3], 0).mean(-1)
    with backend.use("torch"):
        np.testing.assert_allclose(_np(losses.hinge(signs, Y_PRED[:, :3])), expected, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.hinge(BINARY, Y_PRED[:, :3])), expected, rtol=1e-5)


def test_huber_delta() -> None:
    with backend.use("jax"):
        np.testing.assert_allclose(_np(losses.Huber(delta=0.3)(Y_TRUE, Y_PRED)),
                                   _huber(Y_TRUE.astype("float64"), Y_PRED, 0.3).mean(), rtol=1e-5)


@pytest.mark.parametrize("identifier, cls, name", [
    ("mse", losses.MeanSquaredError, "mse"),
    ("mae", losses.MeanAbsoluteError, "mae"),
    ("mean_squared_error", losses.MeanSquaredError, "mean_squared_error"),
    ("binary_crossentropy", losses.BinaryCrossentropy, "binary_crossentropy"),
    ("categorical_crossentropy", losses.CategoricalCrossentropy, "categorical_crossentropy"),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy, "sparse_categorical_crossentropy"),
    ("huber", losses.Huber, "huber"),
    ("kld", losses.KLDivergence, "kld"),
    ("MeanAbsolutePercentageError", losses.MeanAbsolutePercentageError, "mean_absolute_percentage_error"),
])
def test_get_by_name(identifier: str, cls: type, name: str) -> None:
    loss = losses.get(identifier)
    assert type(loss) is cls and loss.name == name and loss.reduction == "sum_over_batch_size"


def test_get_other_identifiers() -> None:
    instance = losses.Hinge()
    assert losses.get(instance) is instance
    assert type(losses.get(losses.KLDivergence)) is losses.KLDivergence
    assert type(losses.get(losses.mean_absolute_error)) is losses.MeanAbsoluteError
    custom = losses.get(lambda y_true, y_pred: (y_pred - y_true) ** 2)
    assert isinstance(custom, losses.LossFunctionWrapper)
    with backend.use("torch"):
        np.testing.assert_allclose(_np(custom(Y_TRUE, Y_PRED)), ((Y_TRUE - Y_PRED) ** 2).mean(), rtol=1e-5)
    with pytest.raises(TypeError, match="loss must be"):
        losses.get(3)


def test_default_names_follow_keras() -> None:
    assert losses.Huber().name == "huber_loss"
    assert losses.MeanSquaredError().name == "mean_squared_error"
    assert losses.KLDivergence().name == "kl_divergence"
    assert losses.SparseCategoricalCrossentropy().name == "sparse_categorical_crossentropy"


@pytest.mark.parametrize("identifier, suggestion", [
    ("crossentropy", "Did you mean 'categorical_crossentropy'"),
    ("msee", "Did you mean 'mse'"),
    ("categorical_crosentropy", "Did you mean 'categorical_crossentropy'"),
])
def test_unknown_name_suggests_the_closest(identifier: str, suggestion: str) -> None:
    with pytest.raises(ValueError, match=f"Unknown loss '{identifier}'") as raised:
        losses.get(identifier)
    assert suggestion in str(raised.value)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="reduction must be one of"):
        losses.MeanSquaredError(reduction="average")
    with pytest.raises(TypeError, match="unexpected keyword argument.*delta"):
        losses.MeanSquaredError(delta=2.0)
    with pytest.raises(TypeError, match="multiple values"):
        losses.BinaryCrossentropy(True, from_logits=True)


@pytest.mark.parametrize("loss", [
    losses.MeanSquaredError(reduction="sum", name="my_mse"),
    losses.Huber(delta=2.5),
    losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.CategoricalCrossentropy(label_smoothing=0.2, reduction="none"),
    losses.SparseCategoricalCrossentropy(from_logits=True),
])
def test_config_round_trip(loss: losses.Loss) -> None:
    config = loss.get_config()
    rebuilt = type(loss).from_config(config)
    assert rebuilt.get_config() == config
    serialized = losses.serialize(loss)
    assert serialized["class_name"] == type(loss).__name__
    again = losses.get(serialized)
    assert type(again) is type(loss) and again.get_config() == config
    with backend.use("torch"):
        y_true, y_pred = (LABELS, LOGITS) if "Sparse" in type(loss).__name__ else (ONE_HOT, PROBABILITIES)
        np.testing.assert_allclose(_np(again(y_true, y_pred)), _np(loss(y_true, y_pred)))
