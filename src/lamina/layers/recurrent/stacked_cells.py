"""StackedRNNCells: several cells run as one, each feeding its output to the next within a time step."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.recurrent.cell import RecurrentCell


def _output_size(cell: Any) -> int:
    size = getattr(cell, "output_size", None)
    if size is None:
        state_size = cell.state_size
        size = state_size[0] if isinstance(state_size, (list, tuple)) else state_size
    return size


class StackedRNNCells(Layer):
    """Cells stacked within each step: `RNN(StackedRNNCells([c1, c2]))` equals `RNN([c1, c2])`.

    The states are one entry per cell (a tensor, or a list for a cell with several states).
    """

    def __init__(self, cells: list[Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not callable(getattr(cell, "call", None)) or getattr(cell, "state_size", None) is None:
                raise ValueError(f"StackedRNNCells expects cells with call(inputs, states) and state_size, "
                                 f"got {cell!r:.100}.")
        if not cells:
            raise ValueError("StackedRNNCells needs at least one cell, got an empty list.")
        self.cells = cells

    @property
    def state_size(self) -> list[Any]:
        return [cell.state_size for cell in self.cells]

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def build(self, input_shape: tuple) -> None:
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._build_for(tuple(input_shape))
            elif callable(getattr(cell, "build", None)):
                cell.build(tuple(input_shape))
            input_shape = (input_shape[0], _output_size(cell))

    def _step_shapes(self, step_shape: tuple) -> list[tuple]:
        shapes = [tuple(step_shape)]
        for cell in self.cells[:-1]:
            shapes.append((step_shape[0], _output_size(cell)))
        return shapes

    def zero_states(self, step_shape: tuple, dtype: Any) -> list[Any]:
        states = []
        for cell, shape in zip(self.cells, self._step_shapes(step_shape)):
            if isinstance(cell, RecurrentCell):
                cell_states = cell.zero_states(shape, dtype)
            elif callable(getattr(cell, "get_initial_state", None)):
                cell_states = cell.get_initial_state(batch_size=shape[0])
            else:
                sizes = cell.state_size if isinstance(cell.state_size, (list, tuple)) else [cell.state_size]
                cell_states = [backend.impl.zeros((shape[0], size), dtype) for size in sizes]
            single = not isinstance(cell.state_size, (list, tuple))
            cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
            states.append(cell_states[0] if single else cell_states)
        return states

    def get_initial_state(self, batch_size: int | None = None) -> list[Any]:
        return self.zero_states((batch_size,), self.dtype)

    def start_sequence(self, step_shape: tuple, training: bool) -> None:
        """Draw each built-in cell's dropout masks for the whole sequence."""
        for cell, shape in zip(self.cells, self._step_shapes(step_shape)):
            if isinstance(cell, RecurrentCell):
                cell.start_sequence(shape, training)

    def end_sequence(self) -> None:
        for cell in self.cells:
            if isinstance(cell, RecurrentCell):
                cell.end_sequence()

    def call(self, inputs: Any, states: list[Any], training: bool | None = None) -> tuple[Any, list[Any]]:
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            single = not isinstance(cell_states, (list, tuple))
            cell_states = [cell_states] if single else list(cell_states)
            if isinstance(cell, Layer):
                inputs, cell_states = cell(inputs, cell_states, training=training)
            else:
                inputs, cell_states = cell.call(inputs, cell_states)
            cell_states = list(cell_states) if isinstance(cell_states, (list, tuple)) else [cell_states]
            new_states.append(cell_states[0] if single else cell_states)
        return inputs, new_states

    def get_config(self) -> dict:
        from lamina.saving.registry import serialize_object

        return {**super().get_config(), "cells": [serialize_object(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config: dict) -> "StackedRNNCells":
        from lamina.saving.registry import deserialize_object

        config = dict(config)
        return cls([deserialize_object(cell) for cell in config.pop("cells")], **config)
