"""MaxNumBoundingBoxes: bounding boxes padded or cut to a fixed number per image."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.layers.layer import Layer


class MaxNumBoundingBoxes(Layer):
    """Pads (with fill_value) or cuts the "bounding_boxes" of a dict input to max_number boxes per image;
    anything else passes through."""

    def __init__(self, max_number: int, fill_value: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(max_number, int) or max_number < 1:
            raise ValueError(f"MaxNumBoundingBoxes max_number must be a positive int, got {max_number!r}.")
        self.max_number, self.fill_value = max_number, fill_value

    def _fit(self, values: Any) -> Any:
        """values (..., boxes, last) with the boxes axis made max_number long."""
        B = backend.impl
        values = B.convert_to_tensor(values)
        axis = len(values.shape) - 2
        count = int(values.shape[axis])
        if count >= self.max_number:
            index = [slice(None)] * len(values.shape)
            index[axis] = slice(0, self.max_number)
            return values[tuple(index)]
        widths = [(0, 0)] * len(values.shape)
        widths[axis] = (0, self.max_number - count)
        return B.pad(values, widths, constant_values=self.fill_value)

    def call(self, inputs: Any) -> Any:
        if not isinstance(inputs, dict) or "bounding_boxes" not in inputs:
            return inputs
        boxes = dict(inputs["bounding_boxes"])
        if "boxes" in boxes:
            boxes["boxes"] = self._fit(boxes["boxes"])
        if "labels" in boxes:
            labels = backend.impl.convert_to_tensor(boxes["labels"])
            boxes["labels"] = self._fit(backend.impl.expand_dims(labels, -1))[..., 0]
        return {**inputs, "bounding_boxes": boxes}

    def get_config(self) -> dict:
        return {**super().get_config(), "max_number": self.max_number, "fill_value": self.fill_value}
