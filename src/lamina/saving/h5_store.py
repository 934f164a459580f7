"""Weights in Keras 3's HDF5 layout (model.weights.h5 in a .keras zip, and .weights.h5 files), read without trust.

    /vars                     the model's own weights (a group with attribute name=the model's name)
    /layers/dense/vars/0      a layer's weights, numbered in the layer's order ("0", "1", ...)
    /optimizer/vars/0 ...     iterations, learning rate, then the slots of each trained variable in turn

Reading checks every link, dtype and declared size before any data is read: soft and external links,
external or virtual storage, object references and non-numeric dtypes are refused, the total of the declared
sizes is held to a limit, and data is read only when a weight is asked for (after its shape has been checked
against the model). Every fault is a ValueError naming the path inside the file.
"""

from __future__ import annotations

import io
import math
from typing import Any, Iterator, Mapping

import numpy as np

from lamina.saving import global_heaps

MAX_OBJECTS = 200_000  # groups and datasets in one file
MAX_DEPTH = 64


def _h5py() -> Any:
    import h5py

    return h5py


# --- writing ---------------------------------------------------------------------------------------------


def encode(groups: dict[str, tuple[str | None, list[np.ndarray] | dict[str, np.ndarray]]]) -> bytes:
    """The bytes of an h5 file holding, per group path ("" for the root), a "vars" group named by its owner
    (the attribute Keras reads nothing from, but writes) and the arrays as datasets "0", "1", ... (or by the
    keys of a dict, which a layer saving its own state chose)."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as store:
        for path, (name, arrays) in groups.items():
            group = store.require_group(f"{path}/vars" if path else "vars")
            if name is not None:
                group.attrs["name"] = name
            for key, array in (arrays.items() if isinstance(arrays, dict) else enumerate(arrays)):
                group.create_dataset(str(key), data=np.asarray(array))
    return buffer.getvalue()


# --- reading ---------------------------------------------------------------------------------------------


class H5Weights(Mapping[str, np.ndarray]):
    """The weights of an h5 file by path ("layers/dense/vars/0"); `shapes` holds each declared shape, and
    indexing reads the data of one weight. Use as a context manager (it keeps the file open)."""

    def __init__(self, data: bytes | Any, limit: int) -> None:
        h5py = _h5py()
        try:
            if isinstance(data, bytes):
                global_heaps.check(data)
            self._file = h5py.File(io.BytesIO(data) if isinstance(data, bytes) else data, "r")
        except (OSError, ValueError, RuntimeError) as error:
            raise ValueError(f"the weights are not a valid HDF5 file ({error}).") from None
        try:
            self._datasets = dict(_datasets(self._file, limit))
        except BaseException:
            self._file.close()
            raise
        self.shapes = {path: dataset.shape for path, dataset in self._datasets.items()}

    def __getitem__(self, path: str) -> np.ndarray:
        dataset = self._datasets[path]
        try:
            array = np.empty(dataset.shape, dataset.dtype)
            if array.size:
                dataset.read_direct(array)
        except (OSError, ValueError, RuntimeError, TypeError, KeyError) as error:
            raise ValueError(f"the weight at {path!r} cannot be read ({error}).") from None
        return array

    def __iter__(self) -> Iterator[str]:
        return iter(self._datasets)

    def __len__(self) -> int:
        return len(self._datasets)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "H5Weights":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _datasets(root: Any, limit: int) -> Iterator[tuple[str, Any]]:
    """Every dataset under a "vars" group, by path, after checking each link and declared size."""
    h5py = _h5py()
    total, count, stack = 0, 0, [("", root, 0)]
    seen: set = set()
    while stack:
        path, group, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"the weights file nests groups deeper than {MAX_DEPTH} at {path!r}.")
        try:
            names = sorted(group.keys())
        except (OSError, RuntimeError, ValueError, KeyError) as error:
            raise ValueError(f"the group {path or '/'!r} of the weights file cannot be read ({error}).") from None
        for name in names:
            child_path = f"{path}/{name}" if path else name
            count += 1
            if count > MAX_OBJECTS:
                raise ValueError(f"the weights file holds more than {MAX_OBJECTS} objects.")
            child = _hard_child(group, name, child_path)
            key = _identity(child, child_path)
            if key in seen:
                raise ValueError(f"the weights file links {child_path!r} to an object it already holds elsewhere.")
            seen.add(key)
            if isinstance(child, h5py.Group):
                stack.append((child_path, child, depth + 1))
                continue
            if not isinstance(child, h5py.Dataset):
                raise ValueError(f"{child_path!r} in the weights file is a {type(child).__name__}, not a group or "
                                 "dataset.")
            if path != "vars" and not path.endswith("/vars"):
                raise ValueError(f"the weights file holds a dataset at {child_path!r}, outside any 'vars' group.")
            total += _checked_size(child, child_path)
            if total > limit:
                raise ValueError(f"the weights file declares more than {limit} bytes of weights (at {child_path!r}).")
            yield child_path, child


def _hard_child(group: Any, name: str, path: str) -> Any:
    h5py = _h5py()
    try:
        link = group.get(name, getlink=True)
        if not isinstance(link, h5py.HardLink):
            kind = type(link).__name__
            raise ValueError(f"{path!r} in the weights file is a {kind}; Lamina follows no soft or external links.")
        return group.get(name)
    except (OSError, RuntimeError, KeyError, TypeError) as error:
        raise ValueError(f"{path!r} in the weights file cannot be read ({error}).") from None


def _identity(obj: Any, path: str) -> Any:
    try:
        return obj.id.__hash__()
    except (OSError, RuntimeError, TypeError) as error:
        raise ValueError(f"{path!r} in the weights file cannot be read ({error}).") from None


def _checked_size(dataset: Any, path: str) -> int:
    """The declared bytes of a dataset, after checking that it is plain numbers stored in this file."""
    try:
        dtype, shape = dataset.dtype, dataset.shape
        external = dataset.external
        virtual = dataset.is_virtual
    except (OSError, RuntimeError, TypeError, ValueError, KeyError) as error:
        raise ValueError(f"the weight at {path!r} cannot be read ({error}).") from None
    if shape is None:
        raise ValueError(f"the weight at {path!r} has no shape (an empty dataspace).")
    if dtype.kind not in "biuf" or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"the weight at {path!r} holds {dtype} values; weights must be plain numbers.")
    if external or virtual:
        raise ValueError(f"the weight at {path!r} keeps its data outside the file; Lamina reads no other files.")
    return math.prod(shape) * dtype.itemsize
