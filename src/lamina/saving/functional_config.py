"""The config of a functional model in the Keras 3 layout, and the model rebuilt from it.

    {"name", "trainable",
     "layers": [{"module", "class_name", "config", "registered_name", "name",
                 "inbound_nodes": [{"args": [...], "kwargs": {...}}, ...]}, ...],
     "input_layers": [[layer_name, node_index, tensor_index], ...],   # or {key: [...]} for dict inputs
     "output_layers": [...]}

A symbolic tensor inside args and kwargs is {"class_name": "__keras_tensor__", "config": {"shape", "dtype",
"keras_history": [layer_name, node_index, tensor_index]}}. Node indices count only the calls that belong to
this model, so a layer shared with another model numbers its nodes the same in both files.

An op applied to symbolic tensors (`ops.mean(x, axis=1)`, `x[:, -1]`, `a + b`) is an entry like a layer's:
{"module": "lamina.ops.<family>", "class_name": the op's name in CamelCase ("Mean", "GetItem"), "config":
{"name", ...arguments stored with the op, as Keras files have them}, "inbound_nodes"}; its calls keep every
other argument. In op calls, tuples are {"class_name": "__tuple__", "config": {"value": [...]}}, slices
{"class_name": "__slice__", "config": {"start", "stop", "step"}}, and `...` {"class_name": "__ellipsis__"}.
"""

from __future__ import annotations

import collections
from typing import Any, Iterator

import numpy as np

from lamina.layers.input_layer import InputLayer
from lamina.layers.layer import Layer, Node
from lamina.ops.operation import Operation
from lamina.ops.symbolic import KerasTensor
from lamina.saving import registry
from lamina.utils import naming, tree

TENSOR = "__keras_tensor__"
TUPLE, SLICE, ELLIPSIS = "__tuple__", "__slice__", "__ellipsis__"
OP_MODULES = ("lamina.ops", "keras.src.ops", "keras.ops")


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
        if isinstance(value, tuple) and layer._is_operation:  # an index or axis tuple means more than a list
            return {"class_name": TUPLE, "config": {"value": [encode(item, layer) for item in value]}}
        if isinstance(value, slice):
            return {"class_name": SLICE, "config": {key: encode(getattr(value, key), layer)
                                                    for key in ("start", "stop", "step")}}
        if value is Ellipsis:
            return {"class_name": ELLIPSIS, "config": {}}
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
        serialized = _serialize_op(layer) if isinstance(layer, Operation) else registry.serialize_layer(layer)
        entry = {**serialized, "name": layer.name, "inbound_nodes": []}
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


Key = tuple[str, int]  # (layer name, node index): one saved call
Made = dict[Key, list[KerasTensor]]  # the flat output tensors of each call made so far


def functional_from_config(config: dict, custom_objects: dict[str, Any] | None = None) -> Any:
    """Rebuild the layers, replay their calls in an order where every input exists, and wrap them in a model."""
    from lamina.models.functional import Functional

    for key, kind in (("layers", list), ("input_layers", (list, dict)), ("output_layers", (list, dict))):
        if not isinstance(config.get(key), kind):
            raise ValueError(f"A functional config needs {key!r} as a list (or a dict of tensors), "
                             f"got {config.get(key)!r:.100}.")
    layers: dict[str, Layer] = {}
    calls: dict[Key, dict] = {}  # the saved calls to replay
    made: Made = {}
    for entry in config["layers"]:
        layer = _deserialize_op(entry) if _is_op_entry(entry) else registry.deserialize_layer(entry, custom_objects)
        name = entry.get("name", layer.name)
        if not isinstance(name, str) or name in layers:
            raise ValueError(f"The functional config has a missing or repeated layer name {name!r}.")
        layers[name] = layer
        nodes = entry.get("inbound_nodes", [])
        if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
            raise ValueError(f"Layer {name!r}: 'inbound_nodes' must be a list of {{'args', 'kwargs'}} dicts.")
        if isinstance(layer, InputLayer):
            made[(name, 0)] = [layer.output_tensor]
        first = 1 if isinstance(layer, InputLayer) else 0
        calls.update({(name, first + index): node for index, node in enumerate(nodes)})
    _replay(calls, layers, made)
    inputs = _tensors(config["input_layers"], made)
    outputs = _tensors(config["output_layers"], made)
    return Functional(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _replay(calls: dict[Key, dict], layers: dict[str, Layer], made: Made) -> None:
    """Make every saved call once the calls it reads from are made (and, per layer, in saved order)."""
    missing: dict[Key, int] = {}  # call -> how many of the calls it needs are not made yet
    followers: dict[Key, list[Key]] = {}
    ready: collections.deque[Key] = collections.deque()
    for key, node in calls.items():
        needs = {ref for ref in _references(node) if ref not in made}
        if (key[0], key[1] - 1) in calls:
            needs.add((key[0], key[1] - 1))
        for ref in needs:
            if ref[0] not in layers:
                raise ValueError(f"A saved call of layer {key[0]!r} uses the output of layer {ref[0]!r}, which the "
                                 "config does not hold.")
            if ref not in calls:
                raise ValueError(f"A saved call of layer {key[0]!r} uses call {ref[1]} of layer {ref[0]!r}, which "
                                 "the config does not hold.")
            followers.setdefault(ref, []).append(key)
        missing[key] = len(needs)
        if not needs:
            ready.append(key)
    while ready:
        key = ready.popleft()
        args, kwargs = _decode(calls[key].get("args", []), made), _decode(calls[key].get("kwargs", {}), made)
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError(f"Layer {key[0]!r}: a saved call needs 'args' as a list and 'kwargs' as a dict.")
        made[key] = tree.flatten(layers[key[0]](*args, **kwargs))
        for follower in followers.pop(key, []):
            missing[follower] -= 1
            if missing[follower] == 0:
                ready.append(follower)
    waiting = sorted({key[0] for key in calls if key not in made})
    if waiting:
        raise ValueError(f"The functional config cannot be replayed: the calls of layer(s) {waiting} wait on each "
                         "other in a cycle.")


def _history_of(value: Any) -> list | None:
    """The [layer_name, node_index, tensor_index] of a saved tensor, or None for any other value."""
    if not (isinstance(value, dict) and value.get("class_name") == TENSOR):
        return None
    history = value.get("config", {}).get("keras_history") if isinstance(value.get("config"), dict) else None
    if not _is_history(history):
        raise ValueError(f"A saved tensor needs 'keras_history' as [layer_name, node_index, tensor_index], "
                         f"got {history!r:.100}.")
    return history


def _references(value: Any) -> Iterator[Key]:
    """The calls whose outputs a saved argument structure reads."""
    history = _history_of(value)
    if history is not None:
        yield (history[0], history[1])
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _decode(value: Any, made: Made) -> Any:
    history = _history_of(value)
    if history is not None:
        return _pick(made, history)
    if isinstance(value, dict) and value.get("class_name") in (TUPLE, SLICE, ELLIPSIS):
        return _decode_special(value, made)
    if isinstance(value, dict):
        return {key: _decode(item, made) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item, made) for item in value]
    return value


def _is_history(value: Any) -> bool:
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in value[1:]))


def _pick(made: Made, history: list) -> KerasTensor:
    name, node_index, tensor_index = history
    tensors = made.get((name, node_index))
    if tensors is None or not 0 <= tensor_index < len(tensors):
        raise ValueError(f"The config refers to tensor {history}, which layer {name!r} does not make.")
    return tensors[tensor_index]


def _tensors(value: Any, made: Made) -> Any:
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


# --- op nodes --------------------------------------------------------------------------------------------


def _camel(op: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in op.split("_"))


def _serialize_op(operation: Operation) -> dict:
    import lamina.ops

    family = lamina.ops._HOME.get(operation.op)
    module = family.__name__ if family is not None else "lamina.ops.core"
    return {"module": module, "class_name": _camel(operation.op), "config": operation.get_config(),
            "registered_name": None}


def _is_op_entry(entry: Any) -> bool:
    module = entry.get("module") if isinstance(entry, dict) else None
    return isinstance(module, str) and module.startswith(OP_MODULES)


def _op_name(class_name: str) -> str:
    """The lamina.ops name of a saved op class name ("ExpandDims" -> "expand_dims")."""
    import lamina.ops

    names = {*lamina.ops.__all__, *lamina.ops._OWN}
    by_camel = {_camel(name): name for name in names}
    return by_camel.get(class_name) or naming.to_snake_case(class_name)


def _deserialize_op(entry: dict) -> Operation:
    class_name, config = entry.get("class_name"), entry.get("config", {})
    if not isinstance(class_name, str) or not isinstance(config, dict):
        raise ValueError(f"A saved op needs a 'class_name' string and a 'config' dict, got {entry!r:.200}.")
    arguments = {key: value for key, value in config.items() if key not in ("name", "trainable", "dtype")}
    arguments = {key: _decode(value, {}) for key, value in arguments.items()}
    return Operation(_op_name(class_name), name=entry.get("name", config.get("name")), **arguments)


def _decode_special(value: dict, made: Made) -> Any:
    config = value.get("config") if isinstance(value.get("config"), dict) else {}
    if value["class_name"] == ELLIPSIS:
        return Ellipsis
    if value["class_name"] == SLICE:
        return slice(*(_decode(config.get(key), made) for key in ("start", "stop", "step")))
    items = config.get("value")
    if not isinstance(items, list):
        raise ValueError(f"A saved tuple needs 'value' as a list, got {items!r:.100}.")
    return tuple(_decode(item, made) for item in items)
