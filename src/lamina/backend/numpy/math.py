"""keras.ops' math family on the NumPy backend: special functions, segment reductions, top-k, sequences.

The package imports it through linalg.py (whose star import re-exports it).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.backend.numpy.nn import _erf

__all__ = ["cdist", "erf", "erfc", "erfinv", "extract_sequences", "in_top_k", "logdet", "logsumexp", "rsqrt",
           "segment_max", "segment_min", "segment_prod", "segment_sum", "top_k"]


def _floating(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float32)


def erf(x: Any) -> np.ndarray:
    x = _floating(x)
    return _erf(x).astype(x.dtype, copy=False)


def erfc(x: Any) -> np.ndarray:
    x = _floating(x)
    return (1.0 - _erf(x)).astype(x.dtype, copy=False)


def erfinv(x: Any) -> np.ndarray:
    """The inverse error function, by M. Giles' single-precision polynomials ("Approximating the erfinv
    function", 2010)."""
    x = _floating(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - x) * (1.0 + x))
        central, tail = w - 2.5, np.sqrt(w) - 3.0
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * central
        q = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
                  1.00167406, 2.83297682):
            q = c + q * tail
        result = np.where(w < 5.0, p, q) * x
        result = np.where(np.abs(x) == 1.0, np.sign(x) * np.inf, result)
    return result.astype(x.dtype, copy=False)


def rsqrt(x: Any) -> np.ndarray:
    return 1.0 / np.sqrt(_floating(x))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = _floating(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    result = np.log(np.sum(np.exp(x - peak), axis=axis, keepdims=True)) + peak
    return result if keepdims else np.squeeze(result, axis=axis)


def logdet(x: Any) -> np.ndarray:
    """log det x of a Hermitian positive-definite x."""
    return np.linalg.slogdet(_floating(x))[1]


def cdist(x: Any, y: Any) -> np.ndarray:
    """Euclidean distances between the rows of x (..., m, d) and of y (..., n, d): (..., m, n)."""
    x, y = _floating(x), _floating(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist expects x (..., m, d) and y (..., n, d) with the same d, got shapes "
                         f"{x.shape} and {y.shape}.")
    difference = x[..., :, None, :] - y[..., None, :, :]
    return np.sqrt(np.sum(difference * difference, axis=-1))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The k largest values along the last axis and their indices (the lower index first among ties)."""
    x = np.asarray(x)
    indices = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return np.take_along_axis(x, indices, axis=-1), indices


def in_top_k(targets: Any, predictions: Any, k: int) -> np.ndarray:
    """Whether each target's prediction is among the k largest of its row (ties count as in)."""
    predictions = np.asarray(predictions)
    target_values = np.take_along_axis(predictions, np.asarray(targets, np.int64)[..., None], axis=-1)
    kth = -np.partition(-predictions, k - 1, axis=-1)[..., k - 1:k]
    return (target_values >= kth)[..., 0]


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> np.ndarray:
    """Frames of sequence_length along the last axis, every sequence_stride: (..., frames, sequence_length)."""
    windows = np.lib.stride_tricks.sliding_window_view(np.asarray(x), sequence_length, axis=-1)
    return np.ascontiguousarray(windows[..., ::sequence_stride, :])


def _segment(ufunc: Any, identity: Any, data: Any, segment_ids: Any, num_segments: int | None) -> np.ndarray:
    data = np.asarray(data)
    segment_ids = np.asarray(segment_ids, np.int64)
    if num_segments is None:
        num_segments = int(segment_ids.max()) + 1
    result = np.full((num_segments, *data.shape[1:]), identity, data.dtype)
    kept = (segment_ids >= 0) & (segment_ids < num_segments)
    ufunc.at(result, segment_ids[kept], data[kept])
    return result


def _extreme(dtype: Any, largest: bool) -> Any:
    if np.issubdtype(dtype, np.floating):
        return np.inf if largest else -np.inf
    info = np.iinfo(dtype)
    return info.max if largest else info.min


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> np.ndarray:
    return _segment(np.add, 0, data, segment_ids, num_segments)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> np.ndarray:
    return _segment(np.multiply, 1, data, segment_ids, num_segments)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> np.ndarray:
    data = np.asarray(data)
    return _segment(np.maximum, _extreme(data.dtype, largest=False), data, segment_ids, num_segments)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> np.ndarray:
    data = np.asarray(data)
    return _segment(np.minimum, _extreme(data.dtype, largest=True), data, segment_ids, num_segments)
