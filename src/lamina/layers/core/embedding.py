"""Embedding: integer indices looked up in a (input_dim, output_dim) table."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina import backend, constraints, initializers, regularizers
from lamina.layers.core.lora import LoraMixin, check_rank
from lamina.layers.layer import Layer


class Embedding(LoraMixin, Layer):
    """Maps integer indices to dense vectors: a lookup into a (input_dim, output_dim) table.

    mask_zero: index 0 is padding; the outputs carry the mask `inputs != 0` to the layers after it.
    weights: initial values of the table (an array, or a list holding one).
    input_length: Keras 2's argument, taken as the input shape (input_length,).
    """

    _lora_target = "embeddings"

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 weights: Any = None, lora_rank: int | None = None, lora_alpha: float | None = None,
                 quantization_config: Any = None, input_length: int | None = None, **kwargs: Any) -> None:
        if input_length is not None and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding {name} must be a positive integer, got {value!r}.")
        check_rank(lora_rank, lora_alpha, quantization_config, "Embedding")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.lora_rank, self.lora_alpha = lora_rank, lora_alpha
        if self.mask_zero and self.input_dim < 2:
            raise ValueError(f"Embedding with mask_zero=True reserves index 0 for padding, so input_dim must be "
                             f"at least 2, got {input_dim}.")
        self._initial_weights = self._check_weights(weights)
        if self._initial_weights is not None:
            self._build_for((None,))

    def _check_weights(self, weights: Any) -> np.ndarray | None:
        if weights is None:
            return None
        if isinstance(weights, (list, tuple)) and len(weights) == 1:
            weights = weights[0]
        value = np.asarray(weights)
        if value.shape != (self.input_dim, self.output_dim):
            raise ValueError(f"Embedding weights must have shape ({self.input_dim}, {self.output_dim}) "
                             f"(input_dim, output_dim), got {value.shape}.")
        return value

    @property
    def _creates_mask(self) -> bool:
        return self.mask_zero

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return backend.impl.not_equal(inputs, 0) if self.mask_zero else None

    def build(self, input_shape: tuple) -> None:
        initializer = self.embeddings_initializer
        if self._initial_weights is not None:
            initial = self._initial_weights
            initializer = lambda shape, dtype="float32": initial.astype(dtype)  # noqa: E731
        self._embeddings = self.add_weight(shape=(self.input_dim, self.output_dim), initializer=initializer,
                                           regularizer=self.embeddings_regularizer,
                                           constraint=self.embeddings_constraint, name="embeddings")
        self._initial_weights = None
        if self.lora_rank:
            self._add_lora(self.lora_rank, self.lora_alpha)

    @property
    def embeddings(self) -> Any:
        """The table in use: the weight itself, or with LoRA the frozen weight plus its low-rank correction."""
        return self._effective()

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        if B.dtype_of(inputs) not in ("int32", "int64"):
            inputs = B.cast(inputs, "int32")
        return B.take(self.embeddings, inputs, axis=0)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero, **self._lora_config()}
