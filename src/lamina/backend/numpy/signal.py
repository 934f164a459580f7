"""Signal processing of the NumPy backend: FFTs and short-time Fourier transforms.

Complex results are (real, imaginary) pairs of float arrays, as Keras's ops give them.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _pair(x: Any, what: str) -> tuple[Any, Any]:
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{what} expects x as a pair (real, imag) of float tensors, got {type(x).__name__}.")
    real, imag = x
    if tuple(real.shape) != tuple(imag.shape):
        raise ValueError(f"{what} expects real and imag of one shape, got {tuple(real.shape)} and "
                         f"{tuple(imag.shape)}.")
    return real, imag


def _float_dtype(real: Any) -> Any:
    return real.dtype if np.issubdtype(real.dtype, np.floating) else np.float32


def _split(z: np.ndarray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    return z.real.astype(dtype), z.imag.astype(dtype)


def _window(window: Any, sequence_length: int, fft_length: int) -> np.ndarray:
    """The analysis window as a float64 NumPy array of fft_length (centred, zero padded); None: all ones.

    "hann" and "hamming" are the periodic windows (as for spectral analysis); an array (NumPy, or a tensor
    already read to the host by the caller) is taken as given."""
    if window is None:
        return np.ones(fft_length)
    if isinstance(window, str):
        n = np.arange(sequence_length) / sequence_length
        if window == "hann":
            values = 0.5 - 0.5 * np.cos(2 * np.pi * n)
        elif window == "hamming":
            values = 0.54 - 0.46 * np.cos(2 * np.pi * n)
        else:
            raise ValueError(f"window must be 'hann', 'hamming', None or an array, got {window!r}.")
    else:
        values = np.asarray(window, dtype="float64")
    if values.shape != (sequence_length,):
        raise ValueError(f"window must have shape ({sequence_length},) (sequence_length), got {values.shape}.")
    left = (fft_length - sequence_length) // 2
    return np.pad(values, (left, fft_length - sequence_length - left))


def _check_lengths(sequence_length: int, sequence_stride: int, fft_length: int) -> None:
    if fft_length < sequence_length:
        raise ValueError(f"fft_length must be at least sequence_length ({sequence_length}), got {fft_length}.")
    if sequence_stride <= 0:
        raise ValueError(f"sequence_stride must be positive, got {sequence_stride}.")


def _frame_indices(samples: int, fft_length: int, stride: int) -> np.ndarray:
    """(frames, fft_length) indices of the frames that fit whole in `samples`."""
    frames = 1 + (samples - fft_length) // stride
    if frames < 1:
        raise ValueError(f"stft needs at least fft_length ({fft_length}) samples (after centre padding), "
                         f"got {samples}.")
    return np.arange(frames)[:, None] * stride + np.arange(fft_length)[None, :]


def fft(x: Any) -> tuple[np.ndarray, np.ndarray]:
    real, imag = _pair(x, "fft")
    return _split(np.fft.fft(real + 1j * imag, axis=-1), _float_dtype(real))


def fft2(x: Any) -> tuple[np.ndarray, np.ndarray]:
    real, imag = _pair(x, "fft2")
    return _split(np.fft.fft2(real + 1j * imag, axes=(-2, -1)), _float_dtype(real))


def ifft2(x: Any) -> tuple[np.ndarray, np.ndarray]:
    real, imag = _pair(x, "ifft2")
    return _split(np.fft.ifft2(real + 1j * imag, axes=(-2, -1)), _float_dtype(real))


def rfft(x: Any, fft_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    return _split(np.fft.rfft(x, n=fft_length, axis=-1), _float_dtype(x))


def irfft(x: Any, fft_length: int | None = None) -> np.ndarray:
    real, imag = _pair(x, "irfft")
    return np.fft.irfft(real + 1j * imag, n=fft_length, axis=-1).astype(_float_dtype(real))


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x)
    _check_lengths(sequence_length, sequence_stride, fft_length)
    dtype = _float_dtype(x)
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)], mode="reflect")
    frames = x[..., _frame_indices(x.shape[-1], fft_length, sequence_stride)]  # (..., frames, fft_length)
    windowed = frames * _window(window, sequence_length, fft_length).astype(dtype)
    return _split(np.fft.rfft(windowed, n=fft_length, axis=-1), dtype)


def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> np.ndarray:
    real, imag = _pair(x, "istft")
    _check_lengths(sequence_length, sequence_stride, fft_length)
    dtype = _float_dtype(real)
    frames = np.fft.irfft(real + 1j * imag, n=fft_length, axis=-1)  # (..., frames, fft_length)
    win = _window(window, sequence_length, fft_length)
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    indices = (np.arange(count)[:, None] * sequence_stride + np.arange(fft_length)[None, :]).reshape(-1)
    signal = np.zeros(frames.shape[:-2] + (total,))
    np.add.at(signal, (..., indices), (frames * win).reshape(frames.shape[:-2] + (-1,)))
    envelope = np.zeros(total)
    np.add.at(envelope, indices, np.tile(win ** 2, count))
    signal = signal / np.where(envelope > 1e-10, envelope, 1.0)
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (total - fft_length // 2 if center else total)
    return signal[..., start:end].astype(dtype)


def view_as_complex(x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"view_as_complex expects a last axis of size 2 (real, imag), got shape {x.shape}.")
    return x[..., 0] + 1j * x[..., 1]


def view_as_real(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return np.stack([x.real, x.imag], axis=-1)
