"""Model: a Layer that trains. Model(inputs, outputs) builds a functional model; subclass it for your own `call`."""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator

from lamina.layers.layer import Layer
from lamina.ops.symbolic import is_symbolic, symbolic_inputs
from lamina.trainers.trainer import Trainer
from lamina.utils import summary


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        if cls is Model and _looks_functional(args, kwargs):
            from lamina.models.functional import Functional

            return Functional(*args, **kwargs)
        return super().__new__(cls)

    def __init__(self, *args: Any, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 **kwargs: Any) -> None:
        if args:
            raise TypeError(f"{type(self).__name__}() takes keyword arguments only, got {len(args)} positional.")
        Layer.__init__(self, name=name, trainable=trainable, dtype=dtype, **kwargs)
        Trainer.__init__(self)

    def build(self, input_shape: Any) -> None:
        """Build a subclassed model by tracing `call` on symbolic inputs of this shape."""
        if self.built:
            return
        inputs = symbolic_inputs(input_shape)
        with undo_build_on_error(self):
            self.built = True  # so that the trace below does not come back here
            self._symbolic_call((inputs,), {})
        self._build_shapes = input_shape

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or by index in `layers`."""
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(f"get_layer: index {index} is out of range for a model of {len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        names = ", ".join(layer.name for layer in self.layers)
        raise ValueError(f"No layer named {name!r} in model {self.name!r}; its layers are: {names}.")

    @property
    def output_names(self) -> list[str]:
        return [self.name]

    def summary(self, line_length: int | None = None, positions: list[float] | None = None,
                print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: list[str] | None = None) -> None:
        """Print a table of the layers, their output shapes and parameter counts (see utils.summary)."""
        summary.print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable, layer_range)

    def get_config(self) -> dict:
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        if "layers" in config and "input_layers" in config:
            from lamina.models.functional import Functional

            return Functional.from_config(config, custom_objects)
        return cls(**config)

    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Save architecture, weights and compile arguments to a `.keras` file (atomically)."""
        from lamina.saving import saving_api

        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        from lamina.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        from lamina.saving import saving_api

        saving_api.load_weights(self, filepath)


@contextlib.contextmanager
def undo_build_on_error(model: Layer) -> Iterator[None]:
    """If building fails, leave the model and its layers as they were: nothing marked built, no weight added."""
    layers = [model, *model._flat_layers()]
    lists = ("_own_variables", "_inbound_nodes", "_layers", "_seed_generators", "_losses")
    saved = [(layer.built, layer._build_shapes, [list(getattr(layer, name)) for name in lists]) for layer in layers]
    try:
        yield
    except BaseException:
        for layer, (built, shapes, contents) in zip(layers, saved):
            layer.built, layer._build_shapes = built, shapes
            for name, content in zip(lists, contents):
                getattr(layer, name)[:] = content
        raise


def _looks_functional(args: tuple, kwargs: dict) -> bool:
    inputs = kwargs.get("inputs", args[0] if args else None)
    outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
    return inputs is not None and outputs is not None and is_symbolic(inputs)
