"""Keras's options of every loss against NumPy: focal weights, ignore_class, Dice/Tversky axes, CTC, Circle,
masks and weights per timestep, the reductions' denominators, dtype, configs and deserialize."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, losses, saving

BACKENDS = ["torch", "jax"]
EPSILON = 1e-7
rng = np.random.default_rng(7)


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


LOGITS = rng.normal(size=(6, 4)).astype("float32") * 2
BINARY = rng.integers(0, 2, size=(6, 4)).astype("float32")
ONE_HOT = np.eye(4, dtype="float32")[rng.integers(0, 4, size=6)]


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_focal_options(backend_name: str, from_logits: bool) -> None:
    z = LOGITS.astype("float64")
    y = BINARY * 0.8 + 0.1  # label_smoothing=0.2
    p = _sigmoid(z)
    bce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    focal = (1 - (y * p + (1 - y) * (1 - p))) ** 1.5 * bce * (y * 0.4 + (1 - y) * 0.6)
    loss = losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5, from_logits=from_logits,
                                          label_smoothing=0.2, reduction="none")
    with backend.use(backend_name):
        value = loss(BINARY, LOGITS if from_logits else p.astype("float32"))
    np.testing.assert_allclose(_np(value), focal.mean(-1), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_focal_options(backend_name: str, from_logits: bool) -> None:
    p = _softmax(LOGITS.astype("float64"))
    y = ONE_HOT * 0.9 + 0.1 / 4
    expected = (0.5 * (1 - p) ** 3.0 * -y * np.log(p)).sum(-1)
    loss = losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=from_logits, label_smoothing=0.1,
                                               reduction="none")
    with backend.use(backend_name):
        value = loss(ONE_HOT, LOGITS if from_logits else p.astype("float32"))
    np.testing.assert_allclose(_np(value), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_sparse_ignore_class_masks_the_mean(backend_name: str) -> None:
    labels = np.array([[0, 3, -1], [2, -1, 1]])  # (2, 3) positions, -1 ignored
    logits = rng.normal(size=(2, 3, 4)).astype("float32")
    log_p = np.log(_softmax(logits.astype("float64")))
    valid = labels != -1
    per_position = np.where(valid, -np.take_along_axis(log_p, np.maximum(labels, 0)[..., None], -1)[..., 0], 0.0)
    with backend.use(backend_name):
        loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1)
        np.testing.assert_allclose(_np(loss(labels, logits)), per_position.sum() / valid.sum(), rtol=1e-5)
        none = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="none")
        np.testing.assert_allclose(_np(none(labels, logits)), per_position, rtol=1e-5, atol=1e-7)
        total = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="sum")
        np.testing.assert_allclose(_np(total(labels, logits)), per_position.sum(), rtol=1e-5)


SEGMENT_TRUE = (rng.uniform(size=(3, 4, 4, 2)) > 0.5).astype("float32")
SEGMENT_PRED = rng.uniform(size=(3, 4, 4, 2)).astype("float32")


def _tversky(y, p, alpha, beta, axis):
    tp = (y * p).sum(axis)
    fp = ((1 - p) * y).sum(axis)
    fn = (p * (1 - y)).sum(axis)
    return 1 - tp / (tp + alpha * fp + beta * fn + EPSILON)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_dice_and_tversky(backend_name: str) -> None:
    y, p = SEGMENT_TRUE.astype("float64"), SEGMENT_PRED.astype("float64")
    dice_all = 1 - 2 * (y * p).sum() / (y.sum() + p.sum() + EPSILON)
    dice_each = 1 - 2 * (y * p).sum((1, 2, 3)) / (y.sum((1, 2, 3)) + p.sum((1, 2, 3)) + EPSILON)
    with backend.use(backend_name):
        np.testing.assert_allclose(_np(losses.Dice()(SEGMENT_TRUE, SEGMENT_PRED)), dice_all, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.dice(SEGMENT_TRUE, SEGMENT_PRED, axis=(1, 2, 3))), dice_each, rtol=1e-5)
        np.testing.assert_allclose(_np(losses.Dice(axis=[1, 2, 3])(SEGMENT_TRUE, SEGMENT_PRED)), dice_each.mean(),
                                   rtol=1e-5)
        np.testing.assert_allclose(_np(losses.Tversky(alpha=0.3, beta=0.7)(SEGMENT_TRUE, SEGMENT_PRED)),
                                   _tversky(y, p, 0.3, 0.7, None), rtol=1e-5)
        np.testing.assert_allclose(_np(losses.tversky(SEGMENT_TRUE, SEGMENT_PRED, 0.2, 0.8, axis=(1, 2))),
                                   _tversky(y, p, 0.2, 0.8, (1, 2)), rtol=1e-5)
        # alpha = beta = 0.5 is the Dice loss
        np.testing.assert_allclose(_np(losses.tversky(SEGMENT_TRUE, SEGMENT_PRED)), dice_all, rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_ctc_against_the_paths_summed_by_hand(backend_name: str) -> None:
    # Two steps, one label a: the paths are (a, a), (blank, a) and (a, blank).
    logits = rng.normal(size=(3, 2, 3)).astype("float32")
    labels = np.array([[1, 0], [2, 0], [2, 1]])
    p = _softmax(logits.astype("float64"))
    expected = []
    for i, a in enumerate([1, 2]):
        expected.append(-np.log(p[i, 0, a] * p[i, 1, a] + p[i, 0, 0] * p[i, 1, a] + p[i, 0, a] * p[i, 1, 0]))
    expected.append(-np.log(p[2, 0, 2] * p[2, 1, 1]))  # two labels in two steps: one path
    with backend.use(backend_name):
        np.testing.assert_allclose(_np(losses.ctc(labels, logits)), expected, rtol=1e-4)
        np.testing.assert_allclose(_np(losses.CTC()(labels, logits)), np.mean(expected), rtol=1e-4)
    with pytest.raises(ValueError, match=r"y_true must hold integer labels of shape \(batch_size, max_length\)"):
        losses.ctc(labels[:, :, None], logits)


def _circle(labels, embeddings, gamma, margin, remove_diagonal):
    distances = np.maximum(1 - embeddings @ embeddings.T, 0)
    positive = labels[:, None] == labels[None, :]
    negative = ~positive
    if remove_diagonal:
        positive &= ~np.eye(len(labels), dtype=bool)
    positive_terms = -gamma * np.maximum((margin + distances) * positive, 0) * (margin - distances)
    negative_terms = gamma * np.maximum((1 + margin - distances) * negative, 0) * (1 - margin - distances)

    def logsumexp(x, mask):
        x = np.where(mask, x, -np.inf)
        top = np.max(x, axis=1, keepdims=True)
        return np.squeeze(top, 1) + np.log(np.sum(np.exp(x - np.where(np.isfinite(top), top, 0)), axis=1))

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.logaddexp(0, logsumexp(positive_terms, positive) + logsumexp(negative_terms, negative))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_circle(backend_name: str) -> None:
    embeddings = rng.normal(size=(8, 5))
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 1, 0, 3])  # class 3 has no positive: a loss of 0, masked out of the mean
    expected = _circle(labels, embeddings, 80.0, 0.4, True)
    assert expected[-1] == 0.0
    with backend.use(backend_name):
        values = _np(losses.circle(labels, embeddings.astype("float32")))
        np.testing.assert_allclose(values, expected, rtol=1e-4, atol=1e-5)
        value = losses.Circle()(labels, embeddings.astype("float32"))
        np.testing.assert_allclose(_np(value), expected.sum() / (expected > 0).sum(), rtol=1e-4)
        other = losses.Circle(gamma=5.0, margin=0.2, remove_diagonal=False, reduction="none")
        np.testing.assert_allclose(_np(other(labels, embeddings.astype("float32"))),
                                   _circle(labels, embeddings, 5.0, 0.2, False), rtol=1e-4, atol=1e-5)


def test_generalized_cross_entropy_checks_q() -> None:
    assert losses.CategoricalGeneralizedCrossEntropy().get_config()["q"] == 0.5
    for q in (0, 1, 1.5, -0.2):
        with pytest.raises(ValueError, match="q must be in the interval"):
            losses.CategoricalGeneralizedCrossEntropy(q=q)


# --- weights, masks, reductions ----------------------------------------------------------------------------

SEQUENCE_TRUE = rng.normal(size=(4, 5, 3)).astype("float32")
SEQUENCE_PRED = rng.normal(size=(4, 5, 3)).astype("float32")
PER_STEP = ((SEQUENCE_TRUE - SEQUENCE_PRED).astype("float64") ** 2).mean(-1)  # (4, 5)
MASK = rng.uniform(size=(4, 5)) > 0.4
STEP_WEIGHTS = rng.uniform(size=(4, 5)).astype("float32")
SAMPLE_WEIGHTS = rng.uniform(size=4).astype("float32")


def _masked_prediction(B, backend_name: str):
    prediction = B.convert_to_tensor(SEQUENCE_PRED)
    if backend_name == "torch":
        prediction._keras_mask = B.convert_to_tensor(MASK)  # as a masking layer leaves it on its output
    else:
        losses.loss.set_keras_mask(prediction, B.convert_to_tensor(MASK))
    return prediction


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"])
def test_mask_of_the_prediction_and_weights_per_timestep(backend_name: str, reduction: str) -> None:
    weights = STEP_WEIGHTS * MASK
    if reduction in ("sum_over_batch_size", "mean"):  # kept steps scaled so that the mean is over them
        weights = weights * MASK.size / MASK.sum()
    weighted = PER_STEP * weights
    expected = {"sum_over_batch_size": weighted.mean(), "mean": weighted.mean(), "sum": weighted.sum(),
                "mean_with_sample_weight": weighted.sum() / weights.sum(), "none": weighted}[reduction]
    with backend.use(backend_name) as B:
        loss = losses.MeanSquaredError(reduction=reduction)
        value = loss(SEQUENCE_TRUE, _masked_prediction(B, backend_name), sample_weight=STEP_WEIGHTS)
        np.testing.assert_allclose(_np(value), expected, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_mask_alone_averages_over_the_kept_steps(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        value = losses.MeanSquaredError()(SEQUENCE_TRUE, _masked_prediction(B, backend_name))
        np.testing.assert_allclose(_np(value), PER_STEP[MASK].mean(), rtol=1e-5)
        # a weight per sample covers each of its timesteps
        value = losses.MeanSquaredError()(SEQUENCE_TRUE, _masked_prediction(B, backend_name),
                                          sample_weight=SAMPLE_WEIGHTS)
        expected = (PER_STEP * SAMPLE_WEIGHTS[:, None] * MASK).sum() / MASK.sum()
        np.testing.assert_allclose(_np(value), expected, rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_mean_with_sample_weight_divides_by_the_weights_as_given(backend_name: str) -> None:
    # One weight per sample of a sequence counts once, not once per timestep (Keras's divisor).
    weighted = PER_STEP * SAMPLE_WEIGHTS[:, None]
    with backend.use(backend_name):
        loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
        for weights in (SAMPLE_WEIGHTS[:, None], SAMPLE_WEIGHTS):
            np.testing.assert_allclose(_np(loss(SEQUENCE_TRUE, SEQUENCE_PRED, sample_weight=weights)),
                                       weighted.sum() / SAMPLE_WEIGHTS.sum(), rtol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_zero_weights_give_zero_not_nan(backend_name: str) -> None:
    with backend.use(backend_name):
        loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
        assert _np(loss(SEQUENCE_TRUE, SEQUENCE_PRED, sample_weight=np.zeros(4, "float32"))) == 0.0
        masked_all = losses.SparseCategoricalCrossentropy(ignore_class=0, from_logits=True)
        assert _np(masked_all(np.zeros((4, 5)), SEQUENCE_PRED)) == 0.0


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_dtype(backend_name: str) -> None:
    assert losses.MeanSquaredError().dtype == "float32"
    with backend.use(backend_name) as B:
        half = B.cast(B.convert_to_tensor(SEQUENCE_PRED), "float16")
        value = losses.MeanSquaredError()(SEQUENCE_TRUE, half)
        assert B.dtype_of(value) == "float32"
        loss = losses.MeanSquaredError(dtype="float16")
        assert loss.dtype == "float16" and loss.get_config()["dtype"] == "float16"
        assert B.dtype_of(loss(SEQUENCE_TRUE, SEQUENCE_PRED)) == "float16"


# --- names and configs ------------------------------------------------------------------------------------

ALL_LOSSES = [
    losses.MeanSquaredError(reduction="sum", name="my_mse"), losses.MeanAbsoluteError(),
    losses.MeanAbsolutePercentageError(), losses.MeanSquaredLogarithmicError(), losses.Huber(delta=2.5),
    losses.LogCosh(), losses.CosineSimilarity(axis=0), losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.0, from_logits=True),
    losses.CategoricalCrossentropy(label_smoothing=0.2, reduction="none"),
    losses.CategoricalFocalCrossentropy(alpha=0.4, gamma=3.0, axis=-1),
    losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2), losses.KLDivergence(), losses.Poisson(),
    losses.Hinge(), losses.SquaredHinge(), losses.CategoricalHinge(reduction=None), losses.Dice(axis=(1, 2)),
    losses.Tversky(alpha=0.2, beta=0.8), losses.CTC(), losses.Circle(gamma=10.0, margin=0.1, remove_diagonal=False),
    losses.CategoricalGeneralizedCrossEntropy(q=0.7),
]


@pytest.mark.parametrize("loss", ALL_LOSSES, ids=lambda loss: type(loss).__name__)
def test_every_loss_round_trips_its_config(loss: losses.Loss) -> None:
    config = loss.get_config()
    assert {"name", "reduction"} <= set(config)
    assert type(loss).from_config(config).get_config() == config
    serialized = losses.serialize(loss)
    assert serialized["class_name"] == type(loss).__name__
    for again in (losses.get(serialized), losses.deserialize(serialized)):
        assert type(again) is type(loss) and again.get_config() == config


@pytest.mark.parametrize("name, cls", [
    ("log_cosh", losses.LogCosh), ("logcosh", losses.LogCosh), ("poisson", losses.Poisson),
    ("squared_hinge", losses.SquaredHinge), ("categorical_hinge", losses.CategoricalHinge),
    ("binary_focal_crossentropy", losses.BinaryFocalCrossentropy), ("dice", losses.Dice), ("ctc", losses.CTC),
    ("categorical_focal_crossentropy", losses.CategoricalFocalCrossentropy), ("tversky", losses.Tversky),
    ("circle", losses.Circle), ("cosine_similarity", losses.CosineSimilarity), ("bce", losses.BinaryCrossentropy),
    ("Poisson", losses.Poisson), ("msle", losses.MeanSquaredLogarithmicError),
])
def test_get_the_new_names(name: str, cls: type) -> None:
    loss = losses.get(name)
    assert type(loss) is cls and loss.reduction == "sum_over_batch_size"


def test_deserialize_names_give_functions_and_classes() -> None:
    assert losses.deserialize("mse") is losses.mean_squared_error
    assert losses.deserialize("log_cosh") is losses.log_cosh
    assert losses.deserialize("Dice") is losses.Dice
    assert losses.deserialize("mine", custom_objects={"mine": len}) is len
    with pytest.raises(ValueError, match="Unknown loss 'dicee'. Did you mean 'dice'"):
        losses.deserialize("dicee")
    with pytest.raises(TypeError, match="deserialize: name must be"):
        losses.deserialize(3)


def test_function_wrapper_config_names_a_registered_function() -> None:
    @saving.register_lamina_serializable(package="LossTests")
    def scaled_error(y_true, y_pred, scale=1.0):
        return scale * backend.impl.mean(backend.impl.abs(y_pred - y_true), axis=-1)

    loss = losses.LossFunctionWrapper(scaled_error, reduction="sum", name="scaled", scale=3.0)
    config = loss.get_config()
    assert config["scale"] == 3.0 and config["name"] == "scaled"
    again = losses.deserialize(losses.serialize(loss))
    assert isinstance(again, losses.LossFunctionWrapper) and again.fn is scaled_error
    with backend.use("torch"):
        y_true, y_pred = SEQUENCE_TRUE[:, 0], SEQUENCE_PRED[:, 0]
        np.testing.assert_allclose(_np(again(y_true, y_pred)), 3.0 * np.abs(y_true - y_pred).mean(-1).sum(),
                                   rtol=1e-5)


def test_subclass_without_call_says_what_to_write() -> None:
    class Unfinished(losses.Loss):
        pass

    with pytest.raises(NotImplementedError, match=r"Unfinished must implement call\(y_true, y_pred\)"):
        Unfinished()(np.ones(2), np.ones(2))


def test_bad_axis_type() -> None:
    with pytest.raises(ValueError, match="axis must be an int"):
        losses.CategoricalCrossentropy(axis=True)
