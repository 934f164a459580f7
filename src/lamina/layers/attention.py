"""Attention layers: Attention, AdditiveAttention, MultiHeadAttention, GroupQueryAttention."""

from __future__ import annotations

__all__: list[str] = []
