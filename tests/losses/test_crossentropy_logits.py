"""Cross-entropies at extreme logits: finite values and gradients, the logits behind a softmax or sigmoid
output found on every backend (jitted on jax too), and a saturated softmax model that still trains."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, losses

EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 3.0, -1e4]], dtype="float32")
LABELS = np.array([1, 0, 2])
ONE_HOT = np.eye(3, dtype="float32")[LABELS]

# name -> (loss from logits, targets)
FROM_LOGITS = {
    "binary": (losses.BinaryCrossentropy(from_logits=True), ONE_HOT),
    "binary_focal": (losses.BinaryFocalCrossentropy(from_logits=True, gamma=0.5), ONE_HOT),
    "categorical": (losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), ONE_HOT),
    "categorical_focal": (losses.CategoricalFocalCrossentropy(from_logits=True), ONE_HOT),
    "sparse": (losses.SparseCategoricalCrossentropy(from_logits=True), LABELS),
}


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype("float64")
    top = z.max(-1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(-1, keepdims=True))


def _value_and_gradient(backend_name: str, fn, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """fn(logits) and its gradient with respect to the logits, with the backend's own autodiff."""
    if backend_name == "torch":
        import torch

        z = torch.tensor(logits, requires_grad=True)
        value = fn(z)
        value.backward()
        return value.detach().numpy(), z.grad.numpy()
    import jax

    value, gradient = jax.value_and_grad(fn)(logits)
    return np.asarray(value), np.asarray(gradient)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("name", list(FROM_LOGITS))
def test_extreme_logits_give_finite_values_and_gradients(backend_name: str, name: str) -> None:
    loss, targets = FROM_LOGITS[name]
    with backend.use(backend_name):
        value, gradient = _value_and_gradient(backend_name, lambda z: loss(targets, z), EXTREME)
    assert np.isfinite(value) and np.isfinite(gradient).all(), (value, gradient)
    if name == "sparse":  # exact: the mean of -log softmax at the labels, about 6667
        expected = -_log_softmax(EXTREME)[np.arange(3), LABELS].mean()
        np.testing.assert_allclose(value, expected, rtol=1e-5)


# The same losses given probabilities, made by the backend's own activation from the same logits.
FROM_ACTIVATION = {
    "binary": (losses.binary_crossentropy, "sigmoid"),
    "binary_focal": (lambda y, p: losses.binary_focal_crossentropy(y, p, gamma=0.5), "sigmoid"),
    "categorical": (lambda y, p: losses.categorical_crossentropy(y, p, label_smoothing=0.1), "softmax"),
    "categorical_focal": (losses.categorical_focal_crossentropy, "softmax"),
    "sparse": (losses.sparse_categorical_crossentropy, "softmax"),
}


def _per_sample(backend_name: str, name: str, jit: bool = False) -> np.ndarray:
    function, activation = FROM_ACTIVATION[name]
    targets = FROM_LOGITS[name][1]
    with backend.use(backend_name) as B:
        def run(z):
            probabilities = B.softmax(z, -1) if activation == "softmax" else B.sigmoid(z)
            return function(targets, probabilities)

        if jit:
            import jax

            run = jax.jit(run)
        return np.asarray(B.convert_to_numpy(run(B.convert_to_tensor(EXTREME))), dtype="float64")


@pytest.mark.parametrize("name", list(FROM_ACTIVATION))
def test_every_backend_computes_from_the_logits_of_its_activation(name: str) -> None:
    loss = FROM_LOGITS[name][0]
    targets = FROM_LOGITS[name][1]
    with backend.use("torch"):
        reference = np.asarray(backend.impl.convert_to_numpy(
            type(loss)(**{**loss.get_config(), "reduction": "none"})(targets, EXTREME)), dtype="float64")
    assert np.isfinite(reference).all()
    for backend_name, jit in (("torch", False), ("jax", False), ("jax", True), ("numpy", False)):
        np.testing.assert_allclose(_per_sample(backend_name, name, jit), reference, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name} on {backend_name}{' (jit)' if jit else ''}")
    if name in ("categorical", "sparse"):  # a clipped probability would cap these near 16.1
        assert reference.max() > 1000


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
@pytest.mark.parametrize("loss, activation", [
    ("sparse_categorical_crossentropy", "softmax"),
    (losses.CategoricalFocalCrossentropy(), "softmax"),
    (losses.BinaryFocalCrossentropy(), "sigmoid"),
])
def test_a_saturated_model_still_trains(backend_name: str, loss, activation: str) -> None:
    from lamina.layers import Dense, Input
    from lamina.models import Sequential

    x = np.eye(4, dtype="float32")[np.arange(8) % 4]
    labels = (np.arange(8) + 1) % 3
    units = 1 if activation == "sigmoid" else 3
    y = (labels[:, None] > 0).astype("float32") if activation == "sigmoid" else labels
    if isinstance(loss, losses.CategoricalFocalCrossentropy):
        y = np.eye(3, dtype="float32")[labels]
    with backend.use(backend_name):
        lamina.set_random_seed(0)
        model = Sequential([Input((4,)), Dense(units, activation=activation)])
        kernel = np.zeros((4, units), "float32")
        kernel[:, 0] = -60.0 if activation == "sigmoid" else 60.0  # certain of class 0 (or of 0)
        model.layers[-1].set_weights([kernel, np.zeros(units, "float32")])
        model.compile(optimizer=lamina.optimizers.SGD(1.0), loss=loss)
        history = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    if loss == "sparse_categorical_crossentropy":
        assert history[0] == pytest.approx(45.0, rel=1e-3)  # 60 for the 6 samples of 8 it gets wrong
    assert np.isfinite(history).all()
    assert history[-1] < history[0] - 0.1, history


def test_torch_reuses_a_softmaxs_log_probabilities_only_while_its_logits_are_unchanged() -> None:
    """The torch softmax keeps its log-probabilities for the cross-entropy; logits changed in place since
    then give the cross-entropy of their new values."""
    import torch

    with backend.use("torch") as B:
        logits = torch.tensor(EXTREME[:, :2] / 1e4)
        probabilities = B.softmax(logits)
        np.testing.assert_allclose(B.convert_to_numpy(probabilities), np.exp(_log_softmax(EXTREME[:, :2] / 1e4)),
                                   rtol=1e-6)
        loss = losses.SparseCategoricalCrossentropy()
        before = float(loss(LABELS[:, None] % 2, probabilities))
        with torch.no_grad():
            logits.mul_(-1.0)
        want = -_log_softmax(-EXTREME[:, :2] / 1e4)[np.arange(3), LABELS % 2].mean()
        assert float(loss(LABELS[:, None] % 2, probabilities)) == pytest.approx(want, rel=1e-6)
        assert before != pytest.approx(want)


@pytest.mark.parametrize("label", [-1, -100, 3])
def test_sparse_labels_out_of_range_fail_on_torch(label: int) -> None:
    """Every label outside the classes fails, nll_loss's default ignore_index (-100) too."""
    with backend.use("torch"):
        with pytest.raises((IndexError, RuntimeError)):
            losses.sparse_categorical_crossentropy(np.array([0, label, 1]), EXTREME, from_logits=True)
