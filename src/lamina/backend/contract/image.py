"""keras.ops.image: resizing, affine transforms, crops, colour conversions."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = ()
