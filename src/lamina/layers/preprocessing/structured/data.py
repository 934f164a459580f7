"""Helpers shared by the adaptable layers: reading adapt data on the host, configs as JSON gives them back."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from lamina import backend
from lamina.layers.layer import Layer


def host_array(data: Any, dtype: Any = None) -> np.ndarray:
    """One batch of data (a NumPy array, a backend tensor, a nested list) as a NumPy array."""
    if isinstance(data, np.ndarray):
        return data if dtype is None else data.astype(dtype, copy=False)
    if backend.impl.is_tensor(data):
        data = backend.impl.convert_to_numpy(data)
    return np.asarray(data, dtype=dtype)


def is_single_batch(data: Any) -> bool:
    """Whether adapt data is one array (NumPy, tensor, list of rows) rather than an iterable of batches."""
    if isinstance(data, (np.ndarray, list, tuple, str, bytes)) or backend.impl.is_tensor(data):
        return True
    return not hasattr(data, "__iter__")


def batches(data: Any, steps: int | None = None) -> Iterator[Any]:
    """The batches of adapt data: the data itself when it is one array, else at most `steps` of its items.

    An item that is a pair or triple (features, labels[, weights]), as a dataset of training data yields, gives
    its features."""
    if is_single_batch(data):
        yield data
        return
    for index, item in enumerate(data):
        if steps is not None and index >= steps:
            return
        if isinstance(item, tuple) and len(item) in (2, 3):
            item = item[0]
        yield item


def plain(value: Any) -> Any:
    """A config value as JSON gives it back: arrays and tuples as lists."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value


def is_host_input(inputs: Any) -> bool:
    """Whether a call's inputs are host data that backend tensors cannot hold as they are (strings, lists)."""
    if isinstance(inputs, np.ndarray):
        return inputs.dtype.kind in "USO"
    if isinstance(inputs, (str, bytes)):
        return True
    if isinstance(inputs, (list, tuple)):
        return all(not hasattr(item, "_history") for item in inputs) and not any(
            backend.impl.is_tensor(item) for item in inputs)
    return False


class HostLayer(Layer):
    """A layer that reads its inputs on the host (strings, vocabularies, hashes): NumPy string arrays and
    Python lists reach `call` unconverted; its outputs are backend tensors."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        inputs = args[0] if args else kwargs.get("inputs")
        if not is_host_input(inputs):
            return super().__call__(*args, **kwargs)
        if not args:
            args = (kwargs.pop("inputs"),)
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        if not self.built:
            self._build_for(np.shape(inputs) if not isinstance(inputs, tuple) else [np.shape(x) for x in inputs])
        return self.call(*args, **kwargs)
