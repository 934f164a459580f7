"""Wrapper: the base of layers that wrap another layer (TimeDistributed, Bidirectional)."""

from __future__ import annotations

from typing import Any

from lamina.layers.layer import Layer


class Wrapper(Layer):
    """Holds `layer`, builds it with the wrapper, and saves it inside the wrapper's config."""

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} expects a layer instance as `layer`, got {layer!r:.100}.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any) -> None:
        self.layer._build_for(input_shape)

    def get_config(self) -> dict:
        from lamina.saving.registry import serialize_layer

        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict) -> "Wrapper":
        from lamina.saving.registry import deserialize_layer

        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)
