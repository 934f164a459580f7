"""Shape inference for the jax backend: jax.eval_shape traces without computing."""

from __future__ import annotations

from typing import Any, Callable

import jax

from lamina.backend.jax.core import to_jax_dtype


def compute_output_spec(fn: Callable[..., Any], shapes_and_dtypes: list[tuple[tuple[int, ...], str]]) -> Any:
    specs = [jax.ShapeDtypeStruct(shape, to_jax_dtype(dtype)) for shape, dtype in shapes_and_dtypes]
    return jax.eval_shape(fn, *specs)
