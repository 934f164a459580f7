"""Initializers: shapes, seeds, the scale of each distribution, orthogonality, names and configs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lamina import initializers

SHAPE = (200, 300)  # fan_in 200, fan_out 300
SEEDED = [initializers.RandomUniform(seed=1), initializers.RandomNormal(seed=1), initializers.TruncatedNormal(seed=1),
          initializers.GlorotUniform(seed=1), initializers.GlorotNormal(seed=1), initializers.HeUniform(seed=1),
          initializers.HeNormal(seed=1), initializers.LecunUniform(seed=1), initializers.LecunNormal(seed=1),
          initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal", seed=1), initializers.Orthogonal(seed=1)]


@pytest.mark.parametrize("initializer", SEEDED, ids=lambda i: type(i).__name__)
def test_shape_dtype_and_seed(initializer: initializers.Initializer) -> None:
    values = initializer((6, 5), "float32")
    assert values.shape == (6, 5) and values.dtype == np.float32
    np.testing.assert_array_equal(values, initializer((6, 5)))  # a seeded initializer repeats itself
    twin = type(initializer).from_config(initializer.get_config())
    np.testing.assert_array_equal(values, twin((6, 5)))
    other = type(initializer).from_config({**initializer.get_config(), "seed": 2})
    assert not np.array_equal(values, other((6, 5)))
    assert initializer((3, 4, 5), "float64").shape == (3, 4, 5)


def test_unseeded_draws_differ() -> None:
    initializer = initializers.GlorotUniform()
    assert not np.array_equal(initializer((4, 4)), initializer((4, 4)))


def test_glorot_uniform_limit() -> None:
    values = initializers.GlorotUniform(seed=0)(SHAPE)
    limit = math.sqrt(6.0 / (200 + 300))
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.99 * limit
    assert values.std() == pytest.approx(limit / math.sqrt(3), rel=0.02)


def test_convolution_fans_include_the_receptive_field() -> None:
    values = initializers.GlorotUniform(seed=0)((3, 3, 16, 32))  # fan_in 144, fan_out 288
    limit = math.sqrt(6.0 / (144 + 288))
    assert limit * 0.99 < np.abs(values).max() <= limit


@pytest.mark.parametrize("cls, scale_over_fan", [
    (initializers.HeNormal, 2.0 / 200), (initializers.LecunNormal, 1.0 / 200), (initializers.GlorotNormal, 1.0 / 250)])
def test_truncated_normal_variance_scaling(cls: type, scale_over_fan: float) -> None:
    values = cls(seed=0)(SHAPE)
    stddev = math.sqrt(scale_over_fan)
    assert values.std() == pytest.approx(stddev, rel=0.02)  # the truncation is corrected for
    assert np.abs(values).max() <= 2 * stddev / 0.87962566103423978
    assert abs(values.mean()) < 0.02 * stddev


@pytest.mark.parametrize("cls, scale", [(initializers.HeUniform, 2.0), (initializers.LecunUniform, 1.0)])
def test_uniform_variance_scaling(cls: type, scale: float) -> None:
    limit = math.sqrt(3 * scale / 200)
    values = cls(seed=0)(SHAPE)
    assert limit * 0.99 < np.abs(values).max() <= limit


def test_variance_scaling_options() -> None:
    values = initializers.VarianceScaling(scale=3.0, mode="fan_out", distribution="untruncated_normal", seed=0)(SHAPE)
    assert values.std() == pytest.approx(math.sqrt(3.0 / 300), rel=0.02)
    assert np.abs(values).max() > 3 * math.sqrt(3.0 / 300)  # not truncated
    normal = initializers.VarianceScaling(distribution="Normal", seed=0)
    assert normal.distribution == "truncated_normal"
    with pytest.raises(ValueError, match="mode"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution"):
        initializers.VarianceScaling(distribution="poisson")
    with pytest.raises(ValueError, match="scale"):
        initializers.VarianceScaling(scale=0.0)


def test_random_and_truncated_normal() -> None:
    values = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=0)(SHAPE)
    assert values.mean() == pytest.approx(1.0, abs=0.01) and values.std() == pytest.approx(0.5, rel=0.02)
    truncated = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=0)(SHAPE)
    assert np.abs(truncated - 1.0).max() <= 1.0  # within two standard deviations
    assert truncated.std() == pytest.approx(0.5 * 0.87962566103423978, rel=0.02)
    uniform = initializers.RandomUniform(minval=-2.0, maxval=3.0, seed=0)(SHAPE)
    assert uniform.min() >= -2.0 and uniform.max() < 3.0 and uniform.mean() == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 3, 4), (6, 6)])
def test_orthogonal(shape: tuple) -> None:
    values = initializers.Orthogonal(gain=2.0, seed=0)(shape, "float64")
    assert values.shape == shape
    flat = values.reshape(-1, shape[-1]) / 2.0
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T  # orthonormal columns, or rows when wider
    np.testing.assert_allclose(gram, np.eye(min(rows, cols)), atol=1e-10)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        initializers.Orthogonal()((4,))


def test_constants_and_identity() -> None:
    np.testing.assert_array_equal(initializers.Zeros()((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((4,)), np.ones(4))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5))
    assert initializers.Zeros()((2,), "int32").dtype == np.int32
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3.0 * np.eye(2, 3))
    with pytest.raises(ValueError, match="2D"):
        initializers.Identity()((2, 3, 4))


@pytest.mark.parametrize("identifier, cls", [
    ("zeros", initializers.Zeros), ("Zeros", initializers.Zeros), ("ones", initializers.Ones),
    ("constant", initializers.Constant), ("uniform", initializers.RandomUniform),
    ("random_uniform", initializers.RandomUniform), ("RandomNormal", initializers.RandomNormal),
    ("normal", initializers.RandomNormal), ("truncated_normal", initializers.TruncatedNormal),
    ("glorot_uniform", initializers.GlorotUniform), ("GlorotUniform", initializers.GlorotUniform),
    ("glorot_normal", initializers.GlorotNormal), ("he_normal", initializers.HeNormal),
    ("HeUniform", initializers.HeUniform), ("lecun_normal", initializers.LecunNormal),
    ("lecun_uniform", initializers.LecunUniform), ("variance_scaling", initializers.VarianceScaling),
    ("orthogonal", initializers.Orthogonal), ("OrthogonalInitializer", initializers.Orthogonal),
    ("identity", initializers.Identity),
])
def test_get_by_name(identifier: str, cls: type) -> None:
    assert type(initializers.get(identifier)) is cls


def test_get_other_identifiers_and_errors() -> None:
    instance = initializers.HeNormal(seed=3)
    assert initializers.get(instance) is instance and initializers.get(None) is None
    with pytest.raises(ValueError, match="Unknown initializer 'glorot_uniformm'. Did you mean 'glorot_uniform'"):
        initializers.get("glorot_uniformm")


@pytest.mark.parametrize("initializer", [
    initializers.Constant(0.3), initializers.RandomUniform(-1.0, 1.0, seed=4), initializers.HeNormal(seed=5),
    initializers.VarianceScaling(0.5, "fan_avg", "uniform", seed=6), initializers.Orthogonal(gain=0.5, seed=7),
    initializers.Identity(gain=2.0), initializers.Zeros()], ids=lambda i: type(i).__name__)
def test_config_round_trip(initializer: initializers.Initializer) -> None:
    serialized = initializers.serialize(initializer)
    rebuilt = initializers.get(serialized)
    assert type(rebuilt) is type(initializer) and rebuilt.get_config() == initializer.get_config()
    np.testing.assert_array_equal(rebuilt((3, 3)), initializer((3, 3)))


def test_variance_scaling_fans_along_given_axes() -> None:
    # a (3, 4, 50, 60) weight whose inputs lie on axis 2 and outputs on axis 3; axes 0-1 a receptive field
    values = initializers.VarianceScaling(1.0, "fan_in", "uniform", seed=0, input_axes=2, output_axes=3)((3, 4, 50, 60))
    limit = math.sqrt(3.0 / (50 * 12))
    assert limit * 0.99 < np.abs(values).max() <= limit
    # inputs along axes (0, 1): fan_in = 3 * 4 * (50 * 60 receptive field... none left) -> 12 * 1 with outputs (2, 3)
    values = initializers.HeUniform(seed=0, input_axes=[0, 1], output_axes=[2, 3])((3, 4, 50, 60))
    limit = math.sqrt(3.0 * 2.0 / 12)
    assert limit * 0.99 < np.abs(values).max() <= limit
    config = initializers.HeUniform(input_axes=[0, 1], output_axes=-1).get_config()
    assert config == {"seed": None, "input_axes": [0, 1], "output_axes": -1}
    assert initializers.HeUniform().get_config() == {"seed": None}  # configs of older Keras versions load alike
    with pytest.raises(ValueError, match="input_axes"):
        initializers.GlorotUniform(input_axes=5)((3, 4))


def test_keras_lower_case_names_and_deserialize() -> None:
    assert initializers.glorot_uniform is initializers.GlorotUniform
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert initializers.IdentityInitializer is initializers.Identity
    for name in ("zeros", "ones", "constant", "random_uniform", "random_normal", "truncated_normal",
                 "variance_scaling", "glorot_normal", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform",
                 "orthogonal", "identity"):
        assert isinstance(getattr(initializers, name)(), initializers.Initializer)
    again = initializers.deserialize(initializers.serialize(initializers.RandomNormal(0.5, 2.0, seed=3)))
    assert isinstance(again, initializers.RandomNormal)
    assert again.get_config() == {"mean": 0.5, "stddev": 2.0, "seed": 3}
    assert isinstance(initializers.deserialize("he_normal"), initializers.HeNormal)
    keras_layout = {"module": "keras.initializers", "class_name": "IdentityInitializer", "config": {"gain": 2.0},
                    "registered_name": None}
    assert initializers.deserialize(keras_layout).gain == 2.0
    with pytest.raises(ValueError, match="seed"):
        initializers.RandomUniform(seed="one")


def test_a_seeded_initializer_gives_the_same_weights_on_every_backend() -> None:
    from lamina import backend
    from lamina.layers import Dense

    weights = []
    for name in ("torch", "jax", "numpy"):
        with backend.use(name):
            layer = Dense(3, kernel_initializer=initializers.GlorotNormal(seed=7),
                          bias_initializer=initializers.RandomUniform(seed=8))
            layer(np.zeros((1, 4), "float32"))
            weights.append(layer.get_weights())
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("window, periodic, numpy_window", [
    ("hann", False, np.hanning(8)), ("hann", True, np.hanning(9)[:8]), ("hamming", False, np.hamming(8)),
    ("blackman", True, np.blackman(9)[:8]), ("bartlett", False, np.bartlett(8)), (None, False, np.ones(8))])
@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
def test_stft_kernels_compute_the_windowed_fourier_transform(window, periodic, numpy_window, scaling) -> None:
    frame = np.random.default_rng(0).normal(size=8)
    spectrum = np.fft.rfft(frame * numpy_window)
    scale = {"density": np.sqrt((numpy_window ** 2).sum()), "spectrum": np.abs(numpy_window).sum(), None: 1.0}
    if window is None:
        scale = {key: 1.0 for key in scale}
    for side, part in (("real", spectrum.real), ("imag", spectrum.imag)):
        kernel = initializers.STFT(side, window, scaling, periodic)((8, 1, 5), "float64")
        np.testing.assert_allclose(frame @ kernel[:, 0, :], part / scale[scaling], atol=1e-10)


def test_stft_names_config_and_errors() -> None:
    assert initializers.STFTInitializer is initializers.STFT and initializers.stft is initializers.STFT
    initializer = initializers.get({"class_name": "STFT", "config": {"side": "imag", "window": "hamming",
                                                                     "periodic": True, "scaling": "spectrum"}})
    assert initializer.get_config() == {"side": "imag", "window": "hamming", "periodic": True, "scaling": "spectrum"}
    with pytest.raises(ValueError, match="side"):
        initializers.STFT(side="both")
    with pytest.raises(ValueError, match="window"):
        initializers.STFT(window="kaiserr")
    with pytest.raises(ValueError, match="frame_length"):
        initializers.STFT(window=[1.0, 1.0])((4, 1, 3))
