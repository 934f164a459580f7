"""Image ops of the NumPy backend: resizing, affine transforms, colour conversions (keras.ops.image)."""

from __future__ import annotations
