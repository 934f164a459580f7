"""Core layers through check_layer (Dense, Activation, the dropouts and noise layers, Lambda, Masking, ...),
plus what it does not cover: training against inference, masks, configs with functions, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import lamina
import check
from check import check_layer
from lamina import backend, config
from lamina.layers import (Activation, ActivityRegularization, AlphaDropout, Dense, Dropout, Embedding, Flatten,
                           GaussianDropout, GaussianNoise, Identity, Input, Lambda, Masking, Reshape, SpatialDropout1D,
                           SpatialDropout2D, SpatialDropout3D)
from lamina.models import Model, Sequential


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_dense_with_activation() -> None:
    check_layer(lambda: Dense(4, activation="tanh"), (3, 5), lambda x, w: np.tanh(x @ w[0] + w[1]),
                expected_output_shape=(3, 4))


def test_dense_on_sequences_without_bias() -> None:
    check_layer(lambda: Dense(2, use_bias=False), (2, 3, 5), lambda x, w: x @ w[0], expected_output_shape=(2, 3, 2))


def test_dense_rejects_bad_units() -> None:
    with pytest.raises(ValueError, match="units"):
        Dense(0)


def test_activation() -> None:
    check_layer(lambda: Activation("softmax"), (3, 5), lambda x, w: softmax(x), expected_output_shape=(3, 5))


def test_dropout_is_identity_at_inference() -> None:
    check_layer(lambda: Dropout(0.5), (4, 6), lambda x, w: x, expected_output_shape=(4, 6))


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_dropout_in_training_zeroes_a_fraction_and_rescales(name: str) -> None:
    with backend.use(name) as B:
        outputs = B.convert_to_numpy(Dropout(0.25, seed=3)(B.ones((100, 100)), training=True))
    dropped = np.mean(outputs == 0.0)
    assert 0.2 < dropped < 0.3
    np.testing.assert_allclose(outputs[outputs != 0.0], 1.0 / 0.75, rtol=1e-6)


def test_dropout_rejects_bad_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)


def test_flatten() -> None:
    check_layer(Flatten, (2, 3, 4), lambda x, w: x.reshape(2, 12), expected_output_shape=(2, 12))


def test_reshape_with_minus_one() -> None:
    check_layer(lambda: Reshape((4, -1)), (2, 3, 4), lambda x, w: x.reshape(2, 4, 3), expected_output_shape=(2, 4, 3))


def test_reshape_rejects_a_bad_target() -> None:
    with backend.use("torch") as B:
        with pytest.raises(ValueError, match="Reshape"):
            Reshape((5,))(B.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="target_shape"):
        Reshape((-1, -1))


def test_embedding_looks_up_rows() -> None:
    check_layer(lambda: Embedding(10, 4), (3, 5), lambda x, w: w[0][x], input_dtype="int32", input_range=(0, 10),
                expected_output_shape=(3, 5, 4))


def test_dropout_noise_shape_broadcasts_the_zeros(training_backend: str) -> None:
    B = backend.impl
    layer = Dropout(0.5, noise_shape=(None, 1, 8), seed=2)
    outputs = B.convert_to_numpy(layer(B.ones((4, 6, 8)), training=True))
    zeros = outputs == 0.0
    assert np.all(zeros == zeros[:, :1, :])  # one pattern per sample and feature, shared by every step
    assert 0 < zeros.mean() < 1 and not np.all(zeros == zeros[:1])  # drawn per sample (the None axis)
    np.testing.assert_allclose(outputs[~zeros], 2.0)
    assert Dropout.from_config(layer.get_config()).noise_shape == (None, 1, 8)
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(None, 3, 8))(B.ones((4, 6, 8)), training=True)
    with pytest.raises(ValueError, match="noise_shape"):
        Dropout(0.5, noise_shape=(0, 1))


def test_flatten_channels_first_moves_channels_last() -> None:
    check_layer(lambda: Flatten(data_format="channels_first"), (2, 3, 4, 5),
                lambda x, w: np.transpose(x, (0, 2, 3, 1)).reshape(2, 60), expected_output_shape=(2, 60))
    with pytest.raises(ValueError, match="data_format"):
        Flatten(data_format="channels_middle")


def test_embedding_mask_zero() -> None:
    with backend.use("torch") as B:
        layer = Embedding(5, 2, mask_zero=True)
        mask = B.convert_to_numpy(layer.compute_mask(B.convert_to_tensor(np.array([[1, 0, 3]]))))
    np.testing.assert_array_equal(mask, [[True, False, True]])
    assert Embedding.from_config(layer.get_config()).mask_zero is True


# --- Dense and Embedding: the remaining arguments -------------------------------------------------------


def test_dense_with_lora_trains_only_the_low_rank_factors() -> None:
    def reference(x, w):
        kernel, bias, a, b = w
        return x @ (kernel + (4.0 / 2) * a @ b) + bias

    def make() -> Dense:
        return Dense(3, lora_rank=2, lora_alpha=4.0, kernel_initializer="glorot_uniform")

    # B starts at zero, so the generic check sees the plain Dense; the correction is checked below
    outputs = check_layer(make, (2, 5), lambda x, w: x @ w[0] + w[1], expected_output_shape=(2, 3), train=False)
    layer = make()
    layer(np.zeros((1, 5), "float32"))
    assert [w.name for w in layer.weights] == ["kernel", "bias", "lora_kernel_a", "lora_kernel_b"]
    assert [w.trainable for w in layer.weights] == [False, True, True, True]
    np.testing.assert_array_equal(layer.get_weights()[3], 0.0)  # starts as the plain Dense
    assert layer.get_config()["lora_rank"] == 2 and layer.get_config()["lora_alpha"] == 4.0
    weights = [w + 0.1 * np.arange(w.size, dtype="float32").reshape(w.shape) for w in layer.get_weights()]
    layer.set_weights(weights)
    x = np.random.default_rng(0).normal(size=(2, 5)).astype("float32")
    np.testing.assert_allclose(backend.impl.convert_to_numpy(layer(x)), reference(x, weights), rtol=1e-5, atol=1e-5)
    assert outputs[0].shape == (2, 3)
    assert "lora_rank" not in Dense(3).get_config()


def test_dense_enable_lora_after_building_and_its_errors() -> None:
    layer = Dense(2)
    with pytest.raises(ValueError, match="build"):
        layer.enable_lora(2)
    layer(np.zeros((1, 3), "float32"))
    layer.enable_lora(1)
    assert len(layer.trainable_weights) == 3
    with pytest.raises(ValueError, match="already"):
        layer.enable_lora(1)
    with pytest.raises(ValueError, match="lora_rank"):
        Dense(2, lora_rank=0)
    with pytest.raises(NotImplementedError, match="quantization_config"):
        Dense(2, quantization_config={"mode": "int8"})


def test_embedding_initial_weights_lora_regularizer_and_keras2_input_length() -> None:
    table = np.arange(12, dtype="float32").reshape(6, 2)
    layer = Embedding(6, 2, weights=[table])
    np.testing.assert_array_equal(layer.get_weights()[0], table)
    with pytest.raises(ValueError, match="weights must have shape"):
        Embedding(6, 2, weights=np.zeros((5, 2)))
    regularized = Embedding(6, 2, embeddings_regularizer=lamina.regularizers.L2(0.5), weights=[table])
    np.testing.assert_allclose(backend.impl.convert_to_numpy(regularized.losses[0]), 0.5 * (table ** 2).sum())
    assert Embedding(6, 2, input_length=4).get_config()["batch_input_shape"] == [None, 4]
    assert Sequential([Embedding(6, 2, input_length=4)]).built
    adapted = Embedding(6, 2, lora_rank=1)
    adapted(np.array([[1, 2]]))
    assert [w.name for w in adapted.weights] == ["embeddings", "lora_embeddings_a", "lora_embeddings_b"]
    assert Embedding.from_config(json.loads(json.dumps(adapted.get_config()))).lora_rank == 1
    with pytest.raises(ValueError, match="output_dim"):
        Embedding(6, 0)


def test_embedding_mask_flows_to_the_layers_after_it() -> None:
    tokens = Input(shape=(4,), dtype="int32")
    embedded = Embedding(5, 3, mask_zero=True)(tokens)
    passed = Dense(2)(embedded)  # passes the mask on
    model = Model(tokens, passed)
    assert embedded._keras_mask is not None and passed._keras_mask is not None
    assert model.layers[1].compute_mask(np.array([[1, 0, 2, 0]])) is not None
    with backend.use("torch") as B:
        layer = Embedding(5, 3, mask_zero=True)
        mask = B.convert_to_numpy(layer.compute_mask(B.convert_to_tensor(np.array([[1, 0, 2, 0]]))))
    np.testing.assert_array_equal(mask, [[True, False, True, False]])


# --- noise and dropout layers ---------------------------------------------------------------------------


@pytest.mark.parametrize("make, shape", [
    (lambda: SpatialDropout1D(0.5, seed=1), (2, 3, 4)),
    (lambda: SpatialDropout2D(0.5, data_format="channels_first", seed=1), (2, 3, 4, 2)),
    (lambda: SpatialDropout3D(0.5, seed=1), (2, 2, 2, 2, 3)),
    (lambda: GaussianNoise(0.5, seed=1), (2, 5)),
    (lambda: GaussianDropout(0.5, seed=1), (2, 5)),
    (lambda: AlphaDropout(0.5, seed=1), (2, 5)),
])
def test_noise_layers_are_the_identity_at_inference(make, shape) -> None:
    check_layer(make, shape, lambda x, w: x, expected_output_shape=shape)


@pytest.mark.parametrize("data_format, shape, channel_axis", [
    (None, (8, 5, 16), 2), ("channels_last", (8, 3, 3, 16), 3), ("channels_first", (8, 16, 3, 3), 1),
    ("channels_last", (8, 2, 2, 2, 16), 4)])
def test_spatial_dropout_drops_whole_channels(training_backend: str, data_format, shape, channel_axis) -> None:
    B = backend.impl
    rank = len(shape) - 2
    cls = {1: SpatialDropout1D, 2: SpatialDropout2D, 3: SpatialDropout3D}[rank]
    layer = cls(0.5, seed=3) if rank == 1 else cls(0.5, data_format=data_format, seed=3)
    outputs = B.convert_to_numpy(layer(B.ones(shape), training=True))
    per_channel = np.moveaxis(outputs, channel_axis, -1).reshape(shape[0], -1, shape[channel_axis])
    assert np.all(per_channel == per_channel[:, :1, :])  # one draw per sample and channel
    assert set(np.unique(outputs)) == {0.0, 2.0}
    config_ = layer.get_config()
    assert set(config_) == ({"rate", "seed", "name", "dtype"} | ({"data_format"} if rank > 1 else set()))
    with pytest.raises(ValueError, match="rank"):
        layer(B.ones((2, 3)), training=True)


def test_data_format_defaults_to_the_config() -> None:
    config.set_image_data_format("channels_first")
    try:
        assert SpatialDropout2D(0.1).data_format == "channels_first"
    finally:
        config.set_image_data_format("channels_last")
    with pytest.raises(ValueError, match="data_format"):
        SpatialDropout2D(0.1, data_format="channels_middle")


def test_gaussian_noise_and_dropout_have_the_documented_moments(training_backend: str) -> None:
    B = backend.impl
    ones = B.ones((200, 200))
    noisy = B.convert_to_numpy(GaussianNoise(0.5, seed=1)(ones, training=True))
    assert abs(noisy.mean() - 1.0) < 0.02 and abs(noisy.std() - 0.5) < 0.02
    scaled = B.convert_to_numpy(GaussianDropout(0.2, seed=1)(ones, training=True))
    assert abs(scaled.mean() - 1.0) < 0.02 and abs(scaled.std() - math.sqrt(0.2 / 0.8)) < 0.02
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(-1.0)
    with pytest.raises(ValueError, match="rate"):
        GaussianDropout(1.5)


def test_alpha_dropout_keeps_mean_and_variance_of_standard_inputs(training_backend: str) -> None:
    B = backend.impl
    x = np.random.default_rng(0).standard_normal((300, 300)).astype("float32")
    outputs = B.convert_to_numpy(AlphaDropout(0.2, seed=5)(B.convert_to_tensor(x), training=True))
    assert abs(outputs.mean()) < 0.03 and abs(outputs.std() - 1.0) < 0.03
    saturated = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * saturated**2)) ** -0.5
    dropped = np.isclose(outputs, a * saturated - a * saturated * 0.2, atol=1e-5)
    assert 0.17 < dropped.mean() < 0.23
    kept = ~dropped
    np.testing.assert_allclose(outputs[kept], a * x[kept] - a * saturated * 0.2, rtol=1e-4, atol=1e-5)


def test_noise_layers_draw_inside_a_compiled_jax_step() -> None:
    import jax

    from lamina.backend.jax.core import StateScope

    with backend.use("jax") as B:
        layer = GaussianNoise(1.0, seed=2)
        state = layer.seed_state_variables

        def step(values, x):
            with StateScope(state, values):
                return layer(x, training=True), [v.value for v in state]

        x = B.zeros((3, 4))
        first, values = jax.jit(step)([v.value for v in state], x)
        second, _ = jax.jit(step)(values, x)
    assert not np.array_equal(np.asarray(first), np.asarray(second))


# --- Lambda, Masking, ActivityRegularization, Identity ----------------------------------------------------


@lamina.saving.register_lamina_serializable(package="CoreTests")
def scaled_sum(x, scale=1.0):
    return scale * x + 1.0


def test_lambda_with_a_registered_function_and_arguments() -> None:
    check_layer(lambda: Lambda(scaled_sum, arguments={"scale": 3.0}), (2, 4), lambda x, w: 3.0 * x + 1.0,
                expected_output_shape=(2, 4))
    config_ = Lambda(scaled_sum).get_config()
    assert config_["function"]["registered_name"] == "CoreTests>scaled_sum"


def test_lambda_output_shape_and_mask() -> None:
    assert Lambda(lambda x: x, output_shape=(7,)).compute_output_shape((None, 3)) == (None, 7)
    assert Lambda(lambda x: x, output_shape=lambda s: (s[0], 2)).compute_output_shape((5, 3)) == (5, 2)
    assert Lambda(lambda x: x[:, :2]).compute_output_shape((None, 3)) == (None, 2)
    with backend.use("torch") as B:
        layer = Lambda(lambda x, mask=None: x * B.cast(mask, "float32")[:, :, None],
                       mask=lambda inputs, mask: B.logical_not(mask))
        x = B.ones((1, 3, 2))
        mask = B.convert_to_tensor(np.array([[True, False, True]]))
        output = B.convert_to_numpy(layer(x, mask=mask))
        np.testing.assert_array_equal(output[0, :, 0], [1.0, 0.0, 1.0])
        np.testing.assert_array_equal(B.convert_to_numpy(layer.compute_mask(x, mask)), [[False, True, False]])


def test_lambda_stores_code_as_keras_and_loads_it_only_in_unsafe_mode() -> None:
    offset = 2.5
    layer = Lambda(lambda x: x + offset)
    stored = json.loads(json.dumps(layer.get_config()))
    assert stored["function"]["class_name"] == "__lambda__"
    with pytest.raises(ValueError, match="enable_unsafe_deserialization"):
        Lambda.from_config(stored)
    config.enable_unsafe_deserialization()
    try:
        clone = Lambda.from_config(stored)
        np.testing.assert_allclose(backend.impl.convert_to_numpy(clone(np.ones((1, 2), "float32"))), 3.5)
    finally:
        config.disable_unsafe_deserialization()
    with pytest.raises(ValueError, match="enable_unsafe_deserialization"):
        Lambda.from_config(stored)
    with pytest.raises(TypeError, match="callable"):
        Lambda(3)


def test_masking_zeroes_and_masks_the_padded_steps() -> None:
    x_shape = (2, 4, 3)

    def masked_reference(x, w):
        keep = np.any(x != 0.5, axis=-1, keepdims=True)
        return x * keep

    check_layer(lambda: Masking(mask_value=0.5), x_shape, masked_reference, expected_output_shape=x_shape)
    x = np.random.default_rng(1).normal(size=x_shape).astype("float32")
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    for name in ("torch", "jax", "numpy"):
        with backend.use(name) as B:
            layer = Masking()
            tensor = B.convert_to_tensor(x)
            mask = B.convert_to_numpy(layer.compute_mask(tensor))
            np.testing.assert_array_equal(mask, [[True, False, True, True], [True, True, True, False]])
            np.testing.assert_array_equal(B.convert_to_numpy(layer(tensor))[0, 1], 0.0)
    symbolic = Masking()(Input(shape=(4, 3)))
    assert symbolic._keras_mask is not None and tuple(symbolic._keras_mask.shape) == (None, 4)


def test_activity_regularization_adds_its_penalty() -> None:
    check_layer(lambda: ActivityRegularization(l1=0.1, l2=0.2), (2, 3), lambda x, w: x, expected_output_shape=(2, 3))
    layer = ActivityRegularization(l1=0.1, l2=0.2)
    x = np.array([[1.0, -2.0]], "float32")
    layer(x)
    np.testing.assert_allclose(backend.impl.convert_to_numpy(layer.losses[0]), 0.1 * 3.0 + 0.2 * 5.0, rtol=1e-6)
    assert "activity_regularizer" not in layer.get_config()
    assert ActivityRegularization.from_config(layer.get_config()).l2 == 0.2


def test_identity() -> None:
    check_layer(Identity, (2, 3), lambda x, w: x, expected_output_shape=(2, 3))
    symbolic = Identity()(Masking()(Input(shape=(4, 3))))
    assert symbolic._keras_mask is not None


# --- masks through check_layer (compute_mask, and the mask a functional model passes on, on every backend) -----

STEP_MASK = np.array([[True, False, True], [False, True, True]])


def test_embedding_creates_the_mask_only_with_mask_zero() -> None:
    tokens = check.make_input((2, 4), "int32", (0, 3))
    assert np.any(tokens == 0)
    check_layer(lambda: Embedding(5, 2, mask_zero=True), (2, 4), input_dtype="int32", input_range=(0, 3),
                expected_mask=tokens != 0, train=False)
    check_layer(lambda: Embedding(5, 2), (2, 4), input_dtype="int32", input_range=(0, 3), expected_mask=None,
                train=False)


def test_masking_makes_its_mask_from_the_values_in_place_of_any_given() -> None:
    """Masking(mask_value) keeps a step where any feature differs from mask_value, whatever mask came in."""
    values = check.make_input((2, 4, 1), "int32", (0, 2)).astype("float32")
    assert np.any(values == 0) and np.any(values == 1)
    check_layer(lambda: Masking(mask_value=1.0), (2, 4, 1), lambda x, w: x * (x != 1.0), input_dtype="int32",
                input_range=(0, 2), input_mask=np.ones((2, 4), bool), expected_mask=values[..., 0] != 1.0,
                train=False)


@pytest.mark.parametrize("make", [lambda: Dense(2), lambda: Dropout(0.5), Identity, lambda: GaussianNoise(0.1),
                                  lambda: SpatialDropout1D(0.5), lambda: Activation("relu"),
                                  lambda: ActivityRegularization(l1=0.1)],
                         ids=["Dense", "Dropout", "Identity", "GaussianNoise", "SpatialDropout1D", "Activation",
                              "ActivityRegularization"])
def test_core_layers_pass_the_mask_on(make) -> None:  # noqa: ANN001
    check_layer(make, (2, 3, 4), input_mask=STEP_MASK, expected_mask=STEP_MASK, train=False)


@lamina.saving.register_lamina_serializable(package="CoreTests")
def doubled(x):  # noqa: ANN001, ANN201
    return x * 2.0


@lamina.saving.register_lamina_serializable(package="CoreTests")
def flipped_mask(inputs, mask):  # noqa: ANN001, ANN201
    return None if mask is None else backend.impl.logical_not(mask)


def test_lambda_masks() -> None:
    """Lambda(mask=f) outputs the mask f(inputs, mask); without `mask` the mask stops there, with a warning."""
    check_layer(lambda: Lambda(doubled, mask=flipped_mask), (2, 3, 4), input_mask=STEP_MASK,
                expected_mask=~STEP_MASK, train=False)
    with pytest.warns(UserWarning, match="Lambda .* does not support masking"):
        check_layer(lambda: Lambda(doubled), (2, 3, 4), input_mask=STEP_MASK, expected_mask=None, train=False)
