"""Layers that only change shape: Flatten, Reshape."""

from __future__ import annotations

import math
from typing import Any, Sequence

from lamina import backend
from lamina.layers.layer import Layer

__all__ = ["Flatten", "Reshape"]


class Flatten(Layer):
    """Flattens every axis but the batch axis.

    data_format="channels_first" says that inputs are (batch, channels, *spatial): they are moved to
    (batch, *spatial, channels) first, so that the flat order is the channels_last one whatever the layout.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(f"Flatten data_format must be 'channels_last' or 'channels_first', got "
                             f"{data_format!r}.")
        self.data_format = data_format

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        shape = B.shape(inputs)
        if self.data_format == "channels_first" and len(shape) > 2:
            inputs = B.transpose(inputs, (0, *range(2, len(shape)), 1))
        return B.reshape(inputs, (shape[0], math.prod(shape[1:])))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (which may hold one -1)."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape target_shape may hold at most one -1, got {self.target_shape}.")

    def build(self, input_shape: tuple) -> None:
        known = [d for d in input_shape[1:] if d is not None]
        if len(known) == len(input_shape) - 1 and -1 not in self.target_shape:
            size, target = math.prod(known), math.prod(self.target_shape)
            if size != target:
                raise ValueError(f"Reshape {self.name!r} cannot reshape input of shape {input_shape} "
                                 f"({size} values per sample) to {self.target_shape} ({target} values).")

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        return B.reshape(inputs, (B.shape(inputs)[0],) + self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}
