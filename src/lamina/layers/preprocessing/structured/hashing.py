"""Hashing and HashedCrossing: features (integers or strings) hashed into a fixed number of bins.

The hash is Lamina's own, computed on the host (NumPy), deterministic across runs, machines and backends:
64-bit FNV-1a over a string's UTF-8 bytes, or an integer's 64-bit pattern, finished by the SplitMix64 mixer
(with the salt folded in). Keras uses FarmHash's fingerprint (SipHash with a salt) on the string form of the
value, so the bin of a given value differs from Keras's; the distribution over bins is as uniform.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.layers.preprocessing.structured.data import HostLayer, host_array, plain
from lamina.layers.preprocessing.structured.encoding import (ENCODED_MODES, check_choice, check_dense, encode,
                                                             encoded_shape)

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3


def _mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finalizer: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        h = h + np.uint64(0x9E3779B97F4A7C15)
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _string_hash(value: Any) -> int:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return h


def salt_key(salt: Any) -> np.uint64:
    """A salt (None, an int or a pair of ints) as one 64-bit key."""
    if salt is None:
        return np.uint64(0)
    parts = [salt] if isinstance(salt, int) else list(salt)
    key = np.zeros((), np.uint64)
    for part in parts:
        key = _mix(key ^ np.uint64(int(part) & 0xFFFFFFFFFFFFFFFF))
    return key


def hash64(values: Any, salt: Any = None) -> np.ndarray:
    """The 64-bit hashes (uint64) of an array of integers or strings, shaped like it."""
    array = host_array(values)
    if array.dtype.kind in "iub":
        bits = array.astype(np.int64).view(np.uint64)
    elif array.dtype.kind in "USO":
        unique, inverse = np.unique(array.astype(object).astype(str), return_inverse=True)
        bits = np.array([_string_hash(u) for u in unique], np.uint64)[inverse].reshape(array.shape)
    else:
        raise ValueError(f"Hashing takes integers or strings, got values of dtype {array.dtype}.")
    return _mix(bits ^ salt_key(salt))


class Hashing(HostLayer):
    """Integers or strings hashed into num_bins bins (see the module's note on the hash).

    mask_value: a value that maps to bin 0, the others then filling bins 1..num_bins-1. Inputs are read
    on the host (string inputs are NumPy arrays or lists of str); outputs are backend tensors (int64 bins,
    or their one-hot/multi-hot/count encoding)."""

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None, output_mode: str = "int",
                 sparse: bool = False, **kwargs: Any) -> None:
        check_choice(output_mode, "output_mode", ("int", *ENCODED_MODES), "Hashing")
        check_dense(sparse, "Hashing")
        if "dtype" not in kwargs and output_mode == "int":
            kwargs["dtype"] = "int64"
        super().__init__(**kwargs)
        if not isinstance(num_bins, int) or num_bins < 1 or (mask_value is not None and num_bins < 2):
            raise ValueError(f"Hashing num_bins must be a positive int (at least 2 with a mask_value), got "
                             f"{num_bins!r}.")
        if salt is not None and not (isinstance(salt, int) or (isinstance(salt, (list, tuple)) and len(salt) == 2)):
            raise ValueError(f"Hashing salt must be None, an int or a pair of ints, got {salt!r}.")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = sparse

    def bins(self, inputs: Any) -> np.ndarray:
        """The bins of inputs, as a NumPy int64 array."""
        array = host_array(inputs)
        if self.mask_value is None:
            return (hash64(array, self.salt) % np.uint64(self.num_bins)).astype(np.int64)
        hashed = 1 + (hash64(array, self.salt) % np.uint64(self.num_bins - 1)).astype(np.int64)
        return np.where(array == np.asarray(self.mask_value, array.dtype), 0, hashed)

    def call(self, inputs: Any) -> Any:
        bins = backend.impl.convert_to_tensor(self.bins(inputs))
        if self.output_mode == "int":
            return bins
        return encode(bins, self.num_bins, self.output_mode, self.dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.num_bins, self.output_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": plain(self.salt),
                "mask_value": self.mask_value, "output_mode": self.output_mode, "sparse": self.sparse}


class HashedCrossing(HostLayer):
    """The cross of several categorical features (integers or strings, one shape) hashed into num_bins bins.

    Each combination of values gets one bin; the hash is Lamina's (see the module's note). Inputs are read
    on the host; outputs are backend tensors."""

    def __init__(self, num_bins: int, output_mode: str = "int", sparse: bool = False, name: str | None = None,
                 dtype: Any = None, **kwargs: Any) -> None:
        check_choice(output_mode, "output_mode", ("int", "one_hot"), "HashedCrossing")
        check_dense(sparse, "HashedCrossing")
        super().__init__(name=name, dtype=dtype or ("int64" if output_mode == "int" else None), **kwargs)
        if not isinstance(num_bins, int) or num_bins < 1:
            raise ValueError(f"HashedCrossing num_bins must be a positive int, got {num_bins!r}.")
        self.num_bins = num_bins
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs: Sequence[Any]) -> Any:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError("HashedCrossing takes a list or tuple of at least 2 features, got "
                             f"{type(inputs).__name__}.")
        arrays = [host_array(x) for x in inputs]
        if any(a.shape != arrays[0].shape for a in arrays):
            raise ValueError("HashedCrossing features must have one shape, got "
                             f"{', '.join(str(a.shape) for a in arrays)}.")
        crossed = np.zeros(arrays[0].shape, np.uint64)
        for array in arrays:
            crossed = _mix(crossed ^ hash64(array))
        bins = backend.impl.convert_to_tensor((crossed % np.uint64(self.num_bins)).astype(np.int64))
        return bins if self.output_mode == "int" else encode(bins, self.num_bins, "one_hot", self.dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape[0])
        return shape if self.output_mode == "int" else encoded_shape(shape, self.num_bins, "one_hot")

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "output_mode": self.output_mode,
                "sparse": self.sparse}
