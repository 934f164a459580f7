"""Signal processing: FFTs and short-time Fourier transforms."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = (
    Entry("fft", "fft(x)", "the FFT along the last axis of a (real, imag) pair; returns a pair"),
    Entry("fft2", "fft2(x)", "the 2-D FFT over the last two axes of a (real, imag) pair; returns a pair"),
    Entry("ifft2", "ifft2(x)", "the inverse 2-D FFT over the last two axes of a (real, imag) pair; returns a pair"),
    Entry("rfft", "rfft(x, fft_length=None)", "the FFT of a real signal along the last axis, the non-negative "
          "frequencies only, as a (real, imag) pair"),
    Entry("irfft", "irfft(x, fft_length=None)", "the real signal whose rfft is the (real, imag) pair x"),
    Entry("stft", "stft(x, sequence_length, sequence_stride, fft_length, window='hann', center=True)",
          "the short-time Fourier transform of real signals: a (real, imag) pair shaped (..., frames, "
          "fft_length // 2 + 1)"),
    Entry("istft", "istft(x, sequence_length, sequence_stride, fft_length, length=None, window='hann', "
          "center=True)", "the signal whose stft is the (real, imag) pair x, by windowed overlap-add"),
    Entry("view_as_complex", "view_as_complex(x)", "a complex tensor from a real one whose last axis of size 2 "
          "holds (real, imag)"),
    Entry("view_as_real", "view_as_real(x)", "a real tensor with a last axis of size 2 (real, imag) from a "
          "complex one"),
)
