"""EinsumDense: a dense layer written as an einsum equation."""

from __future__ import annotations

__all__: list[str] = []
