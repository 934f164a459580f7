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
                base = naming.to_snake_case(type(item).__name__)
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
    if isinstance(layer, Model):
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
    """Every weight of `model` by its path, in a stable order."""
    return {_vars_path(group, index): variable for group, layer in layer_groups(model).items()
            for index, variable in enumerate(layer._own_variables)}


def optimizer_variables(optimizer: Any) -> dict[str, Any]:
    """The optimizer's state (iterations, learning rate, slots) by path, once it is built."""
    if optimizer is None or not optimizer.built:
        return {}
    return {f"optimizer/vars/{index}": variable for index, variable in enumerate(optimizer.variables)}


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
