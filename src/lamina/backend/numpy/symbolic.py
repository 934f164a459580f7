"""Shape inference for the numpy backend: run the function once on small zero arrays."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from lamina.backend.common import assignments_undone
from lamina.backend.numpy.core import to_numpy_dtype


def _restore(variable: Any, value: Any) -> None:
    variable._value = value


def compute_output_spec(fn: Callable[..., Any], shapes_and_dtypes: list[tuple[tuple[int, ...], str]]) -> Any:
    """Call fn on zero arrays of the given concrete shapes; returns its outputs (shapes read by the caller).
    Variables it assigns keep their values."""
    with assignments_undone(_restore):
        return fn(*[np.zeros(shape, dtype=to_numpy_dtype(dtype)) for shape, dtype in shapes_and_dtypes])
