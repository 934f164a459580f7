"""ReversibleEmbedding: an Embedding that also maps hidden states back to vocabulary logits."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from lamina import backend
from lamina.backend.common import standardize_dtype
from lamina.layers.core.embedding import Embedding


class ReversibleEmbedding(Embedding):
    """An Embedding whose `call(inputs, reverse=True)` projects (..., output_dim) back to (..., input_dim).

    tie_weights: the reverse projection uses the transposed `embeddings`; otherwise a weight of its own,
        `reverse_embeddings` of shape (output_dim, input_dim).
    reverse_dtype: the dtype of the reverse projection (inputs and kernel cast to it); None: the layer's dtype.
    logit_soft_cap: when given, reverse logits become `cap * tanh(logits / cap)`.
    Masks as in Keras 3: with mask_zero the lookup's outputs carry the token mask; reverse logits carry none.
    """

    supports_masking = True
    _reversing = False  # within a reverse call: the logits get no mask

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True,
                 embeddings_initializer: Any = "uniform", embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False, reverse_dtype: Any = None,
                 logit_soft_cap: float | None = None, **kwargs: Any) -> None:
        if logit_soft_cap is not None and (isinstance(logit_soft_cap, bool)
                                           or not isinstance(logit_soft_cap, (int, float)) or logit_soft_cap <= 0):
            raise ValueError(f"ReversibleEmbedding logit_soft_cap must be a positive number or None, "
                             f"got {logit_soft_cap!r}.")
        if isinstance(reverse_dtype, dict):  # a serialized dtype policy
            reverse_dtype = (reverse_dtype.get("config") or {}).get("name")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = standardize_dtype(reverse_dtype) if reverse_dtype is not None else None
        self.logit_soft_cap = logit_soft_cap
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero, **kwargs)

    @contextlib.contextmanager
    def _direction(self, kwargs: dict) -> Iterator[None]:
        previous, self._reversing = self._reversing, bool(kwargs.get("reverse", False))
        try:
            yield
        finally:
            self._reversing = previous

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._direction(kwargs):
            return super().__call__(*args, **kwargs)

    def _call_with_mask(self, args: tuple, kwargs: dict, mask: Any) -> tuple[Any, Any]:
        with self._direction(kwargs):
            return super()._call_with_mask(args, kwargs, mask)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if self._reversing:
            return None
        return super().compute_mask(inputs, previous_mask)

    def build(self, input_shape: tuple) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer,
                                                      name="reverse_embeddings")

    def call(self, inputs: Any, reverse: bool = False) -> Any:
        if not reverse:
            return super().call(inputs)
        B = backend.impl
        kernel = B.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        dtype = self.reverse_dtype or self.dtype
        inputs, kernel = B.cast(inputs, dtype), B.cast(kernel, dtype)
        logits = B.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = B.tanh(logits / cap) * cap
        return logits

    def compute_output_shape(self, input_shape: Any, reverse: bool = False) -> tuple:
        if reverse:
            return (*tuple(input_shape)[:-1], self.input_dim)
        return (*tuple(input_shape), self.output_dim)

    def get_config(self) -> dict:
        return {**super().get_config(), "tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                "logit_soft_cap": self.logit_soft_cap}
