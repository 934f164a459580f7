"""Image ops of the jax backend: resizing, affine transforms, colour conversions (keras.ops.image)."""

from __future__ import annotations
