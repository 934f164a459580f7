"""Attention and AdditiveAttention: dot-product (Luong) and additive (Bahdanau) attention over [query, value(, key)]."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend
from lamina.layers.attention.masks import causal_mask, large_negative, split_masks
from lamina.layers.layer import Layer


class Attention(Layer):
    """Dot-product attention: softmax(scores(query, key)) @ value, called on [query, value] or
    [query, value, key] of shapes (batch, target, dim), (batch, source, dim).

    score_mode "dot": query . key (times a learned scalar `scale` with use_scale); "concat":
    concat_score_weight * sum(tanh(scale * (query + key))). Masks [query_mask, value_mask]: masked values
    get no attention, masked query steps give zeros.
    """

    casts_inputs = True
    supports_masking = True
    score_modes = ("dot", "concat")

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if score_mode not in self.score_modes:
            raise ValueError(f"{type(self).__name__} score_mode must be one of {self.score_modes}, "
                             f"got {score_mode!r}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{type(self).__name__} dropout must be in [0, 1), got {dropout!r}.")
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout, self.seed = float(dropout), seed
        self.seed_generator = backend.impl.SeedGenerator(seed) if dropout > 0 else None
        self.scale: Any = None
        self.concat_score_weight: Any = None

    def build(self, input_shape: Any) -> None:
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(shape=(), initializer="ones", name="concat_score_weight")

    def _check_inputs(self, input_shape: Any) -> None:
        name = type(self).__name__
        if not isinstance(input_shape, (list, tuple)) or not input_shape \
                or not isinstance(input_shape[0], (list, tuple)) or len(input_shape) not in (2, 3):
            raise ValueError(f"{name} must be called on a list [query, value] or [query, value, key], got inputs "
                             f"of shape {input_shape}.")
        query, value = input_shape[0], input_shape[1]
        key = input_shape[2] if len(input_shape) == 3 else value
        if query[-1] != key[-1] and None not in (query[-1], key[-1]):
            raise ValueError(f"{name}: query and key need the same last dimension, got query shape {tuple(query)} "
                             f"and key shape {tuple(key)}.")

    def _scores(self, query: Any, key: Any) -> Any:
        """(batch, target, source) attention logits."""
        B = backend.impl
        if self.score_mode == "dot":
            scores = B.matmul(query, B.transpose(key, (0, 2, 1)))
            return scores if self.scale is None else B.multiply(scores, self.scale)
        pairs = B.add(B.expand_dims(query, -2), B.expand_dims(key, -3))  # (batch, target, source, dim)
        if self.scale is not None:
            pairs = B.multiply(pairs, self.scale)
        return B.multiply(self.concat_score_weight, B.sum(B.tanh(pairs), axis=-1))

    def call(self, inputs: Sequence[Any], mask: Any = None, training: bool | None = None,
             return_attention_scores: bool = False, use_causal_mask: bool = False) -> Any:
        B = backend.impl
        query, value = B.convert_to_tensor(inputs[0]), B.convert_to_tensor(inputs[1])
        key = B.convert_to_tensor(inputs[2]) if len(inputs) > 2 else value
        query_mask, value_mask = split_masks(mask, 2)[:2]
        scores = self._scores(query, key)
        keep = B.expand_dims(B.cast(value_mask, "bool"), -2) if value_mask is not None else None
        if use_causal_mask:
            causal = causal_mask(B.shape(scores)[-2], B.shape(scores)[-1])
            keep = causal if keep is None else B.logical_and(keep, causal)
        if keep is not None:
            dropped = B.subtract(1.0, B.cast(keep, B.dtype_of(scores)))
            scores = B.add(scores, B.multiply(dropped, large_negative(B.dtype_of(scores))))
        weights = B.softmax(scores, axis=-1)
        applied = weights
        if training and self.dropout > 0:
            applied = B.dropout(weights, self.dropout, self.seed_generator)
        outputs = B.matmul(applied, value)
        if query_mask is not None:
            outputs = B.multiply(outputs, B.expand_dims(B.cast(query_mask, B.dtype_of(outputs)), -1))
        return (outputs, weights) if return_attention_scores else outputs

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The query's mask carries over to the outputs."""
        return split_masks(previous_mask, 2)[0] if previous_mask is not None else None

    @property
    def _creates_mask(self) -> bool:
        return False

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._check_inputs(input_shape)
        return (*input_shape[0][:-1], input_shape[1][-1])

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores sum(scale * tanh(query + key)) over the features, with a learned
    per-feature `scale` when use_scale (the default)."""

    score_modes = ("concat",)

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, score_mode="concat", dropout=dropout, **kwargs)

    def build(self, input_shape: Any) -> None:
        self._check_inputs(input_shape)
        if self.use_scale:
            self.scale = self.add_weight(shape=(input_shape[1][-1],), initializer="glorot_uniform", name="scale")

    def _scores(self, query: Any, key: Any) -> Any:
        B = backend.impl
        pairs = B.tanh(B.add(B.expand_dims(query, -2), B.expand_dims(key, -3)))  # (batch, target, source, dim)
        if self.scale is not None:
            pairs = B.multiply(pairs, self.scale)
        return B.sum(pairs, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
