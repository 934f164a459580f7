"""keras.ops' control flow and gradients: cond, while_loop, scan, fori_loop, switch, custom_gradient."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
