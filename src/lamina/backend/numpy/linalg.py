"""Linear algebra of the NumPy backend: decompositions, solves, norms (keras.ops.linalg)."""

from __future__ import annotations
