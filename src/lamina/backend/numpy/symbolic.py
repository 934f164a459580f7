"""Shape inference for the numpy backend: run the function once on small zero arrays."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lamina.backend.numpy.core import to_numpy_dtype


def compute_output_spec(fn: Callable[..., Any], shapes_and_dtypes: list[tuple[tuple[int, ...], str]]) -> Any:
    """Call fn on zero arrays of the given concrete shapes; returns its outputs (shapes read by the caller)."""
    return fn(*[np.zeros(shape, dtype=to_numpy_dtype(dtype)) for shape, dtype in shapes_and_dtypes])
