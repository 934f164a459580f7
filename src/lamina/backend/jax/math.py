"""keras.ops' math family on the jax backend: special functions, segment reductions, top-k, sequences.

The package imports it through linalg.py (whose star import re-exports it).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.special

from lamina.backend.jax.core import unwrap

__all__ = ["cdist", "erf", "erfc", "erfinv", "extract_sequences", "in_top_k", "logdet", "logsumexp", "rsqrt",
           "segment_max", "segment_min", "segment_prod", "segment_sum", "top_k"]


def _floating(x: Any) -> Any:
    x = jnp.asarray(unwrap(x))
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


def erf(x: Any) -> Any:
    return jax.scipy.special.erf(_floating(x))


def erfc(x: Any) -> Any:
    return jax.scipy.special.erfc(_floating(x))


def erfinv(x: Any) -> Any:
    return jax.scipy.special.erfinv(_floating(x))


def rsqrt(x: Any) -> Any:
    return jax.lax.rsqrt(_floating(x))


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    axis = tuple(axis) if isinstance(axis, list) else axis
    return jax.scipy.special.logsumexp(_floating(x), axis=axis, keepdims=keepdims)


def logdet(x: Any) -> Any:
    """log det x of a Hermitian positive-definite x."""
    return jnp.linalg.slogdet(_floating(x))[1]


def cdist(x: Any, y: Any) -> Any:
    """Euclidean distances between the rows of x (..., m, d) and of y (..., n, d): (..., m, n)."""
    x, y = _floating(x), _floating(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"cdist expects x (..., m, d) and y (..., n, d) with the same d, got shapes "
                         f"{x.shape} and {y.shape}.")
    difference = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(difference * difference, axis=-1))


def top_k(x: Any, k: int, sorted: bool = True) -> tuple[Any, Any]:
    """The k largest values along the last axis and their indices (the lower index first among ties)."""
    values, indices = jax.lax.top_k(jnp.asarray(unwrap(x)), k)
    return values, indices


def in_top_k(targets: Any, predictions: Any, k: int) -> Any:
    """Whether each target's prediction is among the k largest of its row (ties count as in)."""
    predictions = jnp.asarray(unwrap(predictions))
    targets = jnp.asarray(unwrap(targets)).astype(jnp.int32)
    target_values = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    kth = jax.lax.top_k(predictions, k)[0][..., -1:]
    return (target_values >= kth)[..., 0]


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> Any:
    """Frames of sequence_length along the last axis, every sequence_stride: (..., frames, sequence_length)."""
    x = jnp.asarray(unwrap(x))
    frames = (x.shape[-1] - sequence_length) // sequence_stride + 1
    starts = jnp.arange(frames)[:, None] * sequence_stride + jnp.arange(sequence_length)[None, :]
    return x[..., starts]


def _segment(reduce: Any, data: Any, segment_ids: Any, num_segments: int | None, sorted: bool) -> Any:
    data = jnp.asarray(unwrap(data))
    segment_ids = jnp.asarray(unwrap(segment_ids))
    if num_segments is None:
        if isinstance(segment_ids, jax.core.Tracer):
            raise ValueError("segment reductions inside jax.jit need num_segments: the output's length cannot "
                             "depend on the values of segment_ids.")
        num_segments = int(jnp.max(segment_ids)) + 1
    return reduce(data, segment_ids, num_segments=num_segments, indices_are_sorted=sorted)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Any:
    return _segment(jax.ops.segment_sum, data, segment_ids, num_segments, sorted)


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Any:
    return _segment(jax.ops.segment_prod, data, segment_ids, num_segments, sorted)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Any:
    return _segment(jax.ops.segment_max, data, segment_ids, num_segments, sorted)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None, sorted: bool = False) -> Any:
    return _segment(jax.ops.segment_min, data, segment_ids, num_segments, sorted)
