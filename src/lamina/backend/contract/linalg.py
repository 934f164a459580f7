"""keras.ops.linalg: decompositions, solves, norms."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
