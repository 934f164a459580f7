"""Normalization and attention: moments, batch and layer normalization, scaled dot-product attention."""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

ENTRIES: tuple[Entry, ...] = (
    Entry("moments", "moments(x, axes, keepdims=False, synchronized=False)",
          "(mean, population variance) of x over axes; low-precision floats accumulate in float32"),
    Entry("batch_normalization", "batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3)",
          "(x - mean) / sqrt(variance + epsilon) * scale + offset, the per-channel vectors along axis"),
    Entry("batch_normalization_training",
          "batch_normalization_training(x, axis, offset=None, scale=None, epsilon=1e-3)",
          "x normalized by its own batch moments over every axis but axis: (outputs, batch mean, batch variance), "
          "fused where the backend can"),
    Entry("layer_normalization",
          "layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False)",
          "x standardized over axis, times gamma plus beta (shaped as x's axes); with rms_scaling, Keras's "
          "x / sqrt(variance + epsilon) * gamma"),
    Entry("rms_normalization", "rms_normalization(x, scale=None, axis=-1, epsilon=None)",
          "x / sqrt(mean(x**2 over axis) + epsilon) * scale"),
    Entry("normalize", "normalize(x, axis=-1, order=2, epsilon=None)",
          "x divided by its order-norm over axis (all axes when None), the norm at least epsilon"),
    Entry("dot_product_attention",
          "dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False, "
          "flash_attention=None, attn_logits_soft_cap=None)",
          "softmax(query . key * scale + bias, masked) . value, in the layout (batch, time, heads, depth); "
          "key and value may have fewer heads, dividing the query's; masked logits get a large negative number"),
)
