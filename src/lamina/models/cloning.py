"""clone_model and model_from_json: new models with the architecture of others (fresh weights)."""

from __future__ import annotations

import json
from typing import Any, Callable

from lamina.layers.input_layer import Input, InputLayer
from lamina.layers.layer import Layer
from lamina.ops.symbolic import KerasTensor
from lamina.utils import tree


def _fresh(layer: Layer) -> Layer:
    """A new layer of the same class and config, unbuilt (its weights are made anew)."""
    return type(layer).from_config(layer.get_config())


def clone_model(model: Any, input_tensors: Any = None, clone_function: Callable[[Layer], Layer] | None = None,
                call_function: Callable[..., Any] | None = None, recursive: bool = False, **kwargs: Any) -> Any:
    """A new model with `model`'s architecture and new weights: each layer goes through `clone_function`
    (default: a fresh layer from its config); in a functional graph `call_function(layer, *args, **kwargs)`
    replaces each call. `recursive` clones nested Sequential and functional models the same way. A compiled
    model's clone is compiled with the same arguments (a fresh optimizer and metrics)."""
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    cache = kwargs.pop("cache", None)
    if kwargs:
        raise ValueError(f"clone_model got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
    if clone_function is not None and not callable(clone_function):
        raise ValueError(f"clone_model: clone_function must be a callable, got {clone_function!r:.100}.")
    clone_layer = _cloner(clone_function, call_function, recursive, {} if cache is None else cache)
    if isinstance(model, Sequential):
        if call_function is not None:
            raise ValueError("clone_model: call_function applies to functional models only; a Sequential model "
                             "lists its layers without calling them. Got a Sequential model "
                             f"{model.name!r}.")
        clone = _clone_sequential(model, input_tensors, clone_layer)
    elif isinstance(model, Functional) and (clone_function is not None or input_tensors is not None
                                            or not _overrides_get_config(model)):
        clone = _clone_functional(model, input_tensors, clone_layer, call_function)
    else:
        return _clone_subclassed(model, input_tensors, clone_function, call_function)
    _copy_compile_state(model, clone)
    return clone


def _cloner(clone_function: Callable[[Layer], Layer] | None, call_function: Callable[..., Any] | None,
            recursive: bool, cache: dict[int, Any]) -> Callable[[Layer], Layer]:
    """clone_function with layer sharing kept (one clone per layer) and nested models cloned if recursive."""
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    given = clone_function or _fresh

    def clone_layer(layer: Layer) -> Layer:
        if id(layer) not in cache:
            if recursive and isinstance(layer, (Sequential, Functional)):
                cache[id(layer)] = clone_model(layer, clone_function=clone_function, recursive=True,
                                               call_function=None if isinstance(layer, Sequential) else call_function,
                                               cache=cache)
            else:
                cache[id(layer)] = given(layer)
        return cache[id(layer)]

    return clone_layer


def _clone_subclassed(model: Any, input_tensors: Any, clone_function: Any, call_function: Any) -> Any:
    """A subclassed model is rebuilt from its config: the arguments that rewire layers do not apply."""
    from lamina.saving import registry

    if clone_function is not None or input_tensors is not None:
        raise ValueError("clone_model: clone_function and input_tensors apply to Sequential and functional models "
                         f"only; {type(model).__name__} is a subclassed model.")
    if call_function is not None:
        raise ValueError("clone_model: call_function applies to functional models only; "
                         f"{type(model).__name__} is a subclassed model.")
    cls = _user_class(model)
    return registry.deserialize_layer(registry.serialize_layer(model), custom_objects={cls.__name__: cls})


def _copy_compile_state(model: Any, clone: Any) -> None:
    """Compile the clone as the model was compiled, from the saved form of the arguments (so nothing is shared)."""
    if not getattr(model, "compiled", False):
        return
    import warnings

    from lamina.saving import saving_api

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # arguments that cannot be written out leave the clone uncompiled
        config = saving_api.compile_config(model)
    if config is not None:
        saving_api.compile_from_config(clone, config)


def _clone_sequential(model: Any, input_tensors: Any, clone_layer: Callable[[Layer], Layer]) -> Any:
    from lamina.models.sequential import Sequential

    start: list[Any] = []
    if input_tensors is not None:
        tensors = tree.flatten(input_tensors)
        if len(tensors) != 1:
            raise ValueError(f"clone_model: a Sequential model takes one input tensor, got {len(tensors)}.")
        start = [tensors[0]]
    elif model._input_layer is not None:
        start = [InputLayer(batch_shape=model._input_layer.batch_shape, dtype=model._input_layer.dtype)]
    return Sequential([*start, *(clone_layer(layer) for layer in model.layers)], name=model.name,
                      trainable=model.trainable)


def _clone_functional(model: Any, input_tensors: Any, clone_layer: Callable[[Layer], Layer],
                      call_function: Callable[..., Any] | None) -> Any:
    from lamina.models.functional import Functional
    from lamina.ops.operation import Operation

    if input_tensors is None:
        new_inputs = [Input(batch_shape=t.shape, dtype=t.dtype, name=t._history[0].name) for t in model.inputs]
    else:
        new_inputs = tree.flatten(input_tensors)
        if len(new_inputs) != len(model.inputs):
            raise ValueError(f"clone_model: model {model.name!r} takes {len(model.inputs)} input(s), got "
                             f"{len(new_inputs)} input tensor(s).")
    made = {id(old): new for old, new in zip(model.inputs, new_inputs)}
    clones: dict[int, Layer] = {}
    for node in model._nodes:
        layer = node.layer
        if isinstance(layer, InputLayer):
            continue
        if id(layer) not in clones:
            clones[id(layer)] = Operation(layer.op, layer.function, **layer.op_config) \
                if isinstance(layer, Operation) else clone_layer(layer)
        clone = clones[id(layer)]
        fill = lambda t: made[id(t)] if isinstance(t, KerasTensor) else t  # noqa: E731
        args, kwargs = tree.map_structure(fill, node.args), tree.map_structure(fill, node.kwargs)
        if node.mask is not None and any(m is not None and m._history is not None for m in tree.flatten(node.mask)):
            kwargs["mask"] = tree.map_structure(fill, node.mask)
        if call_function is not None and not isinstance(clone, Operation):
            outputs = call_function(clone, *args, **kwargs)
        else:
            outputs = clone(*args, **kwargs)
        for old, new in zip(tree.flatten(node.outputs), tree.flatten(outputs)):
            made[id(old)] = new
    inputs = tree.unflatten_as(model._inputs_structure, new_inputs) if input_tensors is None else input_tensors
    outputs = tree.unflatten_as(model._outputs_structure, [made[id(t)] for t in model.outputs])
    cls = _functional_like_class(model) or Functional
    return cls(inputs, outputs, name=model.name, trainable=model.trainable)


def _user_class(model: Any) -> type:
    """The class a user wrote: a functional subclass's instances have Functional mixed into their class."""
    from lamina.models.functional import Functional

    cls = type(model)
    bases = cls.__bases__
    return bases[0] if len(bases) == 2 and bases[1] is Functional and bases[0].__name__ == cls.__name__ else cls


def _overrides_get_config(model: Any) -> bool:
    """Whether a functional subclass has a get_config of its own (then, as in Keras, it is rebuilt from it)."""
    from lamina.models.functional import Functional
    from lamina.models.model import Model

    return any("get_config" in vars(cls) for cls in type(model).__mro__ if cls not in (Functional, Model)
               and issubclass(cls, Model) and cls.__module__.split(".")[0] != "lamina")


def _functional_like_class(model: Any) -> type | None:
    """The model's own class when its constructor takes (inputs, outputs, ...) as Functional's does."""
    import inspect

    from lamina.models.functional import Functional
    from lamina.models.model import Model

    cls = _user_class(model)
    if cls in (Functional, Model):
        return None
    try:
        parameters = list(inspect.signature(cls.__init__).parameters)[1:3]
    except (TypeError, ValueError):
        return None
    return cls if parameters == ["inputs", "outputs"] else None


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The model (new weights) whose architecture `model.to_json()` wrote."""
    from lamina.saving import keras_names, registry

    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as error:
        raise ValueError(f"model_from_json expects the JSON text of model.to_json(), got {json_string!r:.100} "
                         f"({error}).") from None
    config = keras_names.from_keras(config)  # JSON written by Keras names features Lamina leaves unused
    if not isinstance(config, dict):
        raise ValueError(f"model_from_json expects a JSON object describing a model, got {type(config).__name__}.")
    return registry.deserialize_layer(config, custom_objects)
