"""Weights by path: "layers/dense/vars/0", "layers/dense_1/vars/1", "optimizer/vars/3".

A path names each sub-layer by its snake_case class name, numbered in order within its parent ("dense",
"dense_1", ...), as Keras 3 does, so that paths depend on the structure of a model and not on the layer names
that a process happened to generate. A layer shared in several places is stored once, at its first place.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from lamina import backend
from lamina.backend.common import standardize_dtype
from lamina.utils import naming


def layer_variables(model: Any) -> dict[str, Any]:
    """Every weight of `model` by its path, in a stable order."""
    found: dict[str, Any] = {}
    visited = {id(model)}

    def walk(layer: Any, prefix: str) -> None:
        for index, variable in enumerate(layer._own_variables):
            found[f"{prefix}vars/{index}"] = variable
        counts: Counter = Counter()
        for sub in layer._layers:
            if id(sub) in visited:
                continue
            visited.add(id(sub))
            base = naming.to_snake_case(type(sub).__name__)
            name = base if counts[base] == 0 else f"{base}_{counts[base]}"
            counts[base] += 1
            walk(sub, f"{prefix}layers/{name}/")

    walk(model, "")
    return found


def optimizer_variables(optimizer: Any) -> dict[str, Any]:
    """The optimizer's state (iterations, learning rate, slots) by path, once it is built."""
    if optimizer is None or not optimizer.built:
        return {}
    return {f"optimizer/vars/{index}": variable for index, variable in enumerate(optimizer.variables)}


def to_arrays(variables: dict[str, Any]) -> dict[str, np.ndarray]:
    return {path: np.asarray(backend.impl.convert_to_numpy(variable)) for path, variable in variables.items()}


def assign(variables: dict[str, Any], arrays: dict[str, np.ndarray], what: str = "weights") -> None:
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
        if tuple(arrays[path].shape) != tuple(variable.shape):
            raise ValueError(f"{what[:-1]} {path!r} has shape {tuple(arrays[path].shape)} in the file, but the "
                             f"model's {variable.path} has shape {tuple(variable.shape)}.")
    for path, variable in variables.items():
        dtype = standardize_dtype(variable.dtype)
        variable.assign(backend.impl.convert_to_tensor(arrays[path].astype(dtype, copy=False), dtype))


def _listed(paths: list[str]) -> str:
    shown = ", ".join(repr(path) for path in paths[:3])
    return shown + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
