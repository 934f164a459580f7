"""Normalization and attention of the NumPy backend: moments, batch norm, scaled dot-product attention."""

from __future__ import annotations
