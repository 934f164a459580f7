"""Signal processing of the torch backend: FFTs and short-time Fourier transforms.

Complex results are (real, imaginary) pairs of float tensors, as Keras's ops give them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from lamina.backend.numpy.signal import _check_lengths, _pair, _window
from lamina.backend.torch.core import DEVICE, convert_to_tensor


def _complex(x: Any, what: str) -> torch.Tensor:
    real, imag = (convert_to_tensor(v) for v in _pair(x, what))
    if not real.is_floating_point():
        real, imag = real.float(), imag.float()
    return torch.complex(real, imag.to(real.dtype))


def _float(x: Any) -> torch.Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() else x.float()


def _split(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.real(z), torch.imag(z)


def _window_tensor(window: Any, sequence_length: int, fft_length: int, dtype: torch.dtype) -> torch.Tensor:
    if isinstance(window, torch.Tensor):
        window = window.detach().cpu().numpy()
    return torch.as_tensor(_window(window, sequence_length, fft_length), dtype=dtype, device=DEVICE)


def fft(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return _split(torch.fft.fft(_complex(x, "fft"), dim=-1))


def fft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return _split(torch.fft.fft2(_complex(x, "fft2"), dim=(-2, -1)))


def ifft2(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return _split(torch.fft.ifft2(_complex(x, "ifft2"), dim=(-2, -1)))


def rfft(x: Any, fft_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    return _split(torch.fft.rfft(_float(x), n=fft_length, dim=-1))


def irfft(x: Any, fft_length: int | None = None) -> torch.Tensor:
    return torch.fft.irfft(_complex(x, "irfft"), n=fft_length, dim=-1)


def stft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, window: Any = "hann",
         center: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    x = _float(x)
    _check_lengths(sequence_length, sequence_stride, fft_length)
    if center:
        half = fft_length // 2
        flat = x.reshape(-1, 1, x.shape[-1])  # reflect padding wants (batch, channels, length)
        x = torch.nn.functional.pad(flat, (half, half), mode="reflect").reshape(*x.shape[:-1], -1)
    if x.shape[-1] < fft_length:
        raise ValueError(f"stft needs at least fft_length ({fft_length}) samples (after centre padding), "
                         f"got {x.shape[-1]}.")
    frames = x.unfold(-1, fft_length, sequence_stride)  # (..., frames, fft_length)
    windowed = frames * _window_tensor(window, sequence_length, fft_length, x.dtype)
    return _split(torch.fft.rfft(windowed, n=fft_length, dim=-1))


def istft(x: Any, sequence_length: int, sequence_stride: int, fft_length: int, length: int | None = None,
          window: Any = "hann", center: bool = True) -> torch.Tensor:
    z = _complex(x, "istft")
    _check_lengths(sequence_length, sequence_stride, fft_length)
    frames = torch.fft.irfft(z, n=fft_length, dim=-1)  # (..., frames, fft_length)
    win = _window(window.detach().cpu().numpy() if isinstance(window, torch.Tensor) else window,
                  sequence_length, fft_length)
    count = frames.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    indices = (np.arange(count)[:, None] * sequence_stride + np.arange(fft_length)[None, :]).reshape(-1)
    pieces = (frames * torch.as_tensor(win, dtype=frames.dtype, device=DEVICE)).reshape(*frames.shape[:-2], -1)
    signal = torch.zeros(*frames.shape[:-2], total, dtype=frames.dtype, device=DEVICE)
    signal = signal.index_add(-1, torch.as_tensor(indices, device=DEVICE), pieces)
    envelope = np.zeros(total)
    np.add.at(envelope, indices, np.tile(win ** 2, count))  # known on the host: the window is fixed
    signal = signal / torch.as_tensor(np.where(envelope > 1e-10, envelope, 1.0), dtype=frames.dtype, device=DEVICE)
    start = fft_length // 2 if center else 0
    end = start + length if length is not None else (total - fft_length // 2 if center else total)
    return signal[..., start:end]


def view_as_complex(x: Any) -> torch.Tensor:
    x = _float(x)
    if x.shape[-1:] != (2,):
        raise ValueError(f"view_as_complex expects a last axis of size 2 (real, imag), got shape {tuple(x.shape)}.")
    return torch.view_as_complex(x.contiguous())


def view_as_real(x: Any) -> torch.Tensor:
    return torch.view_as_real(convert_to_tensor(x))
