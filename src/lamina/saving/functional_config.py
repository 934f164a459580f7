"""The config of a functional model in the Keras 3 layout, and the model rebuilt from it.

    {"name", "trainable",
     "layers": [{"module", "class_name", "config", "registered_name", "name",
                 "inbound_nodes": [{"args": [...], "kwargs": {...}}, ...]}, ...],
     "input_layers": [[layer_name, node_index, tensor_index], ...],   # or {key: [...]} for dict inputs
     "output_layers": [...]}

A symbolic tensor inside args and kwargs is {"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer_name, node_index, tensor_index]}}. Node indices count only the calls that belong to
this model, so a layer shared with another model numbers its nodes the same in both files.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.layers.input_layer import InputLayer
from lamina.layers.layer import Layer, Node
from lamina.ops.symbolic import KerasTensor
from lamina.saving import registry
from lamina.utils import tree

TENSOR = "__keras_tensor__"


# --- model -> config ----------------------------------------------------------------------------------


def functional_to_config(model: Any) -> dict:
    """The Keras 3 functional config of `model` (a Functional)."""
    own_nodes = {id(node) for node in model._nodes}
    layers: list[Layer] = []
    for node in model._nodes:
        if all(node.layer is not layer for layer in layers):
            layers.append(node.layer)
    names = [layer.name for layer in layers]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"Cannot save model {model.name!r}: several of its layers are named {duplicated[0]!r}; "
                         "layer names must be unique within a model.")
    node_numbers: dict[int, int] = {}  # id(node) -> its index among its layer's calls in this model
    layer_nodes: dict[int, list[Node]] = {}
    for layer in layers:
        layer_nodes[id(layer)] = [node for node in layer._inbound_nodes if id(node) in own_nodes]
        node_numbers.update({id(node): index for index, node in enumerate(layer_nodes[id(layer)])})

    def history(tensor: KerasTensor) -> list:
        layer, node_index, tensor_index = tensor._history
        return [layer.name, node_numbers[id(layer._inbound_nodes[node_index])], tensor_index]

    def encode(value: Any, layer: Layer) -> Any:
        if isinstance(value, KerasTensor):
            return {"class_name": TENSOR, "config": {"shape": list(value.shape), "dtype": value.dtype,
                                                     "keras_history": history(value)}}
        if isinstance(value, (list, tuple)):
            return [encode(item, layer) for item in value]
        if isinstance(value, dict):
            return {str(key): encode(item, layer) for key, item in value.items()}
        if isinstance(value, np.generic):
            return value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        raise ValueError(f"Cannot save the call of layer {layer.name!r}: its argument {value!r:.100} is neither "
                         "a symbolic tensor nor a plain value (number, string, list, dict).")

    entries = []
    for layer in layers:
        entry = {**registry.serialize_layer(layer), "name": layer.name, "inbound_nodes": []}
        if not isinstance(layer, InputLayer):
            entry["inbound_nodes"] = [{"args": encode(list(node.args), layer), "kwargs": encode(node.kwargs, layer)}
                                      for node in layer_nodes[id(layer)]]
        entries.append(entry)

    def structure(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return [history(value)]
        if isinstance(value, dict):
            return {key: history(item) for key, item in value.items()}
        return [structure(item)[0] if isinstance(item, KerasTensor) else structure(item) for item in value]

    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": structure(model._inputs_structure), "output_layers": structure(model._outputs_structure)}


# --- config -> model ----------------------------------------------------------------------------------


class _NotReady(Exception):
    """A node's input tensor is not made yet: replay the node in a later pass."""


def functional_from_config(config: dict, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuild the layers, replay their calls in an order where every input exists, and wrap them in a model."""
    from lamina.models.functional import Functional

    for key, kind in (("layers", list), ("input_layers", (list, dict)), ("output_layers", (list, dict))):
        if not isinstance(config.get(key), kind):
            raise ValueError(f"A functional config needs {key!r} as a list, got {config.get(key)!r:.100}.")
    layers: dict[str, Layer] = {}
    queues: list[tuple[str, list[Any]]] = []  # per layer, the calls still to replay, in order
    made: dict[tuple[str, int], list[KerasTensor]] = {}  # (layer name, node index) -> output tensors
    for entry in config["layers"]:
        layer = registry.deserialize_layer(entry, custom_objects)
        name = entry.get("name", layer.name)
        if not isinstance(name, str) or name in layers:
            raise ValueError(f"The functional config has a missing or repeated layer name {name!r}.")
        layers[name] = layer
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
            raise ValueError(f"Layer {name!r}: 'inbound_nodes' must be a list of {{'args', 'kwargs'}} dicts.")
        if isinstance(layer, InputLayer):
            made[(name, 0)] = [layer.output_tensor]
        queues.append((name, list(nodes)))
    _replay(queues, layers, made)
    inputs = _tensors(config["input_layers"], made)
    outputs = _tensors(config["output_layers"], made)
    return Functional(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _replay(queues: list[tuple[str, list[Any]]], layers: dict[str, Layer],
            made: dict[tuple[str, int], list[KerasTensor]]) -> None:
    """Call each layer on its saved inputs, pass after pass, until every call is made."""
    counts = {name: sum(1 for key in made if key[0] == name) for name in layers}
    while any(queue for _, queue in queues):
        progress = False
        for name, queue in queues:
            while queue:
                try:
                    args = _decode(queue[0].get("args", []), layers, made)
                    kwargs = _decode(queue[0].get("kwargs", {}), layers, made)
                except _NotReady:
                    break
                if not isinstance(args, list) or not isinstance(kwargs, dict):
                    raise ValueError(f"Layer {name!r}: a node needs 'args' as a list and 'kwargs' as a dict.")
                made[(name, counts[name])] = tree.flatten(layers[name](*args, **kwargs))
                counts[name] += 1
                queue.pop(0)
                progress = True
        if not progress:
            waiting = [name for name, queue in queues if queue]
            raise ValueError(f"The functional config cannot be replayed: the calls of layer(s) {waiting} wait for "
                             "tensors that no saved call makes.")


def _decode(value: Any, layers: dict[str, Layer], made: dict[tuple[str, int], list[KerasTensor]]) -> Any:
    if isinstance(value, dict) and value.get("class_name") == TENSOR:
        history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
        if not _is_history(history):
            raise ValueError(f"A saved tensor needs 'keras_history' as [layer_name, node_index, tensor_index], "
                             f"got {history!r:.100}.")
        if history[0] not in layers:
            raise ValueError(f"A saved call uses the output of layer {history[0]!r}, which the config does not hold.")
        if (history[0], history[1]) not in made:
            raise _NotReady
        return _pick(made, history)
    if isinstance(value, dict):
        return {key: _decode(item, layers, made) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, layers, made) for item in value]
    return value


def _is_history(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in value[1:]))


def _pick(made: dict[tuple[str, int], list[KerasTensor]], history: list) -> KerasTensor:
    name, node_index, tensor_index = history
    tensors = made.get((name, node_index))
    if tensors is None or not 0 <= tensor_index < len(tensors):
        raise ValueError(f"The config refers to tensor {history}, which layer {name!r} does not make.")
    return tensors[tensor_index]


def _tensors(value: Any, made: dict[tuple[str, int], list[KerasTensor]]) -> Any:
    """Model inputs or outputs: a list when several, one tensor when one, a dict when saved as a dict."""
    if isinstance(value, dict):
        return {key: _tensors(item, made) for key, item in value.items()}
    if _is_history(value):
        return _pick(made, value)
    if not isinstance(value, list) or not value:
        raise ValueError(f"Model inputs and outputs must be saved as [layer_name, node_index, tensor_index] "
                         f"entries, got {value!r:.100}.")
    tensors = [_tensors(item, made) for item in value]
    return tensors[0] if len(tensors) == 1 else tensors
