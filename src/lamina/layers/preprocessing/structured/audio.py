"""Audio layers: MelSpectrogram (and the mel filter bank it applies) and STFTSpectrogram."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina import ops
from lamina.layers.layer import Layer

# The mel scale of HTK (as in Keras and TensorFlow): mel = 1127 * ln(1 + hertz / 700).
_MEL_BREAK_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def hertz_to_mel(hertz: Any) -> Any:
    return _MEL_HIGH_FREQUENCY_Q * np.log1p(np.asarray(hertz, "float64") / _MEL_BREAK_HERTZ)


def linear_to_mel_weight_matrix(num_mel_bins: int = 20, num_spectrogram_bins: int = 129, sampling_rate: float = 8000,
                                lower_edge_hertz: float = 125.0, upper_edge_hertz: float = 3800.0,
                                dtype: str = "float32") -> np.ndarray:
    """(num_spectrogram_bins, num_mel_bins) triangular filters, evenly spaced in mel; the DC bin gets none."""
    if not 0.0 <= lower_edge_hertz < upper_edge_hertz <= sampling_rate / 2.0:
        raise ValueError(f"the mel filters need 0 <= min_freq < max_freq <= sampling_rate / 2 "
                         f"({sampling_rate / 2.0}), got min_freq={lower_edge_hertz} and max_freq={upper_edge_hertz}.")
    linear = hertz_to_mel(np.linspace(0.0, sampling_rate / 2.0, num_spectrogram_bins)[1:])[:, None]
    edges = np.linspace(hertz_to_mel(lower_edge_hertz), hertz_to_mel(upper_edge_hertz), num_mel_bins + 2)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    rising = (linear - lower) / (center - lower)
    falling = (upper - linear) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, [(1, 0), (0, 0)]).astype(dtype)


class MelSpectrogram(Layer):
    """Audio (batch, samples) to its mel spectrogram (batch, num_mel_bins, frames), in decibels by default.

    The magnitudes of a centred STFT (hann window by default), raised to mag_exp, are weighted by triangular
    mel filters between min_freq and max_freq (default sampling_rate / 2). power_to_db gives
    10 * log10(max(power, min_power) / max(ref_power, min_power)), floored at top_db below the largest value
    of the whole batch."""

    casts_inputs = True

    def __init__(self, fft_length: int = 2048, sequence_stride: int = 512, sequence_length: int | None = None,
                 window: str | None = "hann", sampling_rate: int = 16000, num_mel_bins: int = 128,
                 min_freq: float = 20.0, max_freq: float | None = None, power_to_db: bool = True,
                 top_db: float = 80.0, mag_exp: float = 2.0, min_power: float = 1e-10, ref_power: float = 1.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if window not in ("hann", "hamming", None):
            raise ValueError(f"MelSpectrogram window must be 'hann', 'hamming' or None, got {window!r}.")
        self.fft_length, self.sequence_stride = fft_length, sequence_stride
        self.sequence_length = sequence_length or fft_length
        self.window, self.sampling_rate, self.num_mel_bins = window, sampling_rate, num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq if max_freq is not None else int(sampling_rate / 2)
        self.power_to_db, self.top_db, self.mag_exp = power_to_db, top_db, mag_exp
        self.min_power, self.ref_power = min_power, ref_power
        self._mel = linear_to_mel_weight_matrix(num_mel_bins, fft_length // 2 + 1, sampling_rate, min_freq,
                                                self.max_freq, self.dtype)

    def call(self, inputs: Any) -> Any:
        real, imag = ops.stft(inputs, self.sequence_length, self.sequence_stride, self.fft_length,
                              window=self.window, center=True)
        magnitude = ops.power(ops.sqrt(ops.add(ops.square(real), ops.square(imag))), self.mag_exp)
        mel = ops.tensordot(magnitude, self._mel, axes=1)  # (..., frames, num_mel_bins)
        if self.power_to_db:
            mel = self._decibels(mel)
        return ops.swapaxes(mel, -1, -2)

    def _decibels(self, power: Any) -> Any:
        db = ops.multiply(10.0, ops.log10(ops.maximum(power, self.min_power)))
        db = ops.subtract(db, 10.0 * np.log10(max(abs(self.ref_power), self.min_power)))
        return ops.maximum(db, ops.subtract(ops.max(db), self.top_db))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        samples = input_shape[-1]
        frames = None if samples is None else 1 + (samples + 2 * (self.fft_length // 2) - self.fft_length) \
            // self.sequence_stride
        return tuple(input_shape[:-1]) + (self.num_mel_bins, frames)

    def get_config(self) -> dict:
        return {**super().get_config(), "fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window, "sampling_rate": self.sampling_rate,
                "num_mel_bins": self.num_mel_bins, "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db, "mag_exp": self.mag_exp,
                "min_power": self.min_power, "ref_power": self.ref_power}
