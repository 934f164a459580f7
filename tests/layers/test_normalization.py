"""Normalization layers: check_layer against NumPy, BatchNormalization's moving statistics in fit, masks, errors."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from check import check_layer, make_input
from lamina import backend
from lamina.layers import (BatchNormalization, Dense, GroupNormalization, LayerNormalization, RMSNormalization,
                           SpectralNormalization, UnitNormalization)
from lamina.models import Sequential

RANDOM = {"beta_initializer": "random_normal", "gamma_initializer": "random_normal"}


def standardize(x: np.ndarray, axes: tuple, epsilon: float) -> np.ndarray:
    x = x.astype(np.float64)
    return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + epsilon)


def make_batch_normalization(**kwargs) -> BatchNormalization:
    return BatchNormalization(moving_mean_initializer="random_normal", moving_variance_initializer="ones",
                              **RANDOM, **kwargs)


def test_batch_normalization_infers_with_moving_statistics() -> None:
    def reference(x, w):
        gamma, beta, mean, variance = w
        return (x - mean) / np.sqrt(variance + 1e-3) * gamma + beta

    check_layer(make_batch_normalization, (4, 3, 5), reference, expected_output_shape=(4, 3, 5))
    layer = BatchNormalization()
    layer.compute_output_shape((None, 5))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.trainable for w in layer.weights] == [True, True, False, False]


def test_batch_normalization_on_a_middle_axis() -> None:
    check_layer(lambda: make_batch_normalization(axis=1, center=False, epsilon=0.01), (4, 3, 5),
                lambda x, w: (x - w[1][:, None]) / np.sqrt(w[2][:, None] + 0.01) * w[0][:, None])


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_batch_normalization_trains_on_batch_statistics(name: str) -> None:
    x = make_input((6, 4, 3))
    with backend.use(name) as B:
        layer = BatchNormalization(momentum=0.9)
        outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), training=True))
        np.testing.assert_allclose(outputs, standardize(x, (0, 1), 1e-3), atol=1e-5)
        np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean((0, 1)), atol=1e-6)
        np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * x.var((0, 1)), atol=1e-6)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_batch_normalization_leaves_masked_steps_out_of_the_statistics(name: str) -> None:
    x = make_input((3, 5, 2))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)
    kept = x[mask]  # (steps kept, channels)
    with backend.use(name) as B:
        layer = BatchNormalization(momentum=0.0)
        outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), training=True, mask=B.convert_to_tensor(mask)))
        np.testing.assert_allclose(layer.moving_mean.numpy(), kept.mean(0), atol=1e-5)
        np.testing.assert_allclose(layer.moving_variance.numpy(), kept.var(0), atol=1e-5)
        expected = (x - kept.mean(0)) / np.sqrt(kept.var(0) + 1e-3)
        np.testing.assert_allclose(outputs[mask], expected[mask], atol=1e-4)


def fit_batch_normalization(name: str, frozen: bool, jit_compile) -> tuple[BatchNormalization, np.ndarray]:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 3)) * 2.0 + 5.0).astype("float32")
    y = rng.standard_normal((64, 1)).astype("float32")
    with backend.use(name):
        lamina.set_random_seed(1)
        normalization = BatchNormalization(momentum=0.5, trainable=not frozen)
        model = Sequential([normalization, Dense(1)])
        model.compile("sgd", "mse", jit_compile=jit_compile)
        model.fit(x, y, batch_size=16, epochs=3, verbose=0)
        predictions = model.predict(x, verbose=0)
        statistics = [normalization.moving_mean.numpy(), normalization.moving_variance.numpy()]
        expected = (x - statistics[0]) / np.sqrt(statistics[1] + 1e-3) * normalization.gamma.numpy() \
            + normalization.beta.numpy()
        dense = model.layers[-1]
        np.testing.assert_allclose(predictions, expected @ dense.kernel.numpy() + dense.bias.numpy(), atol=1e-4)
        return normalization, x


@pytest.mark.parametrize("name, jit_compile", [("torch", False), ("torch", True), ("jax", "auto")])
def test_fit_updates_the_moving_statistics(name: str, jit_compile, monkeypatch) -> None:
    if name == "torch" and jit_compile:
        from lamina.backend.torch import trainer as torch_trainer

        monkeypatch.setattr(torch_trainer, "COMPILE_BACKEND", "aot_eager")  # tracing is what is tested
    layer, x = fit_batch_normalization(name, frozen=False, jit_compile=jit_compile)
    # 12 updates with momentum 0.5: the moving averages sit at the batch statistics
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(0), atol=0.6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), x.var(0), rtol=0.5)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_a_frozen_batch_normalization_keeps_its_statistics(name: str) -> None:
    layer, _ = fit_batch_normalization(name, frozen=True, jit_compile="auto")
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3, np.float32))
    np.testing.assert_array_equal(layer.moving_variance.numpy(), np.ones(3, np.float32))
    np.testing.assert_array_equal(layer.gamma.numpy(), np.ones(3, np.float32))


def test_batch_normalization_config_and_errors() -> None:
    config = BatchNormalization(momentum=0.9, synchronized=True).get_config()
    assert config["momentum"] == 0.9 and config["synchronized"] is True and config["epsilon"] == 1e-3
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        BatchNormalization(axis=3).compute_output_shape((None, 4))
    with pytest.raises(ValueError, match="momentum"):
        BatchNormalization(momentum=2.0)


def test_layer_normalization() -> None:
    check_layer(lambda: LayerNormalization(**RANDOM), (2, 3, 4),
                lambda x, w: standardize(x, (-1,), 1e-3) * w[0] + w[1], expected_output_shape=(2, 3, 4))


def test_layer_normalization_over_several_axes() -> None:
    layer = LayerNormalization(axis=[1, 2])
    layer.compute_output_shape((None, 3, 4))
    assert [tuple(w.shape) for w in layer.weights] == [(3, 4), (3, 4)]
    check_layer(lambda: LayerNormalization(axis=[1, 2], epsilon=0.1, **RANDOM), (2, 3, 4),
                lambda x, w: standardize(x, (1, 2), 0.1) * w[0] + w[1])


def test_layer_normalization_with_rms_scaling() -> None:
    layer = LayerNormalization(rms_scaling=True, scale=False)
    layer.compute_output_shape((None, 4))
    assert [w.name for w in layer.weights] == ["gamma"]
    check_layer(lambda: LayerNormalization(rms_scaling=True, gamma_initializer="random_normal"), (2, 3, 4),
                lambda x, w: x / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * w[0])


def test_group_normalization() -> None:
    def reference(x, w):
        grouped = x.reshape(2, 3, 2, 3)  # (batch, steps, groups, channels per group)
        return standardize(grouped, (1, 3), 1e-3).reshape(x.shape) * w[0] + w[1]

    check_layer(lambda: GroupNormalization(groups=2, **RANDOM), (2, 3, 6), reference, expected_output_shape=(2, 3, 6))


def test_group_normalization_refuses_groups_that_do_not_divide_the_channels() -> None:
    with pytest.raises(ValueError, match="groups"):
        GroupNormalization(groups=4).compute_output_shape((None, 3, 6))


def test_unit_normalization() -> None:
    check_layer(lambda: UnitNormalization(axis=[1, 2]), (2, 3, 4),
                lambda x, w: x / np.sqrt((x ** 2).sum((1, 2), keepdims=True)), train=False)


def test_rms_normalization() -> None:
    def reference(x, w):
        return x / np.sqrt(np.mean(x ** 2, -1, keepdims=True) + 1e-6) * w[0]

    check_layer(RMSNormalization, (2, 3, 4), reference, expected_output_shape=(2, 3, 4))
    assert RMSNormalization().get_config()["epsilon"] == 1e-6


def spectral_normalized(kernel: np.ndarray, vector_u: np.ndarray, iterations: int) -> np.ndarray:
    for _ in range(iterations):
        vector_v = vector_u @ kernel.T
        vector_v = vector_v / np.linalg.norm(vector_v)
        vector_u = vector_v @ kernel
        vector_u = vector_u / np.linalg.norm(vector_u)
    return kernel / (vector_v @ kernel @ vector_u.T)


def test_spectral_normalization_runs_the_wrapped_layer_on_the_normalized_kernel() -> None:
    check_layer(lambda: SpectralNormalization(Dense(3), power_iterations=2), (4, 5),
                lambda x, w: x @ spectral_normalized(w[1], w[0], 2) + w[2], expected_output_shape=(4, 3), atol=1e-4)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_spectral_normalization_divides_the_kernel_by_its_largest_singular_value(name: str) -> None:
    x = make_input((4, 5))
    with backend.use(name) as B:
        dense = Dense(3, use_bias=False)
        layer = SpectralNormalization(dense, power_iterations=30)
        layer(B.convert_to_tensor(x))
        left, _, right = np.linalg.svd(make_input((5, 3), seed=4), full_matrices=False)
        kernel = (left * [3.0, 1.0, 0.5]) @ right  # singular values far apart: power iteration converges fast
        layer.set_weights([layer.vector_u.numpy(), kernel.astype(np.float32)])
        outputs = B.convert_to_numpy(layer(B.convert_to_tensor(x), training=True))
        normalized = kernel / 3.0
        np.testing.assert_allclose(outputs, x @ normalized, atol=1e-4)
        np.testing.assert_allclose(dense.kernel.numpy(), kernel, atol=1e-6)  # the stored weight is kept
        assert layer.vector_u.numpy().shape == (1, 3)
        np.testing.assert_allclose(B.convert_to_numpy(layer(B.convert_to_tensor(x))), x @ normalized, atol=1e-4)


def test_spectral_normalization_needs_a_kernel() -> None:
    with pytest.raises(ValueError, match="kernel"):
        SpectralNormalization(UnitNormalization()).compute_output_shape((None, 3))


# --- masks (Keras 3: batch, layer, group and unit normalization pass a mask on; RMS and spectral drop it) ----

STEP_MASK = np.array([[True, True, False], [True, False, False]])


@pytest.mark.parametrize("make", [BatchNormalization, LayerNormalization, lambda: GroupNormalization(groups=2),
                                  UnitNormalization], ids=["batch", "layer", "group", "unit"])
def test_normalizations_pass_the_mask_on(make) -> None:  # noqa: ANN001
    check_layer(make, (2, 3, 4), input_mask=STEP_MASK, expected_mask=STEP_MASK, train=False)


@pytest.mark.parametrize("make", [RMSNormalization, lambda: SpectralNormalization(Dense(2))], ids=["rms", "spectral"])
def test_rms_and_spectral_normalization_drop_the_mask_with_a_warning(make) -> None:  # noqa: ANN001
    with pytest.warns(UserWarning, match="does not support masking"):
        check_layer(make, (2, 3, 4), input_mask=STEP_MASK, expected_mask=None, train=False)
