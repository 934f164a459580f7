"""Weights by path, in Keras 3's layout: "layers/dense/vars/0", "layers/lstm/cell/vars/1", "optimizer/vars/3".

Keras finds a layer's sub-layers through its attributes, in name order with private ones last: a model's
`layers` (first, for Sequential and Functional models), then every attribute that holds a layer or a list,
tuple or dict of layers. A layer held directly is named by its attribute ("cell", "first"); a layer in a list
by its snake_case class name, numbered within the list ("dense", "dense_1", ...), so that paths depend on the
structure of a model and not on the layer names a process happened to generate. A layer reached twice is
stored once, at its first place. Lamina walks its layers the same way, so the paths match Keras's.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterator, Mapping

import numpy as np

from lamina import backend
from lamina.backend.common import standardize_dtype
from lamina.utils import naming

# Lamina's own bookkeeping of sub-layers: Keras has no such attributes, so they add no paths.
_SKIPPED = frozenset({"_layers", "_flat_layers_cache", "_inbound_nodes", "_outbound_nodes", "_input_layer"})
# Lamina classes whose name differs from the name of Keras's class (which paths in a list are made from)
_KERAS_CLASS_NAMES = {"GroupQueryAttention": "GroupedQueryAttention"}
# Keras reaches these sub-layers through public properties of the same name without the underscore.
_PUBLIC_ALIASES = {"MultiHeadAttention": {"_query_dense": "query_dense", "_key_dense": "key_dense",
                                          "_value_dense": "value_dense", "_output_dense": "output_dense"}}


def layer_groups(model: Any) -> dict[str, Any]:
    """Every layer of `model` (the model itself at "") by its path, in Keras's order."""
    from lamina.layers.layer import Layer

    found: dict[str, Any] = {}
    visited: set[int] = set()

    def visit(layer: Any, path: str) -> None:
        if id(layer) in visited:
            return
        visited.add(id(layer))
        found[path] = layer
        for name, value in _children(layer):
            walk(value, _join(path, name))
        for sub in layer._layers:  # a sub-layer no attribute holds still keeps its weights
            if id(sub) not in visited and _holds_state(sub):
                visit(sub, _join(path, f"_layers/{naming.to_snake_case(type(sub).__name__)}_{id(sub):x}"))

    def walk(value: Any, path: str) -> None:
        if isinstance(value, Layer):
            visit(value, path)
            return
        counts: Counter = Counter()
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            if isinstance(item, Layer):
                base = naming.to_snake_case(_KERAS_CLASS_NAMES.get(type(item).__name__, type(item).__name__))
            elif isinstance(item, (list, tuple, dict)):
                base = "container"
            else:
                continue
            name = base if counts[base] == 0 else f"{base}_{counts[base]}"
            counts[base] += 1
            walk(item, _join(path, name))

    visit(model, "")
    return found


def _children(layer: Any) -> Iterator[tuple[str, Any]]:
    """(attribute name, value) of the attributes that hold layers, in Keras's order."""
    from lamina.models.functional import Functional
    from lamina.models.model import Model
    from lamina.models.sequential import Sequential

    candidates: dict[str, Any] = {}
    if isinstance(layer, Functional):
        candidates["layers"] = keras_layer_order(layer)
    elif isinstance(layer, Model):
        candidates["layers"] = layer.layers
    aliases = next((_PUBLIC_ALIASES[cls.__name__] for cls in type(layer).__mro__ if cls.__name__ in _PUBLIC_ALIASES),
                   {})
    for name, value in vars(layer).items():
        if name not in _SKIPPED and _holds_layers(value):
            candidates[aliases.get(name, name)] = value
    names = sorted(candidates, key=lambda name: f"~{name}" if name.startswith("_") else name)
    if isinstance(layer, (Sequential, Functional)):
        names.remove("layers")
        names.insert(0, "layers")
    for name in names:
        yield name, candidates[name]


def keras_layer_order(model: Any) -> list[Any]:
    """A functional model's layers in the order of Keras's `layers`: the deepest first (depth counts the calls
    between a layer and the outputs), layers of equal depth in the order a depth-first walk back from the
    outputs first reaches them."""
    from lamina.layers.input_layer import InputLayer

    post_order: list[Any] = []  # nodes, each after the nodes that feed it
    first_reached: dict[int, int] = {}  # id(layer) -> when the walk first reached it
    finished: set[int] = set()
    layers: dict[int, Any] = {}

    def parents(node: Any) -> list[Any]:
        if isinstance(node.layer, InputLayer):
            return []
        return [t._history[0]._inbound_nodes[t._history[1]] for t in node.input_tensors if t._history is not None]

    def visit(node: Any) -> None:
        if id(node) in finished:
            return
        first_reached.setdefault(id(node.layer), len(first_reached))
        layers[id(node.layer)] = node.layer
        for parent in parents(node):
            visit(parent)
        finished.add(id(node))
        post_order.append(node)

    for tensor in model.outputs:
        visit(tensor._history[0]._inbound_nodes[tensor._history[1]])
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(post_order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        for parent in parents(node):
            if id(parent) in finished:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    order = sorted(layers, key=lambda key: (-layer_depth[key], first_reached[key]))
    return [layers[key] for key in order if not layers[key]._is_operation]


def _holds_layers(value: Any, depth: int = 0) -> bool:
    from lamina.layers.layer import Layer

    if isinstance(value, Layer):
        return True
    if depth < 4 and isinstance(value, (list, tuple)):
        return any(_holds_layers(item, depth + 1) for item in value)
    if depth < 4 and isinstance(value, dict):
        return any(_holds_layers(item, depth + 1) for item in value.values())
    return False


def _holds_state(layer: Any) -> bool:
    return bool(layer._own_variables) or any(_holds_state(sub) for sub in layer._layers)


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _vars_path(group: str, index: int) -> str:
    return f"{group}/vars/{index}" if group else f"vars/{index}"


def layer_variables(model: Any) -> dict[str, Any]:
    """Every weight of `model` by its path, in a stable order (but for layers that save their own state)."""
    return {_vars_path(group, index): variable for group, layer in layer_groups(model).items()
            if not saves_own_state(layer) for index, variable in enumerate(layer._own_variables)}


def saves_own_state(layer: Any) -> bool:
    """Whether the layer's class overrides `save_own_variables` or `load_own_variables` (a Keras hook for state
    other than its weights): its group of the file is then written and read by those methods."""
    from lamina.layers.layer import Layer

    return (type(layer).save_own_variables is not Layer.save_own_variables
            or type(layer).load_own_variables is not Layer.load_own_variables)


def own_state_layers(model: Any) -> dict[str, Any]:
    """The layers that save their own state, by the path of their group."""
    return {group: layer for group, layer in layer_groups(model).items() if saves_own_state(layer)}


def is_own_state_path(path: str, groups: Mapping[str, Any]) -> bool:
    """Whether an entry of the file belongs to one of these layers' groups (`group/vars/key`)."""
    head, _, _ = path.rpartition("/")
    return head.endswith("vars") and head[:-len("vars")].rstrip("/") in groups


def load_own_states(layers: Mapping[str, Any], arrays: Mapping[str, Any]) -> None:
    """Hand each layer that saves its own state the entries of its group, keyed as it stored them."""
    for group, layer in layers.items():
        prefix = _vars_path(group, 0)[:-1]
        store = {path[len(prefix):]: arrays[path] for path in arrays
                 if path.startswith(prefix) and "/" not in path[len(prefix):]}
        layer.load_own_variables(store)


def optimizer_variables(optimizer: Any, model: Any = None) -> dict[str, Any]:
    """The optimizer's state (iterations, learning rate, slots) by path, once it is built.

    Given the model, the slots are listed as Keras lists them: in the order of Keras's trainable variables,
    which follows Keras's order of a functional model's layers (see keras_layer_order)."""
    if optimizer is None or not optimizer.built:
        return {}
    variables = list(optimizer.variables)
    if model is not None:
        variables = _in_keras_order(optimizer, variables, model)
    return {f"optimizer/vars/{index}": variable for index, variable in enumerate(variables)}


def _in_keras_order(optimizer: Any, variables: list[Any], model: Any) -> list[Any]:
    """The optimizer's variables with each slot list's entries in Keras's order of the trained variables; the
    layout (which slots are made together, where the counters are) stays as the optimizer made it."""
    trained = list(getattr(optimizer, "_trained_variables", None) or [])
    position = {id(variable): index for index, variable in enumerate(trained)}
    keras_order = [position[id(v)] for v in keras_trainable_order(model) if id(v) in position]
    if sorted(keras_order) != list(range(len(trained))) or keras_order == sorted(keras_order):
        return variables
    slot_of: dict[int, tuple[list, int]] = {}  # id(slot) -> (its slot list, the index of its variable)
    for slots in getattr(optimizer, "_slot_lists", lambda: [])():
        if len(slots) == len(trained):
            slot_of.update({id(slot): (slots, index) for index, slot in enumerate(slots)})
    # the i-th slot made for a list belongs, in Keras's file, to Keras's i-th variable
    return [slot_of[id(v)][0][keras_order[slot_of[id(v)][1]]] if id(v) in slot_of else v for v in variables]


def keras_trainable_order(model: Any) -> list[Any]:
    """The model's trainable variables in Keras's order: a layer's own, then its sub-layers' in turn (a
    functional model's layers in Keras's order)."""
    from lamina.models.functional import Functional

    found: dict[int, Any] = {}
    visited: set[int] = set()

    def walk(layer: Any) -> None:
        if id(layer) in visited:
            return
        visited.add(id(layer))
        for variable in layer._own_variables:
            found.setdefault(id(variable), variable)
        for sub in keras_layer_order(layer) if isinstance(layer, Functional) else layer._layers:
            walk(sub)

    walk(model)
    return [variable for variable in found.values() if variable.trainable]


def to_arrays(variables: dict[str, Any]) -> dict[str, np.ndarray]:
    return {path: np.asarray(backend.impl.convert_to_numpy(variable)) for path, variable in variables.items()}


class Selection(Mapping[str, Any]):
    """The entries of `arrays` whose path passes `keep`, read only when asked for (as `arrays` reads them)."""

    def __init__(self, arrays: Mapping[str, Any], keep: Any) -> None:
        self._arrays = arrays
        self._paths = [path for path in arrays if keep(path)]
        shapes = getattr(arrays, "shapes", None)
        self.shapes = None if shapes is None else {path: shapes[path] for path in self._paths}

    def __getitem__(self, path: str) -> Any:
        if path not in self._paths:
            raise KeyError(path)
        return self._arrays[path]

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def is_optimizer_path(path: str) -> bool:
    return path.startswith("optimizer/")


def shape_of(arrays: Mapping[str, Any], path: str) -> tuple:
    """The shape of an entry, read from its header when `arrays` reads lazily (an h5 file)."""
    shapes = getattr(arrays, "shapes", None)
    return tuple(shapes[path]) if shapes is not None else tuple(arrays[path].shape)


def assign(variables: dict[str, Any], arrays: Mapping[str, Any], what: str = "weights") -> None:
    """Give each variable the array of its path; everything is checked before anything is assigned."""
    missing = [path for path in variables if path not in arrays]
    unexpected = [path for path in arrays if path not in variables]
    if missing or unexpected:
        details = []
        if missing:
            details.append(f"it lacks {_listed(missing)}")
        if unexpected:
            details.append(f"it has {_listed(unexpected)}, which the model does not")
        raise ValueError(f"the file holds {len(arrays)} {what}, the model has {len(variables)}: "
                         f"{'; '.join(details)}. Was it saved from a model of another structure?")
    for path, variable in variables.items():
        if shape_of(arrays, path) != tuple(variable.shape):
            raise ValueError(f"{what[:-1]} {path!r} has shape {shape_of(arrays, path)} in the file, but the "
                             f"model's {variable.path} has shape {tuple(variable.shape)}.")
    for path, variable in variables.items():
        dtype = standardize_dtype(variable.dtype)
        variable.assign(backend.impl.convert_to_tensor(np.asarray(arrays[path]).astype(dtype, copy=False), dtype))


def assign_matching(variables: dict[str, Any], arrays: Mapping[str, Any]) -> list[str]:
    """Assign layer by layer, skipping each layer whose weights are missing or of another shape (Keras's
    skip_mismatch); returns the paths of the skipped layers' groups."""
    groups: dict[str, dict[str, Any]] = {}
    for path, variable in variables.items():
        groups.setdefault(path.rsplit("/vars/", 1)[0] if "/vars/" in path else "", {})[path] = variable
    skipped = []
    for group, members in groups.items():
        prefix = f"{group}/vars/" if group else "vars/"
        stored = [path for path in arrays if path.startswith(prefix) and "/" not in path[len(prefix):]]
        if sorted(stored) != sorted(members) or any(
                shape_of(arrays, path) != tuple(variable.shape) for path, variable in members.items()):
            skipped.append(group or "(the model's own weights)")
            continue
        assign(members, {path: arrays[path] for path in members})
    return skipped


def _listed(paths: list[str]) -> str:
    shown = ", ".join(repr(path) for path in paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
