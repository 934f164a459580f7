"""Model: a Layer that trains. Model(inputs, outputs) builds a functional model; subclass it for your own `call`."""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any, Callable, Iterator

from lamina import backend
from lamina.layers.layer import Layer, structure_changed
from lamina.ops.symbolic import is_symbolic, symbolic_inputs
from lamina.trainers.trainer import Trainer
from lamina.utils import summary


class Model(Trainer, Layer):
    """Groups layers into an object with training and inference features."""

    def __new__(cls, *args: Any, **kwargs: Any) -> "Model":
        if cls is Model and _looks_functional(args, kwargs):
            from lamina.models.functional import Functional

            return Functional(*args, **kwargs)
        instance = super().__new__(cls)
        if cls.__init__ is not Model.__init__:  # a subclass's own arguments, for its default config
            instance._init_arguments = _bound_arguments(cls.__init__, args, kwargs)
        return instance

    def __init__(self, *args: Any, name: str | None = None, trainable: bool = True, dtype: Any = None,
                 **kwargs: Any) -> None:
        from lamina.models.functional import Functional

        if not isinstance(self, Functional) and _looks_functional(args, kwargs):
            # a subclass whose __init__ calls super().__init__(inputs, outputs): it becomes functional
            self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
            return
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

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients that `loss.backward()` left on the weights (torch's Module.zero_grad, which
        Keras's torch guides call in a custom `train_step`)."""
        backend.impl.clear_gradients(self.trainable_weights)

    def reset_states(self) -> None:
        """Zero the states of every stateful layer inside the model (Keras 2's spelling, kept by tutorials)."""
        for layer in self.layers:
            if getattr(layer, "stateful", False) or isinstance(layer, Model):
                layer.reset_states()

    @property
    def output_names(self) -> list[str]:
        return [self.name]

    def summary(self, line_length: int | None = None, positions: list[float] | None = None,
                print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range: list[str] | None = None) -> None:
        """Print a table of the layers, their output shapes and parameter counts (see utils.summary)."""
        summary.print_summary(self, line_length, positions, print_fn, expand_nested, show_trainable, layer_range)

    def get_config(self) -> dict:
        """name and trainable, and a subclass's own constructor arguments where they are plain values or layers
        (as Keras 3 does for a subclass without get_config of its own)."""
        config = {"name": self.name, "trainable": self.trainable}
        for key, value in (getattr(self, "_init_arguments", None) or {}).items():
            encoded = _encode_argument(value)
            if key not in config and encoded is not _UNSAVABLE:
                config[key] = encoded
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Model":
        if "layers" in config and "input_layers" in config:
            from lamina.models.functional import Functional

            return Functional.from_config(config, custom_objects)
        arguments = {key: _decode_argument(value, custom_objects) for key, value in config.items()}
        try:
            return cls(**arguments)
        except TypeError as error:
            raise TypeError(f"Could not rebuild {cls.__name__} from its config ({error}). Give {cls.__name__} a "
                            "get_config() that returns its constructor arguments (and a from_config() if they "
                            "need rebuilding).") from error

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as JSON text (no weights) in Keras's layout, for `lamina.models.model_from_json`
        (and Keras's)."""
        import json

        from lamina.saving import keras_names, registry

        return json.dumps(keras_names.to_keras(registry.serialize_layer(self)), **kwargs)

    def save(self, filepath: Any, overwrite: bool = True, **kwargs: Any) -> None:
        """Save architecture, weights and compile arguments to a `.keras` file (atomically)."""
        from lamina.saving import saving_api

        saving_api.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        from lamina.saving import saving_api

        saving_api.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any, skip_mismatch: bool = False, by_name: bool = False) -> None:
        from lamina.saving import saving_api

        saving_api.load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def export(self, filepath: Any, format: str = "tf_saved_model", verbose: bool | None = None,
               input_signature: Any = None, **kwargs: Any) -> None:
        """Write the inference forward pass for deployment without Lamina: format="onnx" (an ONNX file) or
        "torch" (a torch.export `.pt2` program); both need the torch backend (see lamina.export.model_export)."""
        from lamina.export import model_export

        model_export.export_model(self, filepath, format=format, verbose=verbose, input_signature=input_signature,
                                  **kwargs)


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
        structure_changed()
        raise


@functools.lru_cache(maxsize=None)
def _functional_subclass(cls: type) -> type:
    """`cls` with Functional mixed in after it (so its own methods still come first)."""
    from lamina.models.functional import Functional

    return type(cls.__name__, (cls, Functional), {"__module__": cls.__module__, "__qualname__": cls.__qualname__})


_UNSAVABLE = object()


def _bound_arguments(init: Any, args: tuple, kwargs: dict) -> dict:
    """The arguments a subclass was given, by parameter name (**kwargs spread out); {} if they do not bind."""
    try:
        bound = inspect.signature(init).bind(None, *args, **kwargs)
    except TypeError:
        return {}
    parameters = inspect.signature(init).parameters
    arguments: dict = {}
    for index, (key, value) in enumerate(bound.arguments.items()):
        if index == 0:
            continue  # self
        kind = parameters[key].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            arguments[key] = value
    return arguments


def _encode_argument(value: Any) -> Any:
    """A constructor argument as config: plain values as they are, layers serialized; else _UNSAVABLE."""
    from lamina.saving import registry

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Layer):
        return registry.serialize_layer(value)
    if isinstance(value, (list, tuple)):
        items = [_encode_argument(item) for item in value]
        return _UNSAVABLE if any(item is _UNSAVABLE for item in items) else items
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        encoded = {key: _encode_argument(item) for key, item in value.items()}
        return _UNSAVABLE if any(item is _UNSAVABLE for item in encoded.values()) else encoded
    return _UNSAVABLE


def _decode_argument(value: Any, custom_objects: dict | None) -> Any:
    """A serialized layer in a config back as a layer; anything else as it is."""
    from lamina.saving import registry

    if isinstance(value, dict) and isinstance(value.get("class_name"), str) and isinstance(value.get("config"),
                                                                                              dict):
        return registry.deserialize_layer(value, custom_objects)
    if isinstance(value, list):
        return [_decode_argument(item, custom_objects) for item in value]
    return value


def _looks_functional(args: tuple, kwargs: dict) -> bool:
    inputs = kwargs.get("inputs", args[0] if args else None)
    outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
    return inputs is not None and outputs is not None and is_symbolic(inputs)
