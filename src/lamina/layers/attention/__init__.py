"""Attention layers: Attention, AdditiveAttention, MultiHeadAttention, GroupQueryAttention."""

from __future__ import annotations

from lamina.layers.attention.attention import AdditiveAttention, Attention
from lamina.layers.attention.group_query_attention import GroupQueryAttention
from lamina.layers.attention.multi_head_attention import MultiHeadAttention

__all__ = ["AdditiveAttention", "Attention", "GroupQueryAttention", "MultiHeadAttention"]
