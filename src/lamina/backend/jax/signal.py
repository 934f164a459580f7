"""Signal processing of the jax backend: FFTs and short-time Fourier transforms.

Complex results are (real, imaginary) pairs of float arrays, as Keras's ops give them.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
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


@functools.partial(jax.jit, static_argnames=("stride", "fft_length", "center"))
def _stft(x: Any, win: Any, stride: int, fft_length: int, center: bool) -> tuple[Any, Any]:
    if center:
        x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)], mode="reflect")
    frames = x[..., _frame_indices(x.shape[-1], fft_length, stride)]  # (..., frames, fft_length)
    return _split(jnp.fft.rfft(frames * win, n=fft_length, axis=-1), x.dtype)


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[Any, Any]:
    x = jnp.asarray(x)
    _check_lengths(sequence_length, sequence_stride, fft_length)
    x = x.astype(_float_dtype(x))
    win = jnp.asarray(_host_window(window, sequence_length, fft_length), x.dtype)
    return _stft(x, win, stride=sequence_stride, fft_length=fft_length, center=center)


@functools.partial(jax.jit, static_argnames=("stride", "fft_length", "start", "end"))
def _istft(real: Any, imag: Any, win: Any, envelope: Any, stride: int, fft_length: int, start: int,
           end: int) -> Any:
    frames = jnp.fft.irfft(real + 1j * imag, n=fft_length, axis=-1).astype(real.dtype)  # (..., frames, fft)
    count = frames.shape[-2]
    indices = (np.arange(count)[:, None] * stride + np.arange(fft_length)[None, :]).reshape(-1)
    pieces = (frames * win).reshape(frames.shape[:-2] + (-1,))
    signal = jnp.zeros(frames.shape[:-2] + (envelope.shape[0],), real.dtype).at[..., indices].add(pieces)
    return (signal / envelope)[..., start:end]


def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> Any:
    real, imag = (jnp.asarray(v) for v in _pair(x, "istft"))
    _check_lengths(sequence_length, sequence_stride, fft_length)
    dtype = _float_dtype(real)
    win = _host_window(window, sequence_length, fft_length)
    count = real.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    indices = (np.arange(count)[:, None] * sequence_stride + np.arange(fft_length)[None, :]).reshape(-1)
    envelope = np.zeros(total)
    np.add.at(envelope, indices, np.tile(win ** 2, count))  # known on the host: the window is fixed
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (total - fft_length // 2 if center else total)
    return _istft(real.astype(dtype), imag.astype(dtype), jnp.asarray(win, dtype),
                  jnp.asarray(np.where(envelope > 1e-10, envelope, 1.0), dtype), stride=sequence_stride,
                  fft_length=fft_length, start=start, end=end)


def view_as_complex(x: Any) -> Any:
    x = jnp.asarray(x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"view_as_complex expects a last axis of size 2 (real, imag), got shape {x.shape}.")
    return x[..., 0] + 1j * x[..., 1]


def view_as_real(x: Any) -> Any:
    x = jnp.asarray(x)
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)
