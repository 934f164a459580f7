"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization and the rest."""

from __future__ import annotations

__all__: list[str] = []
