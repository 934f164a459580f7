"""Linear algebra of the torch backend: decompositions, solves, norms (keras.ops.linalg)."""

from __future__ import annotations
