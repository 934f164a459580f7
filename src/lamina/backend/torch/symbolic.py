"""Shape inference for the torch backend: run the function once on small zero tensors."""

from __future__ import annotations

from typing import Any, Callable

import torch

from lamina.backend.common import assignments_undone
from lamina.backend.torch.core import DEVICE, to_torch_dtype


def _restore(variable: Any, value: Any) -> None:
    with torch.no_grad():
        variable.copy_(value)


def compute_output_spec(fn: Callable[..., Any], shapes_and_dtypes: list[tuple[tuple[int, ...], str]]) -> Any:
    """Call fn on zero tensors of the given concrete shapes; returns its outputs (shapes read by the caller).
    Variables it assigns (a running sum, moving statistics) keep their values."""
    inputs = [torch.zeros(shape, dtype=to_torch_dtype(dtype), device=DEVICE) for shape, dtype in shapes_and_dtypes]
    with torch.no_grad(), assignments_undone(_restore):
        return fn(*inputs)
