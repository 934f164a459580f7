"""Linear algebra of the jax backend: decompositions, solves, norms (keras.ops.linalg)."""

from __future__ import annotations
