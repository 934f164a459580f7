"""keras.ops' signal ops (FFTs, STFT and its inverse) on every backend against NumPy and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from lamina import backend, ops

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(3)
REAL = rng.normal(size=(2, 4, 8)).astype("float32")
IMAG = rng.normal(size=(2, 4, 8)).astype("float32")
Z = REAL + 1j * IMAG
SIGNAL = rng.normal(size=(2, 50)).astype("float32")


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(backend.impl.convert_to_numpy(value))


def _pair(z):
    return [z.real, z.imag]


def scipy_stft(x, sequence_length, sequence_stride, fft_length, window, center):
    """Keras's definition through SciPy: unscaled spectra of windowed frames, shaped (..., frames, bins)."""
    if center:
        x = np.pad(x, [(0, 0), (fft_length // 2, fft_length // 2)], mode="reflect")
    left = (fft_length - sequence_length) // 2
    win = scipy.signal.get_window(window, sequence_length) if window is not None else np.ones(sequence_length)
    win = np.pad(win, (left, fft_length - sequence_length - left))
    spectra = scipy.signal.stft(x, window=win, nperseg=fft_length, noverlap=fft_length - sequence_stride,
                                nfft=fft_length, boundary=None, padded=False)[-1] * win.sum()
    return np.swapaxes(spectra, -2, -1)


CASES = {
    "fft": (lambda: ops.fft((REAL, IMAG)), lambda: _pair(np.fft.fft(Z))),
    "fft2": (lambda: ops.fft2((REAL, IMAG)), lambda: _pair(np.fft.fft2(Z))),
    "ifft2": (lambda: ops.ifft2((REAL, IMAG)), lambda: _pair(np.fft.ifft2(Z))),
    "rfft": (lambda: ops.rfft(REAL), lambda: _pair(np.fft.rfft(REAL))),
    "rfft_length": (lambda: ops.rfft(REAL, fft_length=6), lambda: _pair(np.fft.rfft(REAL, n=6))),
    "irfft": (lambda: ops.irfft((REAL[..., :5], IMAG[..., :5])), lambda: np.fft.irfft(Z[..., :5])),
    "irfft_length": (lambda: ops.irfft((REAL, IMAG), fft_length=7), lambda: np.fft.irfft(Z, n=7)),
    "stft": (lambda: ops.stft(SIGNAL, 16, 4, 16), lambda: _pair(scipy_stft(SIGNAL, 16, 4, 16, "hann", True))),
    "stft_padded_hamming": (lambda: ops.stft(SIGNAL, 10, 3, 16, window="hamming", center=False),
                            lambda: _pair(scipy_stft(SIGNAL, 10, 3, 16, "hamming", False))),
    "stft_no_window": (lambda: ops.stft(SIGNAL, 8, 8, 8, window=None),
                       lambda: _pair(scipy_stft(SIGNAL, 8, 8, 8, None, True))),
    "view_as_real": (lambda: ops.view_as_real(Z.astype("complex64")), lambda: np.stack([REAL, IMAG], -1)),
    "view_as_complex": (lambda: ops.view_as_complex(np.stack([REAL, IMAG], -1)), lambda: Z),
}


@pytest.mark.parametrize("name", BACKENDS)
def test_signal_ops_match_numpy(name: str) -> None:
    with backend.use(name):
        for case, (call, reference) in CASES.items():
            got, expected = _np(call()), reference()
            if isinstance(expected, list):
                assert len(got) == 2, case
                for g, e in zip(got, expected):
                    np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4, err_msg=f"{case} on {name}")
                    assert g.dtype == np.float32, f"{case} on {name} gave {g.dtype}"
            else:
                np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4, err_msg=f"{case} on {name}")


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("sequence_length, stride, fft_length, window, center",
                         [(12, 3, 16, "hamming", True), (8, 8, 8, None, False)])
def test_istft_inverts_stft(name, sequence_length, stride, fft_length, window, center) -> None:
    with backend.use(name):
        spectra = ops.stft(SIGNAL, sequence_length, stride, fft_length, window=window, center=center)
        length = SIGNAL.shape[-1] if center else fft_length + stride * (_np(spectra[0]).shape[-2] - 1)
        back = _np(ops.istft(spectra, sequence_length, stride, fft_length, length=length, window=window,
                             center=center))
    assert back.shape == (2, length)
    np.testing.assert_allclose(back, SIGNAL[:, :length], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_stft_and_istft_have_gradients(name: str) -> None:
    with backend.use(name) as B:
        def loss(variables):
            real, imag = ops.stft(variables[0], 16, 4, 16)
            back = ops.istft((real, imag), 16, 4, 16, length=50)
            return ops.sum(real ** 2 + imag ** 2) + ops.sum(back * back), None

        # value_and_grad differentiates torch variables in place and jax arrays as values.
        start = B.Variable(SIGNAL, name="signal") if name == "torch" else B.convert_to_tensor(SIGNAL)
        _, gradients = B.value_and_grad(loss)([start])
        gradient = _np(gradients[0])
    assert gradient.shape == SIGNAL.shape
    assert np.all(np.isfinite(gradient)) and np.abs(gradient).sum() > 0


def test_signal_ops_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="pair"):
        ops.fft(REAL)
    with pytest.raises(ValueError, match="fft_length"):
        ops.stft(SIGNAL, 16, 4, 8)
    with pytest.raises(ValueError, match="window"):
        ops.stft(SIGNAL, 16, 4, 16, window="kaiser")
    with pytest.raises(ValueError, match="size 2"):
        ops.view_as_complex(REAL)
