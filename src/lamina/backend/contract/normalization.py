"""Normalization and attention: moments, batch and layer normalization, scaled dot-product attention."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
