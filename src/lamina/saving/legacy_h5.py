"""Keras 2's HDF5 files: the full-model `.h5` file and the weights-only `.h5` file, read without trust.

A full-model file holds, at its root, the attributes `keras_version`, `backend`, `model_config` (JSON) and,
once compiled, `training_config` (JSON); the group `model_weights` holds one group per layer (attribute
`weight_names`, datasets named like "dense/kernel:0") and the attribute `layer_names`; the group
`optimizer_weights` holds the optimizer's variables in order. A weights-only file is the `model_weights`
group at the root. Weights are matched to layers by order (layers with weights, in `model.layers` order;
each layer's trainable weights, then its non-trainable ones) or by layer name.

Reading opens the file with h5py only, follows no external or soft links, refuses datasets that are not
plain numbers or whose declared size is over a budget, and never unpickles or evaluates anything.
"""

from __future__ import annotations

import io
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from lamina import backend
from lamina.backend.common import standardize_dtype
from lamina.saving import faults, global_heaps, keras_file, legacy_config, load_budget

SUFFIXES = (".h5", ".hdf5")
MAX_WEIGHT_BYTES = keras_file.MAX_MEMBER_BYTES  # all the weights of one file together
MAX_NAMES = 1_000_000  # entries of a `layer_names` or `weight_names` attribute
_READ_ERRORS = (OSError, *faults.FAULTS)


def is_legacy_path(filepath: Any) -> bool:
    """Whether a path names a Keras 2 HDF5 file (".h5"/".hdf5" but not Keras 3's ".weights.h5")."""
    if not isinstance(filepath, (str, os.PathLike)):
        return False
    name = Path(filepath).name
    return name.endswith(SUFFIXES) and not name.endswith(".weights.h5")


# --- saving ----------------------------------------------------------------------------------------------


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True,
               include_optimizer: bool = True) -> None:
    """Write the legacy full-model HDF5 file: config, weights, training config and optimizer state."""
    from lamina.saving import saving_api

    path = _writable(filepath, overwrite)
    model_config = legacy_config.legacy_model_config(model, saving_api._build_config(model))
    training = legacy_config.legacy_training_config(model, saving_api.compile_config(model)) \
        if include_optimizer else None

    def fill(file: h5py.File) -> None:
        file.attrs["backend"] = backend.backend()
        file.attrs["keras_version"] = saving_api.KERAS_VERSION
        file.attrs["model_config"] = _json(model_config, "model_config")
        if training is not None:
            file.attrs["training_config"] = _json(training, "training_config")
        _write_model_weights(file.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if training is not None and optimizer is not None and optimizer.built and optimizer.variables:
            group = file.create_group("optimizer_weights")
            _write_weights(group, [(f"{variable.path}:0", variable) for variable in optimizer.variables])

    _write(path, fill)


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write the legacy weights-only HDF5 file (Keras 2's `save_weights("w.h5")`)."""
    path = _writable(filepath, overwrite)
    _write(path, lambda file: _write_model_weights(file, model))


def _writable(filepath: Any, overwrite: bool) -> Path:
    path = Path(filepath)
    if not overwrite and path.exists():
        raise ValueError(f"{str(path)!r} already exists and overwrite=False; pass overwrite=True to replace it.")
    return path


def _write(path: Path, fill: Any) -> None:
    """Build the HDF5 file in memory, then write its bytes atomically."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as file:
        fill(file)
    keras_file.atomic_write(path, lambda stream: stream.write(buffer.getbuffer()))


def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"The {what} cannot be written as JSON: {error}. Configs must hold only numbers, "
                         "strings, lists, dicts and None.") from None


def _write_model_weights(group: h5py.Group, model: Any) -> None:
    from lamina.saving import saving_api

    layers = model.layers
    _names_attribute(group, "layer_names", [layer.name for layer in layers])
    group.attrs["backend"] = backend.backend()
    group.attrs["keras_version"] = saving_api.KERAS_VERSION
    for layer in sorted(layers, key=lambda item: item.name):
        _write_weights(group.create_group(layer.name), _named(layer))
    _write_weights(group.create_group("top_level_model_weights"), [])


def _named(layer: Any) -> list[tuple[str, Any]]:
    """(name, variable) in the legacy order, each named like "dense/kernel:0", unique within the layer."""
    named, seen = [], set()
    for variable in _legacy_weights(layer):
        base = str(variable.path).strip("/") or "weight"
        if not base.startswith(layer.name + "/"):
            base = f"{layer.name}/{base}"
        name, count = f"{base}:0", 0
        while name in seen:
            count += 1
            name = f"{base}_{count}:0"
        seen.add(name)
        named.append((name, variable))
    return named


def _write_weights(group: h5py.Group, named: list[tuple[str, Any]]) -> None:
    _names_attribute(group, "weight_names", [name for name, _ in named])
    for name, variable in named:
        group.create_dataset(name, data=np.asarray(backend.impl.convert_to_numpy(variable)))


def _names_attribute(group: h5py.Group, key: str, names: list[str]) -> None:
    # bytes, as Keras writes them; an empty list is an empty float array, as Keras writes it too
    group.attrs[key] = np.array([name.encode("utf-8") for name in names]) if names else np.zeros((0,))


def _legacy_weights(layer: Any) -> list[Any]:
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


# --- loading ---------------------------------------------------------------------------------------------


def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Rebuild a model from a legacy full-model HDF5 file (written by Keras 2, Keras 3 or Lamina)."""
    from lamina.saving import registry

    path = _readable(filepath)
    try:
        budget = load_budget.budget_for(path.stat().st_size, "model_config")
        with _open(path) as file, load_budget.active(budget), registry.safe_mode_scope(safe_mode):
            with faults.located("model_config"):
                raw = _text_attribute(file, "model_config")
                if raw is None:
                    raise ValueError("it has no 'model_config' attribute, so it holds weights only; build the "
                                     "model and call model.load_weights() instead.")
                config = _decode_json(raw, "model_config")
                load_budget.index_layers(budget, config)
                load_budget.check_declared_shapes(budget, config)
                model = legacy_config.model_from_legacy(config, custom_objects)
            with faults.located("model_weights"):
                _load_topological(_group(file, "model_weights"), model, skip_mismatch=False)
            with faults.located("training_config"):
                training = _text_attribute(file, "training_config") if compile else None
            if training is not None:
                with faults.located("training_config"):
                    outputs = len(getattr(model, "outputs", None) or [None])
                    model.compile(**legacy_config.compile_arguments(_decode_json(training, "training_config"),
                                                                    outputs, custom_objects))
                with faults.located("optimizer_weights"):
                    if "optimizer_weights" in file:
                        _restore_optimizer(model, _group(file, "optimizer_weights"), str(path))
        return model
    except _READ_ERRORS as error:
        raise ValueError(f"Cannot load {str(path)!r}: {error}") from error


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False,
                 by_name: bool = False) -> None:
    """Load a legacy HDF5 file's weights into a built model, by layer order or (by_name) by layer name."""
    path = _readable(filepath)
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built, so it has no weights to load into yet; build it "
                         "(or call it on data) first.")
    try:
        with _open(path) as file, load_budget.active(load_budget.budget_for(path.stat().st_size, "model_weights")):
            group = _group(file, "model_weights") if "layer_names" not in file.attrs and "model_weights" in file \
                else file
            if by_name:
                _load_by_name(group, model, skip_mismatch)
            else:
                _load_topological(group, model, skip_mismatch)
    except _READ_ERRORS as error:
        raise ValueError(f"Cannot load weights from {str(path)!r}: {error}") from error


def _readable(filepath: Any) -> Path:
    path = Path(filepath)
    if not path.is_file():
        raise ValueError(f"Cannot load {str(path)!r}: no such file (a legacy HDF5 file was expected).")
    return path


def _open(path: Path) -> h5py.File:
    try:
        global_heaps.check_file(path)
        return h5py.File(path, "r")
    except (OSError, ValueError) as error:
        raise ValueError(f"it is not a readable HDF5 file ({error}).") from None


def _decode_json(raw: str, what: str) -> Any:
    if len(raw) > keras_file.MAX_CONFIG_BYTES:
        raise ValueError(f"{what} is {len(raw)} characters long, over the limit of {keras_file.MAX_CONFIG_BYTES}.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise ValueError(f"{what} is not valid JSON: {error}") from None


def _text_attribute(group: h5py.Group, key: str) -> str | None:
    if key not in group.attrs:
        return None
    value = group.attrs[key]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if not isinstance(value, str):
        raise ValueError(f"attribute {key!r} of {group.name!r} must be a string, got {type(value).__name__}.")
    return value


def _names(group: h5py.Group, key: str) -> list[str]:
    """A list-of-names attribute, also when Keras split it in chunks (`key0`, `key1`, ...)."""
    if key in group.attrs:
        parts = [group.attrs[key]]
    else:
        parts, index = [], 0
        while f"{key}{index}" in group.attrs and index < MAX_NAMES:
            parts.append(group.attrs[f"{key}{index}"])
            index += 1
    names: list[str] = []
    for part in parts:
        array = np.asarray(part)
        if array.ndim != 1 or array.size > MAX_NAMES:
            raise ValueError(f"attribute {key!r} of {group.name!r} must be a list of names, got shape {array.shape}.")
        if array.size == 0:
            continue
        for item in array.tolist():
            if isinstance(item, bytes):
                item = item.decode("utf-8")
            if not isinstance(item, str) or not item:
                raise ValueError(f"attribute {key!r} of {group.name!r} holds {item!r:.50}, which is not a name.")
            names.append(item)
    return names


def _child(group: h5py.Group, name: str, kind: type) -> Any:
    """A member by a relative name, through hard links only (no external files, no soft links)."""
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"{group.name!r} names member {name!r}, which is not a plain relative name.")
    current = group
    for part in parts:
        if not isinstance(current, h5py.Group) or part not in current:
            raise ValueError(f"{group.name!r} has no member {name!r}.")
        link = current.get(part, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"{group.name!r} reaches {name!r} through an external or soft link "
                             f"({type(link).__name__}); only plain members are read.")
        current = current[part]
    if not isinstance(current, kind):
        raise ValueError(f"{current.name!r} is not a {'dataset' if kind is h5py.Dataset else 'group'}.")
    return current


def _group(group: h5py.Group, name: str) -> h5py.Group:
    return _child(group, name, h5py.Group)


class _Budget:
    """Counts the bytes read so far against the load's budget (or MAX_WEIGHT_BYTES outside a load)."""

    def __init__(self) -> None:
        self.used = 0
        active = load_budget.current()
        self.limit = min(MAX_WEIGHT_BYTES, active.limit) if active is not None else MAX_WEIGHT_BYTES

    def read(self, group: h5py.Group, name: str) -> np.ndarray:
        dataset = _child(group, name, h5py.Dataset)
        dtype = dataset.dtype
        if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"dataset {dataset.name!r} holds {dtype} values; weights must be plain numbers.")
        if dataset.is_virtual or dataset.external:
            raise ValueError(f"dataset {dataset.name!r} keeps its data in other files; only plain datasets are read.")
        shape = dataset.shape
        if shape is None:
            raise ValueError(f"dataset {dataset.name!r} is empty (it has no shape).")
        size = math.prod(shape) * dtype.itemsize
        self.used += size
        if self.used > self.limit:
            raise ValueError(f"the weights declare more than {self.limit} bytes in all (at {dataset.name!r}), over "
                             "this file's loading budget.")
        try:
            return np.asarray(dataset[()])
        except (OSError, RuntimeError, TypeError, ValueError) as error:
            raise ValueError(f"dataset {dataset.name!r} cannot be read ({error}).") from None

    def layer(self, group: h5py.Group) -> list[np.ndarray]:
        return [self.read(group, name) for name in _names(group, "weight_names")]


def _weighted_layers(model: Any) -> list[Any]:
    return [layer for layer in model.layers if _legacy_weights(layer)]


def _load_topological(group: h5py.Group, model: Any, skip_mismatch: bool) -> None:
    budget = _Budget()
    saved = [(name, budget.layer(_group(group, name))) for name in _names(group, "layer_names")]
    saved = [(name, values) for name, values in saved if values]
    layers = _weighted_layers(model)
    if len(saved) != len(layers):
        raise ValueError(f"the file holds weights for {len(saved)} layers ({_listed([n for n, _ in saved])}), the "
                         f"model has {len(layers)} layers with weights ({_listed([l.name for l in layers])}).")
    pairs = []
    for (name, values), layer in zip(saved, layers):
        pairs.extend(_matched(layer, name, values, skip_mismatch))
    _assign(pairs)


def _load_by_name(group: h5py.Group, model: Any, skip_mismatch: bool) -> None:
    budget = _Budget()
    by_name: dict[str, list[Any]] = {}
    for layer in model.layers:
        by_name.setdefault(layer.name, []).append(layer)
    pairs = []
    for name in _names(group, "layer_names"):
        if name not in by_name:
            continue
        values = budget.layer(_group(group, name))
        for layer in by_name[name]:
            pairs.extend(_matched(layer, name, values, skip_mismatch))
    _assign(pairs)


def _matched(layer: Any, saved_name: str, values: list[np.ndarray], skip_mismatch: bool) -> list[tuple[Any, Any]]:
    """(variable, array) pairs for one layer; a count or shape that differs raises, or warns when skipping."""
    variables = _legacy_weights(layer)
    where = f"layer {layer.name!r}" + (f" (saved as {saved_name!r})" if saved_name != layer.name else "")
    if len(values) != len(variables):
        message = (f"{where} has {len(variables)} weights, the file holds {len(values)} for it.")
        if skip_mismatch:
            warnings.warn(f"Skipping the weights of {message}", stacklevel=5)
            return []
        raise ValueError(message)
    pairs = []
    for variable, value in zip(variables, values):
        if tuple(value.shape) != tuple(variable.shape):
            message = (f"weight {variable.path!r} of {where} has shape {tuple(variable.shape)}, the file's has "
                       f"shape {tuple(value.shape)}.")
            if skip_mismatch:
                warnings.warn(f"Skipping a weight: {message}", stacklevel=5)
                continue
            raise ValueError(message)
        pairs.append((variable, value))
    return pairs


def _assign(pairs: list[tuple[Any, np.ndarray]]) -> None:
    for variable, value in pairs:
        dtype = standardize_dtype(variable.dtype)
        variable.assign(backend.impl.convert_to_tensor(value.astype(dtype, copy=False), dtype))


def _restore_optimizer(model: Any, group: h5py.Group, where: str) -> None:
    """Give the optimizer the saved state by order; a file of another layout leaves it fresh, with a warning."""
    optimizer = model.optimizer
    optimizer.build(model.trainable_weights)
    values = _Budget().layer(group)
    variables = list(optimizer.variables)
    fits = len(values) == len(variables) and all(
        tuple(value.shape) == tuple(variable.shape) for variable, value in zip(variables, values))
    if fits:  # Keras 3's and Lamina's order
        _assign(list(zip(variables, values)))
        return
    try:
        pairs = legacy_config.keras2_optimizer_state(optimizer, list(model.trainable_weights),
                                                     _names(group, "weight_names"), values)
    except ValueError as problem:
        warnings.warn(f"{where}: the optimizer state was not restored (the file holds {len(values)} optimizer "
                      f"weights, the optimizer has {len(variables)}; {problem}); training resumes with a fresh "
                      "optimizer state.", stacklevel=4)
        return
    _assign(pairs)


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(name) for name in names[:4])
    return shown + (f" and {len(names) - 4} more" if len(names) > 4 else "")
