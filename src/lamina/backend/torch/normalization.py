"""Normalization and attention of the torch backend: moments, batch norm, scaled dot-product attention."""

from __future__ import annotations
