"""Signal processing: FFTs and short-time Fourier transforms."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
