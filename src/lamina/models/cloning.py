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
    replaces each call. `recursive` clones nested Sequential and functional models the same way."""
    from lamina.models.functional import Functional
    from lamina.models.sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
    given = clone_function or _fresh

    def clone_layer(layer: Layer) -> Layer:
        if recursive and isinstance(layer, (Sequential, Functional)):
            return clone_model(layer, clone_function=clone_function, call_function=call_function, recursive=True)
        return given(layer)

    if isinstance(model, Sequential):
        return _clone_sequential(model, input_tensors, clone_layer)
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_layer, call_function)
    if input_tensors is not None or call_function is not None:
        raise ValueError(f"clone_model: input_tensors and call_function apply to Sequential and functional models "
                         f"only; {type(model).__name__} is a subclassed model.")
    return _fresh(model)


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
    return Functional(inputs, outputs, name=model.name, trainable=model.trainable)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The model (new weights) whose architecture `model.to_json()` wrote."""
    from lamina.saving import registry

    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as error:
        raise ValueError(f"model_from_json expects the JSON text of model.to_json(), got {json_string!r:.100} "
                         f"({error}).") from None
    return registry.deserialize_layer(config, custom_objects)
