"""Normalization and attention of the jax backend: moments, batch norm, scaled dot-product attention."""

from __future__ import annotations
