"""The rest of keras.ops.nn: activations, losses and helpers beyond base.py."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
