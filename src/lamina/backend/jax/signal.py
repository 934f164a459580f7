"""Signal processing of the jax backend: FFTs and short-time Fourier transforms.

Complex results are (real, imaginary) pairs of float arrays, as Keras's ops give them.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from lamina.backend.numpy.signal import _check_lengths, _frame_indices, _pair, _window


def _complex(x: Any, what: str) -> Any:
    real, imag = _pair(x, what)
    return jnp.asarray(real) + 1j * jnp.asarray(imag)


def _float_dtype(x: Any) -> Any:
    return x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32


def _split(z: Any, dtype: Any) -> tuple[Any, Any]:
    return jnp.real(z).astype(dtype), jnp.imag(z).astype(dtype)


def _host_window(window: Any, sequence_length: int, fft_length: int) -> np.ndarray:
    if window is not None and not isinstance(window, str):
        window = np.asarray(window)
    return _window(window, sequence_length, fft_length)


def fft(x: Any) -> tuple[Any, Any]:
    return _split(jnp.fft.fft(_complex(x, "fft"), axis=-1), _float_dtype(jnp.asarray(x[0])))


def fft2(x: Any) -> tuple[Any, Any]:
    return _split(jnp.fft.fft2(_complex(x, "fft2"), axes=(-2, -1)), _float_dtype(jnp.asarray(x[0])))


def ifft2(x: Any) -> tuple[Any, Any]:
    return _split(jnp.fft.ifft2(_complex(x, "ifft2"), axes=(-2, -1)), _float_dtype(jnp.asarray(x[0])))


def rfft(x: Any, fft_length: int | None = None) -> tuple[Any, Any]:
    x = jnp.asarray(x)
    return _split(jnp.fft.rfft(x, n=fft_length, axis=-1), _float_dtype(x))


def irfft(x: Any, fft_length: int | None = None) -> Any:
    z = _complex(x, "irfft")
    return jnp.fft.irfft(z, n=fft_length, axis=-1).astype(_float_dtype(jnp.asarray(x[0])))


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[Any, Any]:
    x = jnp.asarray(x)
    _check_lengths(sequence_length, sequence_stride, fft_length)
    dtype = _float_dtype(x)
    if center:
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)], mode="reflect")
    frames = x[..., _frame_indices(x.shape[-1], fft_length, sequence_stride)]  # (..., frames, fft_length)
    windowed = frames * jnp.asarray(_host_window(window, sequence_length, fft_length), dtype)
    return _split(jnp.fft.rfft(windowed, n=fft_length, axis=-1), dtype)


def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> Any:
    z = _complex(x, "istft")
    _check_lengths(sequence_length, sequence_stride, fft_length)
    dtype = _float_dtype(jnp.asarray(x[0]))
    frames = jnp.fft.irfft(z, n=fft_length, axis=-1).astype(dtype)  # (..., frames, fft_length)
    win = _host_window(window, sequence_length, fft_length)
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    indices = (np.arange(count)[:, None] * sequence_stride + np.arange(fft_length)[None, :]).reshape(-1)
    pieces = (frames * jnp.asarray(win, dtype)).reshape(frames.shape[:-2] + (-1,))
    signal = jnp.zeros(frames.shape[:-2] + (total,), dtype).at[..., indices].add(pieces)
    envelope = np.zeros(total)
    np.add.at(envelope, indices, np.tile(win ** 2, count))  # known on the host: the window is fixed
    signal = signal / jnp.asarray(np.where(envelope > 1e-10, envelope, 1.0), dtype)
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (total - fft_length // 2 if center else total)
    return signal[..., start:end]


def view_as_complex(x: Any) -> Any:
    x = jnp.asarray(x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"view_as_complex expects a last axis of size 2 (real, imag), got shape {x.shape}.")
    return x[..., 0] + 1j * x[..., 1]


def view_as_real(x: Any) -> Any:
    x = jnp.asarray(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)
