"""STFTSpectrogram: spectrograms by convolution with (trainable) windowed DFT kernels, as Keras computes them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import InputSpec, Layer

MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def window_values(window: Any, length: int, periodic: bool) -> np.ndarray | None:
    """A window of `length` samples: "hann" or "hamming" (symmetric unless periodic), an array, or None."""
    if window is None:
        return None
    if isinstance(window, str):
        denominator = length if periodic else max(length - 1, 1)
        phase = 2 * np.pi * np.arange(length) / denominator
        if window == "hann":
            return 0.5 - 0.5 * np.cos(phase)
        if window == "hamming":
            return 0.54 - 0.46 * np.cos(phase)
        raise ValueError(f"STFTSpectrogram window must be 'hann', 'hamming', None or an array, got {window!r}.")
    values = np.asarray(window, "float64")
    if values.shape != (length,):
        raise ValueError(f"STFTSpectrogram window must have shape ({length},) (frame_length), got {values.shape}.")
    return values


def dft_kernel(side: str, frame_length: int, fft_length: int, window: Any, periodic: bool, scaling: str | None,
               dtype: str = "float32") -> np.ndarray:
    """(frame_length, 1, fft_length // 2 + 1) kernel whose convolution gives the real or imaginary DFT part."""
    bins = np.arange(fft_length // 2 + 1)[None, None, :]
    time = np.arange(frame_length)[:, None, None]
    angle = -2 * np.pi * time * bins / fft_length
    kernel = np.cos(angle) if side == "real" else np.sin(angle)
    values = window_values(window, frame_length, periodic)
    if values is not None:
        if scaling == "density":
            scale = np.sqrt(np.sum(values ** 2) + backend.epsilon())
        elif scaling == "spectrum":
            scale = abs(np.sum(values)) + backend.epsilon()
        else:
            scale = 1.0
        kernel = kernel * values[:, None, None] / scale
    return kernel.astype(dtype)


class STFTSpectrogram(Layer):
    """Signals (batch, time, channels) (or channels_first) to spectrograms, each channel alike.

    Frames of frame_length samples every frame_step (default frame_length // 2) are convolved with the
    weights "real_kernel" and "imag_kernel" (windowed DFT rows, trainable, shape (frame_length, 1,
    fft_length // 2 + 1); fft_length defaults to the next power of two). mode: "log" (log magnitude),
    "magnitude", "psd" (one-sided power), "real", "imag", "angle", or "stft" (real then imaginary bins).
    Outputs: (batch, frames, channels * bins) channels_last, (batch, channels * bins, frames) channels_first;
    with expand_dims, (batch, frames, bins, channels) or (batch, channels, frames, bins).
    """

    def __init__(self, mode: str = "log", frame_length: int = 256, frame_step: int | None = None,
                 fft_length: int | None = None, window: Any = "hann", periodic: bool = False,
                 scaling: str | None = "density", padding: str = "valid", expand_dims: bool = False,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if mode not in MODES:
            raise ValueError(f"STFTSpectrogram mode must be one of {', '.join(MODES)}, got {mode!r}.")
        if frame_step is not None and not 0 < frame_step <= frame_length:
            raise ValueError(f"STFTSpectrogram frame_step must be in (0, frame_length={frame_length}], got "
                             f"{frame_step!r}.")
        if fft_length is not None and (fft_length < frame_length or fft_length % 2):
            raise ValueError(f"STFTSpectrogram fft_length must be an even int not below frame_length={frame_length}, "
                             f"got {fft_length!r}.")
        if scaling not in ("density", "spectrum", None):
            raise ValueError(f"STFTSpectrogram scaling must be 'density', 'spectrum' or None, got {scaling!r}.")
        if padding not in ("valid", "same"):
            raise ValueError(f"STFTSpectrogram padding must be 'valid' or 'same', got {padding!r}.")
        window_values(window, frame_length, periodic)  # a bad window fails here, not at build
        self.mode, self.frame_length, self.frame_step, self.fft_length = mode, frame_length, frame_step, fft_length
        self._frame_step = frame_step or frame_length // 2
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window.tolist() if isinstance(window, np.ndarray) else window
        self.periodic, self.scaling, self.padding, self.expand_dims = periodic, scaling, padding, expand_dims
        self.data_format = data_format or backend.image_data_format()
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape: Any) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        for side in ("real", "imag"):
            if self.mode != ("imag" if side == "real" else "real"):
                kernel = dft_kernel(side, self.frame_length, self._fft_length, self.window, self.periodic,
                                    self.scaling, self.dtype)
                setattr(self, f"{side}_kernel", self.add_weight(name=f"{side}_kernel", shape=shape,
                                                                initializer=lambda s, dtype=None, k=kernel: k))

    def _convolve(self, signals: Any, kernel: Any) -> Any:
        """(batch * channels, time, 1) -> (batch * channels, frames, bins)."""
        return ops.conv(signals, ops.cast(kernel, backend.impl.dtype_of(signals)), strides=self._frame_step,
                        padding=self.padding, data_format="channels_last")

    def call(self, inputs: Any) -> Any:
        channels_last = self.data_format == "channels_last"
        channels = inputs.shape[-1] if channels_last else inputs.shape[1]
        by_channel = ops.transpose(inputs, (0, 2, 1)) if channels_last else inputs  # (batch, channels, time)
        signals = ops.expand_dims(ops.reshape(by_channel, (-1, by_channel.shape[-1])), -1)
        real = self._convolve(signals, self.real_kernel) if self.mode != "imag" else None
        imag = self._convolve(signals, self.imag_kernel) if self.mode != "real" else None
        if self.mode == "real":
            out = real
        elif self.mode == "imag":
            out = imag
        elif self.mode == "angle":
            out = ops.arctan2(imag, real)
        elif self.mode == "stft":
            out = ops.concatenate([real, imag], axis=-1)
        else:
            power = ops.add(ops.square(real), ops.square(imag))
            if self.mode == "psd":  # one-sided: the bins between DC and Nyquist count twice
                out = ops.add(power, ops.pad(power[..., 1:-1], [(0, 0), (0, 0), (1, 1)]))
            else:
                out = ops.sqrt(ops.maximum(power, backend.epsilon()))
                if self.mode == "log":
                    out = ops.log(ops.maximum(out, backend.epsilon()))
        out = ops.reshape(out, (-1, channels, out.shape[-2], out.shape[-1]))  # (batch, channels, frames, bins)
        return self._arrange(out)

    def _arrange(self, out: Any) -> Any:
        _, channels, frames, bins = out.shape
        if self.data_format == "channels_last":
            if self.expand_dims:
                return ops.transpose(out, (0, 2, 3, 1))
            return ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (-1, frames, channels * bins))
        if self.expand_dims:
            return out
        return ops.reshape(ops.transpose(out, (0, 1, 3, 2)), (-1, channels * bins, frames))

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length, "window": self.window,
                "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                "data_format": self.data_format, "expand_dims": self.expand_dims}
