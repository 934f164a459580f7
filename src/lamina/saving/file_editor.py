"""KerasFileEditor: look inside a saved model's weights, fix them up, and write them out again.

The weights are held as a tree of dicts in Keras 3's layout, with each object's "vars" group folded into the
object: the weight at "layers/dense/vars/0" is `editor.weights_dict["layers"]["dense"]["0"]`. Reading trusts
nothing in the file (the same readers as load_model); writing goes through the atomic writer.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

from lamina.saving import keras_file

_WEIGHTS_SUFFIXES = (".weights.h5", ".weights.npz")


class KerasFileEditor:
    """Inspect and edit the weights of a `.keras`, `.weights.h5` or `.weights.npz` file.

    Attributes: `filepath`, `config` and `metadata` (of a `.keras` file, else None), `weights_dict` (the
    weights as nested dicts of arrays) and `object_metadata` (each object's stored attributes, by path).
    """

    def __init__(self, filepath: str | os.PathLike) -> None:
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(f"KerasFileEditor expects a file path, got {type(filepath).__name__}.")
        self.filepath = filepath
        self.config: dict | None = None
        self.metadata: dict | None = None
        path = Path(filepath)
        if not path.name.endswith((".keras", *_WEIGHTS_SUFFIXES)):
            raise ValueError(f"KerasFileEditor expects a path ending in '.keras', '.weights.h5' or '.weights.npz', "
                             f"got {str(path)!r}.")
        if not path.is_file():
            raise ValueError(f"Cannot open {str(path)!r}: no such file.")
        try:
            flat, attributes = self._read(path)
        except keras_file.READ_ERRORS as error:
            raise ValueError(f"Cannot open {str(path)!r}: {error}") from None
        self.weights_dict = _nest(flat)
        self.object_metadata = attributes
        print(f"Keras model file '{filepath}'")
        if isinstance(self.metadata, dict):
            print(f"Saved with Keras {self.metadata.get('keras_version')} - date: {self.metadata.get('date_saved')}")

    # --- reading -----------------------------------------------------------------------------------------

    def _read(self, path: Path) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
        if path.name.endswith(".keras"):
            with keras_file.open_archive(path) as archive:
                names = archive.namelist()
                self.config = keras_file.decode_json(
                    keras_file.read_member(archive, "config.json", keras_file.MAX_CONFIG_BYTES), "config.json")
                if "metadata.json" in names:
                    self.metadata = keras_file.decode_json(
                        keras_file.read_member(archive, "metadata.json", keras_file.MAX_CONFIG_BYTES),
                        "metadata.json")
                if keras_file.WEIGHTS_MEMBER in names and keras_file.H5_WEIGHTS_MEMBER not in names:
                    data = keras_file.read_member(archive, keras_file.WEIGHTS_MEMBER, keras_file.MAX_MEMBER_BYTES)
                    return keras_file.decode_npz(data), {}
                data = keras_file.read_member(archive, keras_file.H5_WEIGHTS_MEMBER, keras_file.MAX_MEMBER_BYTES)
            return _read_h5(data, keras_file.H5_WEIGHTS_MEMBER)
        if path.stat().st_size > keras_file.MAX_MEMBER_BYTES:
            raise ValueError(f"it is larger than the limit of {keras_file.MAX_MEMBER_BYTES} bytes.")
        if path.name.endswith(".weights.npz"):
            return keras_file.decode_npz(path.read_bytes()), {}
        return _read_h5(path.read_bytes(), "the file")

    # --- showing -----------------------------------------------------------------------------------------

    def summary(self) -> None:
        """Print the objects of the file and the shape and dtype of each weight."""
        print("Weights structure")
        for line in _tree_lines(self.weights_dict, self.object_metadata, "", "  "):
            print(line)

    def compare(self, reference_model: Any) -> dict[str, Any]:
        """List every difference between the file's weights and `reference_model`'s (missing objects and
        weights, shape mismatches); returns {"status": "success" | "error", "error_count", "match_count"}."""
        print("Running comparison")
        reference = _nest(_model_shapes(reference_model))
        checked: set[str] = set()
        errors, matches = _compare(self.weights_dict, reference, "", ("saved file", "reference model"), checked)
        extra, _ = _compare(reference, self.weights_dict, "", ("reference model", "saved file"), checked)
        errors += extra
        print("─" * 21)
        if errors == 0:
            print("Comparison successful: saved file is compatible with the reference model")
            print(f"    Found {matches} matching weight{'' if matches == 1 else 's'}")
        else:
            print(f"Found {errors} error{'' if errors == 1 else 's'}: saved file is not compatible with the "
                  "reference model")
        return {"status": "success" if errors == 0 else "error", "error_count": errors, "match_count": matches}

    # --- editing -----------------------------------------------------------------------------------------

    def rename_object(self, object_name: str, new_name: str) -> None:
        """Rename an object (a layer, say), given by its name ("dense_2") or its path ("layers/dense_2")."""
        if not isinstance(new_name, str) or not new_name or "/" in new_name:
            raise ValueError(f"rename_object: new_name must be a leaf name without '/', got {new_name!r}.")

        def rename(parent: dict, key: str) -> None:
            if new_name in parent and new_name != key:
                raise ValueError(f"rename_object: {new_name!r} already exists next to {object_name!r}.")
            parent[new_name] = parent.pop(key)

        self._edit(object_name, rename)

    def delete_object(self, object_name: str) -> None:
        """Remove an object (a layer, say) and all its weights, given by name or path."""
        self._edit(object_name, lambda parent, key: parent.pop(key))

    def add_object(self, object_path: str, weights: dict[str, Any]) -> None:
        """Add an object at `object_path` ("layers/dense_2") with `weights` ({"0": kernel, "1": bias})."""
        arrays = _checked_weights(weights, "add_object")
        parent, leaf = self._parent_of(object_path, "add_object")
        parent[leaf] = arrays

    def delete_weight(self, object_name: str, weight_name: str) -> None:
        """Remove one weight ("0", say) from an object given by name or path."""

        def delete(parent: dict, key: str) -> None:
            target = parent[key]
            if not isinstance(target, dict) or weight_name not in target or isinstance(target[weight_name], dict):
                found = [name for name, value in target.items() if not isinstance(value, dict)] \
                    if isinstance(target, dict) else []
                raise ValueError(f"delete_weight: weight {weight_name!r} not found in object {object_name!r}. "
                                 f"Weights found: {found}")
            target.pop(weight_name)

        self._edit(object_name, delete)

    def add_weights(self, object_name: str, weights: dict[str, Any]) -> None:
        """Add weights ({"2": array, ...}) to an existing object given by name or path."""
        arrays = _checked_weights(weights, "add_weights")

        def add(parent: dict, key: str) -> None:
            if not isinstance(parent[key], dict):
                raise ValueError(f"add_weights: {object_name!r} is a weight, not an object.")
            parent[key].update(arrays)

        self._edit(object_name, add)

    def save(self, filepath: str | os.PathLike) -> None:
        """Write the edited weights to a `.weights.h5` file (Keras 3's layout), atomically."""
        path = Path(filepath) if isinstance(filepath, (str, os.PathLike)) else None
        if path is None or not path.name.endswith(".weights.h5"):
            raise ValueError(f"KerasFileEditor.save expects a path ending in '.weights.h5', got {filepath!r}.")
        data = _encode_h5(_flatten(self.weights_dict), self.object_metadata)
        keras_file.atomic_write(path, lambda stream: stream.write(data))

    def resave_weights(self, filepath: str | os.PathLike) -> None:
        """The same as save."""
        self.save(filepath)

    # --- finding objects ---------------------------------------------------------------------------------

    def _edit(self, name: str, edit: Callable[[dict, str], Any]) -> None:
        """Apply edit(parent, key) to the object a path or a unique name stands for."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"Expected the name or path of an object in the file, got {name!r}.")
        if "/" in name:
            parent, leaf = self._parent_of(name, "path")
            if leaf not in parent:
                raise ValueError(f"Path {name!r} not found in the file. Use summary() to list the objects.")
            edit(parent, leaf)
            return
        places = [parent for parent in _dicts(self.weights_dict) if name in parent]
        if not places:
            raise ValueError(f"Name {name!r} does not appear in the file. Use summary() to list the objects.")
        if len(places) > 1:
            raise ValueError(f"Name {name!r} occurs {len(places)} times in the file; pass its full path instead.")
        edit(places[0], name)

    def _parent_of(self, path: str, what: str) -> tuple[dict, str]:
        if not isinstance(path, str) or not path or path.startswith("/") or path.endswith("/"):
            raise ValueError(f"{what}: expected a path such as 'layers/dense', got {path!r}.")
        *parents, leaf = path.split("/")
        node = self.weights_dict
        for index, part in enumerate(parents):
            node = node.get(part) if isinstance(node, dict) else None
            if not isinstance(node, dict):
                raise ValueError(f"Path {'/'.join(parents[:index + 1])!r} not found in the file.")
        return node, leaf


# --- weights as a tree -------------------------------------------------------------------------------------


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """{"layers/dense/vars/0": a} -> {"layers": {"dense": {"0": a}}}, weights in numeric order."""
    tree: dict[str, Any] = {}
    for path in sorted(flat, key=_path_order):
        parts = path.split("/")
        if len(parts) < 2 or parts[-2] != "vars":
            raise ValueError(f"the weight at {path!r} is not inside a 'vars' group.")
        node = tree
        for part in parts[:-2]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"{path!r} puts an object where a weight is.")
        node[parts[-1]] = flat[path]
    return tree


def _path_order(path: str) -> list:
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in path.split("/")]


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """The inverse of _nest."""
    flat: dict[str, np.ndarray] = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[f"{prefix}/vars/{key}" if prefix else f"vars/{key}"] = value
    return flat


def _dicts(tree: dict) -> list[dict]:
    """Every dict of the tree, the root first."""
    found = [tree]
    for value in tree.values():
        if isinstance(value, dict):
            found.extend(_dicts(value))
    return found


def _checked_weights(weights: Any, what: str) -> dict[str, np.ndarray]:
    if not isinstance(weights, dict):
        raise ValueError(f"{what}: weights must be a dict of weight names ('0', '1', ...) to arrays, got "
                         f"{type(weights).__name__}.")
    arrays = {}
    for name, value in weights.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"{what}: weight names must be strings without '/', got {name!r}.")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise ValueError(f"{what}: weight {name!r} must hold numbers, got dtype {array.dtype}.")
        arrays[name] = array
    return arrays


def _model_shapes(model: Any) -> dict[str, np.ndarray]:
    """The weights a model would save, by path, as empty arrays of the right shape and dtype."""
    from lamina.backend.common import standardize_dtype
    from lamina.saving import weights

    variables = {**weights.layer_variables(model),
                 **weights.optimizer_variables(getattr(model, "optimizer", None), model)}  # Keras's slot order
    return {path: _Spec(tuple(variable.shape), standardize_dtype(variable.dtype))
            for path, variable in variables.items()}


class _Spec:
    """The shape and dtype of a model's weight, without its values."""

    def __init__(self, shape: tuple, dtype: str) -> None:
        self.shape, self.dtype = shape, dtype


def _compare(target: dict, reference: dict, prefix: str, names: tuple[str, str], checked: set[str]) -> tuple[int, int]:
    """(errors, matches) of `target` against `reference`; each path is reported once across both directions."""
    target_name, reference_name = names
    errors = matches = 0
    for key, expected in reference.items():
        path = f"{prefix}/{key}" if prefix else key
        if path in checked:
            continue
        if key not in target or isinstance(target[key], dict) != isinstance(expected, dict):
            errors += 1
            checked.add(path)
            kind = "Object" if isinstance(expected, dict) else "Weight"
            print(f"...{kind} {path} present in {reference_name}, missing from {target_name}")
            if isinstance(expected, dict):
                print(f"    In {reference_name}, {path} contains the following keys: {list(expected)}")
        elif isinstance(expected, dict):
            more_errors, more_matches = _compare(target[key], expected, path, names, checked)
            errors, matches = errors + more_errors, matches + more_matches
        elif tuple(target[key].shape) != tuple(expected.shape):
            errors += 1
            checked.add(path)
            print(f"...Weight shape mismatch for {path}\n    In {reference_name}: shape={tuple(expected.shape)}\n"
                  f"    In {target_name}: shape={tuple(target[key].shape)}")
        else:
            matches += 1
    return errors, matches


def _tree_lines(tree: dict, attributes: dict[str, dict], prefix: str, indent: str) -> list[str]:
    lines = []
    items = list(tree.items())
    for index, (key, value) in enumerate(items):
        path = f"{prefix}/{key}" if prefix else key
        last = index == len(items) - 1
        connector = "└─ " if last else "├─ "
        if isinstance(value, dict):
            name = attributes.get(path, {}).get("name")
            lines.append(f"{indent}{connector}{key}" + (f" ({name!r})" if name is not None else ""))
            lines.extend(_tree_lines(value, attributes, path, indent + ("    " if last else "│   ")))
        else:
            lines.append(f"{indent}{connector}{key}: shape={tuple(value.shape)}, dtype={value.dtype}")
    return lines


# --- h5 ----------------------------------------------------------------------------------------------------


def _read_h5(data: bytes, where: str) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """Every weight of an h5 weights file by path, and the string attributes of each object's vars group."""
    from lamina.saving import h5_store

    try:
        store = h5_store.H5Weights(data, keras_file.MAX_MEMBER_BYTES)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    with store:
        flat = {path: store[path] for path in store}
        attributes = {}
        for group in {path.rsplit("/", 1)[0] for path in flat}:
            found = _string_attributes(store, group)
            if found:
                attributes[group[: -len("/vars")] if group != "vars" else ""] = found
    return flat, attributes


def _string_attributes(store: Any, group: str) -> dict[str, str]:
    """The plain string attributes ("name") of a group already checked by the reader; anything else is skipped."""
    try:
        items = dict(store._file[group].attrs.items())
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, AttributeError):
        return {}
    found = {}
    for key, value in items.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(key, str) and isinstance(value, str):
            found[key] = value
    return found


def _encode_h5(flat: dict[str, np.ndarray], attributes: dict[str, dict]) -> bytes:
    """An h5 file in Keras 3's layout: each object's weights as datasets of its "vars" group."""
    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        for path in sorted(flat, key=_path_order):
            group_path, name = path.rsplit("/", 1)
            group = store.require_group(group_path)
            owner = group_path[: -len("/vars")] if group_path != "vars" else ""
            for key, value in attributes.get(owner, {}).items():
                group.attrs[key] = value
            group.create_dataset(name, data=np.asarray(flat[path]))
    return buffer.getvalue()
