"""Shape inference for the jax backend: jax.eval_shape traces without computing."""

from __future__ import annotations

from typing import Any, Callable

import jax

from lamina.backend.common import assignments_undone
from lamina.backend.jax.core import to_jax_dtype


def _restore(variable: Any, value: Any) -> None:
    variable._value = value


def compute_output_spec(fn: Callable[..., Any], shapes_and_dtypes: list[tuple[tuple[int, ...], str]]) -> Any:
    """Trace fn on shapes only; variables it assigns (a seed generator's key) keep their values."""
    specs = [jax.ShapeDtypeStruct(shape, to_jax_dtype(dtype)) for shape, dtype in shapes_and_dtypes]
    with assignments_undone(_restore):
        return jax.eval_shape(fn, *specs)
