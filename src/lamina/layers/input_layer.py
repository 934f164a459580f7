"""The entry point of a model: InputLayer and the Input() function that makes symbolic inputs."""

from __future__ import annotations

from typing import Any, Sequence

from lamina.layers.layer import Layer, Node, deserialize, serialize
from lamina.ops.symbolic import KerasTensor

# serialize and deserialize (keras.layers.serialize / deserialize) live with the base Layer; listed here so
# that lamina.layers gathers them with the other names of this module.
__all__ = ["Input", "InputLayer", "deserialize", "serialize"]


class InputLayer(Layer):
    """Holds the shape and dtype of one model input; it has no weights and computes nothing."""

    def __init__(self, shape: Sequence[int | None] | None = None, batch_size: int | None = None,
                 dtype: Any = None, name: str | None = None, batch_shape: Sequence[int | None] | None = None,
                 input_shape: Sequence[int | None] | None = None, sparse: bool = False,
                 batch_input_shape: Sequence[int | None] | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, dtype=dtype, **kwargs)
        batch_shape = batch_shape or batch_input_shape
        if batch_shape is None:
            shape = shape if shape is not None else input_shape
            if shape is None:
                raise ValueError("InputLayer needs `shape` (per sample) or `batch_shape`.")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size, *shape)
        self.batch_shape = tuple(batch_shape)
        self.built = True
        self.output_tensor = KerasTensor(self.batch_shape, self.dtype, name=self.name, history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, (), {}, self.output_tensor))

    @property
    def input(self) -> KerasTensor:
        return self.output_tensor

    @property
    def input_shape(self) -> tuple:
        return self.batch_shape

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def Input(shape: Sequence[int | None] | None = None, batch_size: int | None = None, dtype: Any = None,
          name: str | None = None, batch_shape: Sequence[int | None] | None = None) -> KerasTensor:
    """A symbolic model input of the given per-sample shape (batch axis added as None)."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name, batch_shape=batch_shape)
    return layer.output_tensor
