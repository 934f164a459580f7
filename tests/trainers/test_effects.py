"""Regularizers, constraints, add_loss, class_weight and saturated softmax outputs, judged by what they do to
the reported loss and the trained weights, against NumPy, on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import constraints, regularizers
from lamina.layers import Dense, Layer
from lamina.models import Sequential

rng = np.random.default_rng(7)
X = rng.normal(size=(16, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
KERNEL = rng.normal(size=(3, 1)).astype("float32")
BIAS = np.array([0.1], "float32")


def _linear(learning_rate: float = 0.1, **dense_options) -> Sequential:
    """Dense(1) on 3 features with fixed weights, plain SGD and mse: its steps are easy to redo in NumPy."""
    model = Sequential([Dense(1, input_shape=(3,), **dense_options)])
    model.set_weights([KERNEL, BIAS])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=learning_rate), loss="mse")
    return model


def _mse_and_gradients(x, y, kernel, bias, weights=None):
    """The mean squared error of x @ kernel + bias (weighted per sample, divided by the sample count) and its
    gradients with respect to kernel and bias, in float64."""
    x, y, kernel, bias = (np.asarray(a, "float64") for a in (x, y, kernel, bias))
    weights = np.ones(len(x)) if weights is None else np.asarray(weights, "float64")
    error = x @ kernel + bias - y  # (n, 1)
    loss = (weights * error[:, 0] ** 2).sum() / len(x)
    d_error = 2.0 * weights[:, None] * error / len(x)
    return loss, x.T @ d_error, d_error.sum(0)


# --- regularizers --------------------------------------------------------------------------------------


def test_l2_kernel_regularizer_adds_its_penalty_to_the_loss(training_backend):
    model = _linear(kernel_regularizer=regularizers.L2(0.1))
    mse, _, _ = _mse_and_gradients(X, Y, KERNEL, BIAS)
    penalty = 0.1 * (KERNEL.astype("float64") ** 2).sum()
    assert penalty > 0.05  # big enough to be seen
    assert model.evaluate(X, Y, batch_size=16, verbose=0) == pytest.approx(mse + penalty, rel=1e-5)
    # the same loss is what a training step reports (computed before its update)
    assert model.train_on_batch(X, Y) == pytest.approx(mse + penalty, rel=1e-5)


def test_l1_l2_bias_regularizer_adds_its_penalty(training_backend):
    bias = np.array([-0.7], "float32")
    model = _linear(bias_regularizer=regularizers.L1L2(l1=0.2, l2=0.3))
    model.set_weights([KERNEL, bias])
    mse, _, _ = _mse_and_gradients(X, Y, KERNEL, bias)
    assert model.evaluate(X, Y, batch_size=16, verbose=0) == pytest.approx(mse + 0.2 * 0.7 + 0.3 * 0.49, rel=1e-5)


def test_l2_regularizer_step_follows_the_penalty_gradient(training_backend):
    # One full-batch SGD step: kernel -= lr * (d mse / d kernel + 2 * l2 * kernel).
    model = _linear(learning_rate=0.1, kernel_regularizer=regularizers.L2(0.5))
    model.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    _, d_kernel, d_bias = _mse_and_gradients(X, Y, KERNEL, BIAS)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, KERNEL - 0.1 * (d_kernel + 2 * 0.5 * KERNEL), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, BIAS - 0.1 * d_bias, rtol=1e-5, atol=1e-6)


def _ridge(l2: float) -> np.ndarray:
    """Kernel and bias minimising mean((x @ kernel + bias - y) ** 2) + l2 * sum(kernel ** 2), solved exactly."""
    a = np.hstack([X, np.ones((len(X), 1))]).astype("float64")
    penalty = l2 * np.diag([1.0, 1.0, 1.0, 0.0])  # the bias is not penalised
    return np.linalg.solve(a.T @ a / len(X) + penalty, a.T @ Y / len(X))[:, 0]


def test_l2_regularizer_trains_to_the_ridge_solution(training_backend):
    # Full-batch gradient descent converges to the exact minimiser: with the penalty, ridge regression,
    # whose kernel is shorter than the least-squares one.
    plain = _linear(learning_rate=0.2)
    regularized = _linear(learning_rate=0.2, kernel_regularizer=regularizers.L2(0.2))
    for model in (plain, regularized):
        model.fit(X, Y, batch_size=16, epochs=60, verbose=0)
    for model, l2 in ((plain, 0.0), (regularized, 0.2)):
        np.testing.assert_allclose(np.concatenate([w.ravel() for w in model.get_weights()]), _ridge(l2),
                                   atol=1e-3)
    assert np.linalg.norm(regularized.get_weights()[0]) < 0.8 * np.linalg.norm(plain.get_weights()[0])


def test_activity_regularizer_penalises_the_outputs(training_backend):
    model = _linear(activity_regularizer=regularizers.L1(0.05))
    outputs = X.astype("float64") @ KERNEL + BIAS
    mse, _, _ = _mse_and_gradients(X, Y, KERNEL, BIAS)
    assert model.evaluate(X, Y, batch_size=16, verbose=0) == pytest.approx(mse + 0.05 * np.abs(outputs).sum(),
                                                                              rel=1e-5)


# --- constraints ---------------------------------------------------------------------------------------


def test_non_neg_constraint_holds_after_fit(training_backend):
    y = -Y  # the unconstrained fit wants negative weights
    plain, constrained = _linear(), _linear(kernel_constraint=constraints.NonNeg())
    for model in (plain, constrained):
        model.fit(X, y, batch_size=4, epochs=5, verbose=0)
    assert plain.get_weights()[0].min() < -0.1  # so the constraint had something to do
    assert constrained.get_weights()[0].min() >= 0.0


def test_max_norm_constraint_holds_after_fit(training_backend):
    model = Sequential([Dense(4, input_shape=(3,), kernel_constraint=constraints.MaxNorm(0.5)), Dense(1)])
    model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.1), loss="mse")
    unconstrained = Sequential([Dense(4, input_shape=(3,)), Dense(1)])
    unconstrained.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.1), loss="mse")
    unconstrained.set_weights(model.get_weights())
    for each in (model, unconstrained):
        each.fit(X, 5 * Y, batch_size=8, epochs=8, verbose=0)
    norms = lambda kernel: np.sqrt((kernel.astype("float64") ** 2).sum(axis=0))  # noqa: E731 (one per unit)
    assert norms(unconstrained.get_weights()[0]).max() > 0.6
    assert norms(model.get_weights()[0]).max() <= 0.5 + 1e-5


def test_constraint_is_applied_after_every_step(training_backend):
    # One SGD step, then the projection: the kernel is max(kernel - lr * gradient, 0).
    y = -Y
    model = _linear(kernel_constraint=constraints.NonNeg())
    model.fit(X, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    _, d_kernel, _ = _mse_and_gradients(X, y, KERNEL, BIAS)
    np.testing.assert_allclose(model.get_weights()[0], np.maximum(KERNEL - 0.1 * d_kernel, 0.0), rtol=1e-5,
                               atol=1e-6)


# --- add_loss -------------------------------------------------------------------------------------------


class SquarePenalty(Layer):
    """Passes its input through and adds rate * sum(input ** 2) to the loss."""

    def __init__(self, rate: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * lamina.ops.sum(lamina.ops.square(inputs)))
        return inputs


def test_add_loss_changes_the_loss_by_exactly_the_added_amount(training_backend):
    plain = _linear()
    penalised = Sequential([Dense(1, input_shape=(3,)), SquarePenalty(0.01)])
    penalised.set_weights([KERNEL, BIAS])
    penalised.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    outputs = X.astype("float64") @ KERNEL + BIAS
    added = 0.01 * (outputs ** 2).sum()
    plain_loss = plain.evaluate(X, Y, batch_size=16, verbose=0)
    assert penalised.evaluate(X, Y, batch_size=16, verbose=0) == pytest.approx(plain_loss + added, rel=1e-5)
    # the added loss belongs to one call: evaluating again gives the same value, not twice the penalty
    assert penalised.evaluate(X, Y, batch_size=16, verbose=0) == pytest.approx(plain_loss + added, rel=1e-5)
    assert len(penalised.losses) == 1


def test_add_loss_is_trained_on(training_backend):
    # One SGD step on mse + rate * sum(outputs ** 2): the gradient gains 2 * rate * outputs.
    rate = 0.01
    model = Sequential([Dense(1, input_shape=(3,)), SquarePenalty(rate)])
    model.set_weights([KERNEL, BIAS])
    model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.fit(X, Y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    _, d_kernel, d_bias = _mse_and_gradients(X, Y, KERNEL, BIAS)
    outputs = X.astype("float64") @ KERNEL + BIAS
    d_kernel = d_kernel + X.T @ (2 * rate * outputs)
    d_bias = d_bias + (2 * rate * outputs).sum(0)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, KERNEL - 0.1 * d_kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, BIAS - 0.1 * d_bias, rtol=1e-5, atol=1e-6)


# --- class_weight ---------------------------------------------------------------------------------------

LABELS = (X[:, 0] > 0).astype("float32")  # class 0 and class 1, about half each


def test_class_weight_loss_is_the_weighted_mean(training_backend):
    model = _linear()
    weights = np.where(LABELS == 1, 1.0, 0.0)
    expected, _, _ = _mse_and_gradients(X, LABELS[:, None], KERNEL, BIAS, weights)
    assert model.train_on_batch(X, LABELS, class_weight={0: 0.0, 1: 1.0}) == pytest.approx(expected, rel=1e-5)
    model.set_weights([KERNEL, BIAS])
    weights = np.where(LABELS == 1, 3.0, 0.5)
    expected, _, _ = _mse_and_gradients(X, LABELS[:, None], KERNEL, BIAS, weights)
    history = model.fit(X, LABELS, class_weight={0: 0.5, 1: 3.0}, batch_size=16, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_class_weight_zero_ignores_that_class(training_backend):
    # Weight 0 on class 0: the step equals a step on the class-1 samples alone, whose mean is over fewer
    # samples, hence the learning rate scaled by their share of the batch.
    ones = LABELS == 1
    share = ones.sum() / len(LABELS)
    weighted = _linear(learning_rate=0.1)
    weighted.fit(X, LABELS, class_weight={0: 0.0, 1: 1.0}, batch_size=16, epochs=1, shuffle=False, verbose=0)
    alone = _linear(learning_rate=0.1 * share)
    alone.fit(X[ones], LABELS[ones], batch_size=16, epochs=1, shuffle=False, verbose=0)
    for mine, theirs in zip(weighted.get_weights(), alone.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    # and it differs from a step that counts class 0
    counted = _linear(learning_rate=0.1)
    counted.fit(X, LABELS, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert np.abs(counted.get_weights()[0] - weighted.get_weights()[0]).max() > 1e-3


def test_class_weight_with_one_hot_targets(training_backend):
    # With one-hot targets the class is the argmax: weight 0 on class 0 removes those samples' loss.
    model = Sequential([Dense(2, input_shape=(3,), activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    one_hot = np.eye(2, dtype="float32")[LABELS.astype(int)]
    probabilities = model.predict(X, verbose=0).astype("float64")
    per_sample = -np.log(probabilities[np.arange(16), LABELS.astype(int)])
    expected = (per_sample * LABELS).sum() / 16
    assert model.train_on_batch(X, one_hot, class_weight={0: 0.0, 1: 1.0}) == pytest.approx(expected, rel=1e-5)


# --- softmax outputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_saturated_softmax_model_reports_the_same_loss_on_torch_and_jax(loss):
    # A model whose softmax puts far less than 1e-7 on the true class: evaluate (jitted on jax) reports the
    # exact cross-entropy of its logits on both backends, not the value capped by clipping (about 16.1).
    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32")
    labels = np.array([1, 0, 2])
    kernel = np.array([[30.0, -30.0, 0.0], [-10.0, 25.0, 0.0]], "float32")
    logits = x.astype("float64") @ kernel
    log_probabilities = logits - logits.max(-1, keepdims=True)
    log_probabilities -= np.log(np.exp(log_probabilities).sum(-1, keepdims=True))
    expected = -log_probabilities[np.arange(3), labels].mean()
    assert expected > 20
    y = labels if loss.startswith("sparse") else np.eye(3, dtype="float32")[labels]
    results = {}
    for name in ("torch", "jax"):
        with lamina.backend.use(name):
            model = Sequential([Dense(3, input_shape=(2,), activation="softmax", use_bias=False)])
            model.set_weights([kernel])
            model.compile(optimizer="sgd", loss=loss)
            results[name] = model.evaluate(x, y, verbose=0)
    assert results["torch"] == pytest.approx(expected, rel=1e-5)
    assert results["jax"] == pytest.approx(results["torch"], rel=1e-6)
