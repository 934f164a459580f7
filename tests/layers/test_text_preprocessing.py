"""TextVectorization (standardize, split, ngrams, adapt, every output mode, configs, errors) and the audio
layers against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend
from lamina.layers import TextVectorization

DOCUMENTS = ["The cat sat.", "the dog sat", "A cat!"]


def _np(value):
    return np.asarray(backend.impl.convert_to_numpy(value))


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_int_mode_pads_and_truncates(name: str) -> None:
    with backend.use(name):
        layer = TextVectorization(max_tokens=6, output_sequence_length=3)
        layer.adapt(DOCUMENTS)
        assert layer.get_vocabulary() == ["", "[UNK]", "the", "sat", "cat", "dog"]
        assert layer.get_vocabulary(include_special_tokens=False) == ["the", "sat", "cat", "dog"]
        out = layer(np.array(["The cat ran away", "sat"]))
        np.testing.assert_array_equal(_np(out), [[2, 4, 1], [3, 0, 0]])
        assert backend.impl.dtype_of(out).startswith("int")
    ragged = TextVectorization(vocabulary=["a", "b"])
    np.testing.assert_array_equal(_np(ragged([["a b b a"], ["b"]])), [[2, 3, 3, 2], [3, 0, 0, 0]])


def test_standardize_and_split_options() -> None:
    vocabulary = ["hello", "world", "Hello", "world!"]
    cases = [("lower_and_strip_punctuation", "whitespace", [[2, 3]]), ("lower", "whitespace", [[2, 5]]),
             ("strip_punctuation", "whitespace", [[4, 3]]), (None, "whitespace", [[4, 5]]),
             (None, None, [[1]]), (lambda s: s.upper(), lambda s: s.split("O"), [[1, 1, 1]])]
    for standardize, split, expected in cases:
        layer = TextVectorization(standardize=standardize, split=split, vocabulary=vocabulary)
        np.testing.assert_array_equal(_np(layer(["Hello world!"])), expected, err_msg=str((standardize, split)))
    characters = TextVectorization(split="character", standardize=None, vocabulary=["x", "y"])
    np.testing.assert_array_equal(_np(characters(np.array([["xyz"], ["yy"]]))), [[2, 3, 1], [3, 3, 0]])


def test_ngrams_and_encoded_modes() -> None:
    layer = TextVectorization(output_mode="multi_hot", ngrams=2)
    layer.adapt(["a b", "b c"])
    vocabulary = layer.get_vocabulary()
    assert vocabulary[0] == "[UNK]" and set(vocabulary[1:]) == {"a", "b", "c", "a b", "b c"}
    np.testing.assert_array_equal(_np(layer(["a b c", "z"])), [[0, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]])
    count = TextVectorization(output_mode="count", vocabulary=["a", "b"], pad_to_max_tokens=True, max_tokens=5)
    np.testing.assert_array_equal(_np(count(["b b a q"])), [[1, 1, 2, 0, 0]])
    tf_idf = TextVectorization(output_mode="tf_idf")
    tf_idf.adapt(["a b", "b c"])
    assert tf_idf.get_vocabulary()[:2] == ["[UNK]", "b"]
    idf_b = np.log1p(2 / (1 + 2))
    np.testing.assert_allclose(_np(tf_idf(["b b"]))[0, 1], 2 * idf_b, rtol=1e-5)


def test_config_round_trip_and_errors() -> None:
    layer = TextVectorization(vocabulary=["x", "y"], ngrams=(1, 2), output_sequence_length=4)
    config = layer.get_config()
    assert config["vocabulary"] == ["x", "y"] and config["ngrams"] == [1, 2] and config["vocabulary_size"] == 4
    restored = TextVectorization.from_config(config)
    np.testing.assert_array_equal(_np(restored(["x y q"])), _np(layer(["x y q"])))
    with pytest.raises(ValueError, match="output_mode"):
        TextVectorization(output_mode="one_hot")
    with pytest.raises(ValueError, match="standardize"):
        TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="output_sequence_length"):
        TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="one string per example"):
        TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))


# --- audio ----------------------------------------------------------------------------------------------------

def mel_reference(x, fft_length, stride, num_mel_bins, sampling_rate, min_freq, max_freq, power_to_db):
    """Mel spectrogram from NumPy's FFT and a filter bank built from the HTK mel formula, filter by filter."""
    half = fft_length // 2
    padded = np.pad(x.astype("float64"), [(0, 0), (half, half)], mode="reflect")
    starts = range(0, padded.shape[-1] - fft_length + 1, stride)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(fft_length) / fft_length)
    power = np.stack([np.abs(np.fft.rfft(padded[:, s:s + fft_length] * window)) ** 2 for s in starts], 1)
    mel = lambda f: 1127.0 * np.log(1 + np.asarray(f) / 700.0)  # noqa: E731
    bins = mel(np.linspace(0, sampling_rate / 2, half + 1))
    edges = np.linspace(mel(min_freq), mel(max_freq), num_mel_bins + 2)
    filters = np.zeros((half + 1, num_mel_bins))
    for m in range(num_mel_bins):
        lo, center, hi = edges[m:m + 3]
        filters[1:, m] = np.clip(np.minimum((bins[1:] - lo) / (center - lo), (hi - bins[1:]) / (hi - center)), 0, None)
    out = power @ filters
    if power_to_db:
        out = 10 * np.log10(np.maximum(out, 1e-10))
        out = np.maximum(out, out.max() - 80.0)
    return np.swapaxes(out, -1, -2)


@pytest.mark.parametrize("power_to_db", [True, False])
def test_mel_spectrogram_against_numpy(power_to_db: bool) -> None:
    from check import check_layer
    from lamina.layers import MelSpectrogram

    arguments = dict(fft_length=64, sequence_stride=16, num_mel_bins=10, sampling_rate=8000, min_freq=50.0,
                     max_freq=3000.0)
    check_layer(lambda: MelSpectrogram(power_to_db=power_to_db, **arguments), (2, 200),
                lambda x, w: mel_reference(x, 64, 16, 10, 8000, 50.0, 3000.0, power_to_db),
                expected_output_shape=(2, 10, 13), atol=1e-2 if power_to_db else 1e-3, train=not power_to_db)
    layer = MelSpectrogram()
    assert (layer.sequence_length, layer.max_freq) == (2048, 8000)
    config = layer.get_config()
    assert {k: config[k] for k in ("fft_length", "sequence_stride", "num_mel_bins", "top_db", "mag_exp")} == {
        "fft_length": 2048, "sequence_stride": 512, "num_mel_bins": 128, "top_db": 80.0, "mag_exp": 2.0}
    with pytest.raises(ValueError, match="max_freq"):
        MelSpectrogram(sampling_rate=8000, max_freq=5000.0)


def stft_spectrogram_reference(x, weights, mode, frame_length, step):
    """Per-channel frames times the kernels, in NumPy; x is (batch, time, channels)."""
    starts = np.arange(0, x.shape[1] - frame_length + 1, step)
    frames = x[:, starts[:, None] + np.arange(frame_length)[None, :], :].astype("float64")  # (b, f, L, c)
    parts = [np.einsum("bflc,lk->bfck", frames, w[:, 0, :]) for w in weights]
    if mode == "stft":
        out = np.concatenate(parts, -1)
    elif mode == "psd":
        power = parts[0] ** 2 + parts[1] ** 2
        out = power.copy()
        out[..., 1:-1] *= 2
    else:
        out = np.log(np.maximum(np.sqrt(np.maximum(parts[0] ** 2 + parts[1] ** 2, 1e-7)), 1e-7))
    return out.reshape(out.shape[0], out.shape[1], -1)


@pytest.mark.parametrize("mode", ["log", "psd", "stft"])
def test_stft_spectrogram_against_numpy(mode: str) -> None:
    from check import check_layer
    from lamina.layers import STFTSpectrogram

    bins = 9 * (2 if mode == "stft" else 1)
    check_layer(lambda: STFTSpectrogram(mode=mode, frame_length=12, fft_length=16), (2, 40, 2),
                lambda x, w: stft_spectrogram_reference(x, w, mode, 12, 6), expected_output_shape=(2, 5, 2 * bins),
                atol=1e-4)


def test_stft_spectrogram_kernels_are_windowed_dft_rows() -> None:
    from lamina.layers import STFTSpectrogram

    layer = STFTSpectrogram(mode="magnitude", frame_length=8, fft_length=8, window="hann", scaling=None)
    layer.build((None, 64, 1))
    real, imag = layer.get_weights()
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(8) / 7)  # symmetric (periodic=False)
    dft = np.fft.rfft(np.diag(window), axis=1)  # row t: the spectrum of a unit impulse at t, windowed
    np.testing.assert_allclose(real[:, 0, :], dft.real, atol=1e-6)
    np.testing.assert_allclose(imag[:, 0, :], dft.imag, atol=1e-6)
    assert [w.name for w in layer.weights] == ["real_kernel", "imag_kernel"] and real.shape == (8, 1, 5)
    first = STFTSpectrogram(frame_length=16, expand_dims=True, data_format="channels_first", padding="same")
    assert tuple(first(np.zeros((2, 3, 64), "float32")).shape) == (2, 3, 8, 9)
    assert len(STFTSpectrogram(mode="real").weights) == 0 and STFTSpectrogram()._frame_step == 128
    with pytest.raises(ValueError, match="mode"):
        STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="fft_length"):
        STFTSpectrogram(frame_length=16, fft_length=8)


def test_adapted_vocabulary_survives_the_config() -> None:
    for mode in ("int", "tf_idf"):
        layer = TextVectorization(output_mode=mode)
        layer.adapt(DOCUMENTS)
        restored = TextVectorization.from_config(layer.get_config())
        assert restored.get_vocabulary() == layer.get_vocabulary()
        np.testing.assert_allclose(_np(restored(["the cat ran"])), _np(layer(["the cat ran"])))
