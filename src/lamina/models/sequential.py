"""Sequential: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from typing import Any, Sequence

from lamina.layers.input_layer import InputLayer
from lamina.layers.layer import Layer, structure_changed
from lamina.models import input_rank
from lamina.models.model import Model, undo_build_on_error
from lamina.ops.symbolic import KerasTensor


class Sequential(Model):
    """A linear stack of layers; `add` layers one by one or pass them to the constructor."""

    def __init__(self, layers: Sequence[Layer] | None = None, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._input_layer: InputLayer | None = None
        self._stack: list[Layer] = []
        self._graph_inputs: list[KerasTensor] = []
        self._graph_outputs: list[KerasTensor] = []
        self._refresh_plan()
        for layer in layers or []:
            self.add(layer)

    def add(self, layer: Any) -> None:
        """Append a layer (or an Input) to the stack, building it at once when the input shape is known."""
        if isinstance(layer, KerasTensor) and layer._history and isinstance(layer._history[0], InputLayer):
            layer = layer._history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a Layer, got {type(layer).__name__}: {layer!r}.")
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
            self._input_layer = layer
            self._graph_inputs, self._graph_outputs = [layer.output_tensor], [layer.output_tensor]
            self.built = True
            return
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"Sequential model {self.name!r} already has a layer named {layer.name!r}; "
                             "layer names must be unique.")
        before = (self._input_layer, self._graph_inputs, self._graph_outputs, self.built)
        if not self._stack and self._input_layer is None and layer._input_shape_argument is not None:
            self.add(InputLayer(batch_shape=layer._input_shape_argument))
        try:  # a layer that does not fit the stack leaves the model as it was
            with undo_build_on_error(layer):
                outputs = [layer(self._graph_outputs[0])] if self._graph_outputs else []
        except BaseException:
            self._input_layer, self._graph_inputs, self._graph_outputs, self.built = before
            raise
        self._stack.append(layer)
        self._track(layer)
        self._graph_outputs = outputs or self._graph_outputs
        self._refresh_plan()

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._stack:
            raise ValueError(f"Sequential model {self.name!r} has no layers to pop.")
        layer = self._stack.pop()
        self._layers.remove(layer)
        structure_changed()
        if self._input_layer is not None:
            self._rebuild_symbolic()
        self._refresh_plan()
        return layer

    def _refresh_plan(self) -> None:
        self._plan = [(layer._call_function, layer._call_takes_training) for layer in self._stack]
        self._masked = any(layer._creates_mask for layer in self._stack)  # then masks flow along the stack

    def _rebuild_symbolic(self) -> None:
        tensor = self._input_layer.output_tensor
        for layer in self._stack:
            tensor = layer(tensor)
        self._graph_outputs = [tensor]

    @property
    def layers(self) -> list[Layer]:
        return list(self._stack)

    def _defined(self, what: str) -> list[KerasTensor]:
        tensors = self._graph_inputs if what.startswith("input") else self._graph_outputs
        if not tensors:
            raise AttributeError(f"Sequential model {self.name!r} has no defined {what} yet: give its first layer "
                                 "input_shape=..., start it with an Input, or build it (build, fit or a call on "
                                 "data) first.")
        return tensors

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._defined("inputs"))

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._defined("outputs"))

    @property
    def input(self) -> KerasTensor:
        return self._defined("input")[0]

    @property
    def output(self) -> KerasTensor:
        return self._defined("output")[0]

    @property
    def input_shape(self) -> tuple:
        return self._defined("input shape")[0].shape

    @property
    def output_shape(self) -> tuple:
        return self._defined("output shape")[0].shape

    @property
    def output_names(self) -> list[str]:
        return [self._stack[-1].name] if self._stack else [self.name]

    def build(self, input_shape: Any = None) -> None:
        """Build every layer for inputs of `input_shape` (batch axis included, may be None).

        A failed build changes nothing, so that a call with inputs of the right shape can follow.
        """
        if not self._stack:
            raise ValueError(f"Sequential model {self.name!r} has no layers: add layers before building, calling, "
                             "fitting or predicting with it.")
        before = (self._input_layer, self._graph_inputs, self._graph_outputs)
        with undo_build_on_error(self):
            try:
                if self._input_layer is None:
                    if input_shape is None:
                        raise ValueError(f"Sequential model {self.name!r} has no input shape: pass input_shape to "
                                         "its first layer, add an Input, or call build(input_shape).")
                    self._input_layer = InputLayer(batch_shape=tuple(input_shape))
                    self._graph_inputs = [self._input_layer.output_tensor]
                self._rebuild_symbolic()
            except BaseException:
                self._input_layer, self._graph_inputs, self._graph_outputs = before
                raise
        self.built = True

    def call(self, inputs: Any, training: Any = None) -> Any:
        x = inputs
        if self._graph_inputs and hasattr(x, "shape"):
            x = input_rank.adjust_rank(x, self._graph_inputs[0].shape)
        if self._masked:
            mask = None
            for layer in self._stack:
                extra = {"training": training} if layer._call_takes_training else {}
                x, mask = layer._call_with_mask((x,), extra, mask)
            return x
        for call, takes_training in self._plan:
            x = call(x, training=training) if takes_training else call(x)
        return x

    def get_config(self) -> dict:
        from lamina.saving import registry

        layers = []
        if self._input_layer is not None:
            layers.append(registry.serialize_layer(self._input_layer))
        layers.extend(registry.serialize_layer(layer) for layer in self._stack)
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Sequential":
        from lamina.saving import registry

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            model.add(registry.deserialize_layer(layer_config, custom_objects))
        return model
