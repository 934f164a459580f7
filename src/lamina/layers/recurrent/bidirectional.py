"""Bidirectional: a recurrent layer run forwards and backwards over time, the two outputs merged."""

from __future__ import annotations

import copy
from typing import Any

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.recurrent.layer_arguments import CellLayer
from lamina.layers.recurrent.rnn import RNN, TracesShapes
from lamina.layers.recurrent.stacked_cells import StackedRNNCells
from lamina.layers.recurrent.wrapper import Wrapper

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _copy_cell(cell: Any) -> Any:
    """A new, unbuilt cell of the same config (a deep copy for a plain object without a config)."""
    if isinstance(cell, StackedRNNCells):
        return StackedRNNCells([_copy_cell(c) for c in cell.cells], **Layer.get_config(cell))
    if isinstance(cell, Layer):
        return type(cell).from_config(cell.get_config())
    return copy.deepcopy(cell)


def _copy_layer(layer: Layer, name: str, **changes: Any) -> Layer:
    """A new, unbuilt layer of the same class and config, renamed and with `changes` applied.

    Built from the class at hand, so user-written layers and cells need no registration.
    """
    if isinstance(layer, RNN) and not isinstance(layer, CellLayer):  # the config of a generic RNN holds its cell
        config = {**Layer.get_config(layer), **layer.rnn_config(), "name": name, **changes}
        return type(layer)(_copy_cell(layer.cell), **config)
    return type(layer).from_config({**layer.get_config(), "name": name, **changes})


def _without_prefix(name: str, prefix: str) -> str:
    return name[len(prefix):] if name.startswith(prefix) else name


class Bidirectional(TracesShapes, Wrapper):
    """`layer` forwards and a copy (or `backward_layer`) over reversed time; outputs merged by `merge_mode`.

    The backward sequence outputs are flipped back to time order before merging. With return_state the
    outputs are followed by the forward states, then the backward states.
    """

    supports_masking = True

    def __init__(self, layer: Layer, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Layer | None = None, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"Bidirectional expects a layer instance as `layer`, got {layer!r:.100}.")
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"Bidirectional expects a layer instance as `backward_layer`, "
                             f"got {backward_layer!r:.100}.")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}.")
        super().__init__(_copy_layer(layer, "forward_" + _without_prefix(layer.name, "forward_")), **kwargs)
        self.forward_layer = self.layer
        self.backward_layer = backward_layer if backward_layer is not None else _copy_layer(
            layer, "backward_" + _without_prefix(layer.name, "backward_"), go_backwards=not layer.go_backwards)
        self._check_directions()
        for direction in (self.forward_layer, self.backward_layer):
            if hasattr(direction, "zero_output_for_mask"):
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        self._initial_weights = list(weights) if weights is not None else None

    def _check_directions(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError("Bidirectional needs a forward and a backward layer with different go_backwards, "
                             f"got go_backwards={forward.go_backwards} for both.")
        for name in ("stateful", "return_sequences", "return_state"):
            if getattr(forward, name) != getattr(backward, name):
                raise ValueError(f"Bidirectional: the forward and backward layers must agree on {name}, got "
                                 f"{getattr(forward, name)} and {getattr(backward, name)}.")

    @property
    def states(self) -> Any:
        forward, backward = self.forward_layer.states, self.backward_layer.states
        return tuple(forward + backward) if forward and backward else None

    def reset_state(self) -> None:
        if not self.stateful:
            raise AttributeError(f"Bidirectional {self.name!r} is not stateful, so it has no states to reset.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    reset_states = reset_state

    def build(self, sequences_shape: tuple) -> None:
        self.forward_layer._build_for(sequences_shape)
        self.backward_layer._build_for(sequences_shape)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, sequences: Any, initial_state: Any = None, mask: Any = None, training: bool | None = None) -> Any:
        B = backend.impl
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = list(initial_state[:half]), list(initial_state[half:])
        kwargs = {"training": training, **({"mask": mask} if mask is not None else {})}
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_reverse = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        states: list[Any] = []
        if self.return_state:
            states = [*y[1:], *y_reverse[1:]]
            y, y_reverse = y[0], y_reverse[0]
        if self.return_sequences:
            y_reverse = B.flip(y_reverse, axis=1)  # the backward outputs came in processing order
        merged = self._merge(y, y_reverse)
        return [*merged, *states] if self.merge_mode is None else ([merged, *states] if states else merged)

    def _merge(self, y: Any, y_reverse: Any) -> Any:
        B = backend.impl
        if self.merge_mode == "concat":
            return B.concatenate([y, y_reverse], axis=-1)
        if self.merge_mode == "sum":
            return B.add(y, y_reverse)
        if self.merge_mode == "mul":
            return B.multiply(y, y_reverse)
        if self.merge_mode == "ave":
            return B.divide(B.add(y, y_reverse), 2.0)
        return [y, y_reverse]

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        mask = previous_mask[0] if isinstance(previous_mask, (list, tuple)) else previous_mask
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if not self.return_state:
            return masks if self.merge_mode is None else output_mask
        states = len(self.forward_layer.compute_mask(inputs, previous_mask)) - 1
        return masks + [None] * (2 * states)

    def get_config(self) -> dict:
        from lamina.saving.registry import serialize_layer

        config = {**Layer.get_config(self), "merge_mode": self.merge_mode,
                  "layer": serialize_layer(self.forward_layer), "backward_layer": serialize_layer(self.backward_layer)}
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Bidirectional":
        from lamina.saving.registry import deserialize_layer

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        return cls(layer, backward_layer=deserialize_layer(backward) if backward is not None else None, **config)
