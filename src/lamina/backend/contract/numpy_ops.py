"""The rest of keras.ops.numpy beyond the core set in base.py."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
