"""Shape inference for the torch backend: run the function once on small zero tensors."""

from __future__ import annotations

from typing import Any, Callable

import torch

from lamina.backend.torch.core import DEVICE, to_torch_dtype


def compute_output_spec(fn: Callable[..., Any], shapes_and_dtypes: list[tuple[tuple[int, ...], str]]) -> Any:
    """Call fn on zero tensors of the given concrete shapes; returns its outputs (shapes read by the caller)."""
    inputs = [torch.zeros(shape, dtype=to_torch_dtype(dtype), device=DEVICE) for shape, dtype in shapes_and_dtypes]
    with torch.no_grad():
        return fn(*inputs)
