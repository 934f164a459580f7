"""Image ops of the torch backend: resizing, affine transforms, colour conversions (keras.ops.image)."""

from __future__ import annotations
