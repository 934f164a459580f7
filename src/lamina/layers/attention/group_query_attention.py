"""GroupQueryAttention: multi-head attention whose key and value heads are shared by groups of query heads."""

from __future__ import annotations

import math
from typing import Any

from lamina import backend, constraints, initializers, regularizers
from lamina.layers.attention.masks import (call_masks, causal_mask, expand_mask, masked_softmax, masks_hidden,
                                           split_masks)
from lamina.layers.attention.multi_head_attention import QueryValueLayer, _refuse_unsupported
from lamina.layers.einsum_dense import EinsumDense


class GroupQueryAttention(QueryValueLayer):
    """Grouped-query attention (Ainslie et al.): `num_query_heads` query heads attend through
    `num_key_value_heads` key/value heads, each shared by num_query_heads // num_key_value_heads of them.

    Sublayers as in Keras: query (dim, query_heads, head_dim), key and value (dim, kv_heads, head_dim) and
    attention_output (query_heads, head_dim, dim), all EinsumDense. Masks as in MultiHeadAttention.
    """

    casts_inputs = True
    supports_masking = True

    def __init__(self, head_dim: int, num_query_heads: int, num_key_value_heads: int, dropout: float = 0.0,
                 use_bias: bool = True, flash_attention: bool | None = None,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        _refuse_unsupported(kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for name, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                            ("num_key_value_heads", num_key_value_heads)):
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"GroupQueryAttention {name} must be a positive integer, got {value!r}.")
        if num_query_heads % num_key_value_heads:
            raise ValueError(f"GroupQueryAttention num_query_heads ({num_query_heads}) must be a multiple of "
                             f"num_key_value_heads ({num_key_value_heads}).")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"GroupQueryAttention dropout must be in [0, 1), got {dropout!r}.")
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout, self.use_bias, self.seed = float(dropout), bool(use_bias), seed
        self.flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed_generator = backend.impl.SeedGenerator(seed) if dropout > 0 else None

    def _dense(self, equation: str, output_shape: tuple, bias_axes: str, name: str, input_shape: tuple) -> EinsumDense:
        layer = EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes if self.use_bias else None,
                            kernel_initializer=self.kernel_initializer, bias_initializer=self.bias_initializer,
                            kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                            kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                            dtype=self.dtype, name=name)
        layer._build_for(tuple(input_shape))
        return layer

    def build(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> None:
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(f"GroupQueryAttention expects a {name} of shape (batch, steps, features), "
                                 f"got {tuple(shape)}.")
        heads, kv_heads, depth = self.num_query_heads, self.num_key_value_heads, self.head_dim
        self._query_dense = self._dense("bqm,muh->bquh", (None, heads, depth), "uh", "query", query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (None, kv_heads, depth), "vh", "key", key_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", (None, kv_heads, depth), "vh", "value", value_shape)
        self._output_dense = self._dense("bquh,uhm->bqm", (None, query_shape[-1]), "m", "attention_output",
                                        (*query_shape[:-1], heads, depth))
        # Keras's attribute names; tracked by hand, as underscored attributes are not
        self._track([self._query_dense, self._key_dense, self._value_dense, self._output_dense])

    def call(self, query: Any, value: Any, key: Any = None, query_mask: Any = None, value_mask: Any = None,
             key_mask: Any = None, attention_mask: Any = None, return_attention_scores: bool = False,
             training: bool | None = None, use_causal_mask: bool = False, mask: Any = None) -> Any:
        key, attention_mask, only_causal = call_masks(query, value, key, query_mask, value_mask, key_mask,
                                                      attention_mask, use_causal_mask, mask)
        with masks_hidden(query, value, key):
            query = self._query_dense(query)  # (batch, target, query_heads, head_dim)
            key = self._key_dense(key)  # (batch, source, kv_heads, head_dim)
            value = self._value_dense(value)
        outputs, scores = self._attend(query, key, value, attention_mask, only_causal, return_attention_scores,
                                       training)
        outputs = self._output_dense(outputs)
        return (outputs, scores) if return_attention_scores else outputs

    def _attend(self, query: Any, key: Any, value: Any, mask: Any, causal: bool, return_scores: bool,
                training: bool | None) -> tuple[Any, Any]:
        B = backend.impl
        scale = 1.0 / math.sqrt(self.head_dim)
        mask = expand_mask(mask, 4, 1)  # (batch, 1, target, source)
        dropping = bool(training) and self.dropout > 0
        if not return_scores and not dropping:
            return B.dot_product_attention(query, key, value, mask=mask, scale=scale, is_causal=causal,
                                           flash_attention=self.flash_attention), None
        if self.flash_attention and return_scores:
            raise ValueError("GroupQueryAttention cannot return attention scores with flash_attention=True.")
        key, value = B.repeat(key, self.num_repeats, axis=2), B.repeat(value, self.num_repeats, axis=2)
        scores = B.einsum("bthd,bshd->bhts", B.multiply(query, scale), key)  # (batch, heads, target, source)
        if causal:
            mask = expand_mask(causal_mask(B.shape(query)[1], B.shape(key)[1]), 4, 1)
        scores = masked_softmax(scores, mask)
        applied = B.dropout(scores, self.dropout, self.seed_generator) if dropping else scores
        return B.einsum("bhts,bshd->bthd", applied, value), scores

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The query's mask carries over to the outputs."""
        return split_masks(previous_mask, 3)[0] if previous_mask is not None else None

    @property
    def _creates_mask(self) -> bool:
        return False

    def compute_output_shape(self, query_shape: Any, value_shape: Any = None, key_shape: Any = None) -> tuple:
        return tuple(query_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "dropout": self.dropout, "use_bias": self.use_bias,
                "flash_attention": self.flash_attention,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint), "seed": self.seed}
