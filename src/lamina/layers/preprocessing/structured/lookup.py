"""IntegerLookup and StringLookup: a vocabulary maps tokens to indices (or back), with OOV and mask tokens.

The index layout is Keras's: the mask token (if any) at 0, then `num_oov_indices` OOV indices, then the
vocabulary. Lookups run on the host (NumPy); the outputs are backend tensors.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from lamina import backend, ops
from lamina.layers.preprocessing.structured.data import HostLayer, batches, host_array, plain
from lamina.layers.preprocessing.structured.encoding import (ENCODED_MODES, check_choice, check_dense, encode,
                                                             encoded_shape)
from lamina.layers.preprocessing.structured.hashing import hash64

OUTPUT_MODES = ("int", *ENCODED_MODES, "tf_idf")


def _read_vocabulary(vocabulary: Any) -> list:
    if isinstance(vocabulary, str):  # a file with one token a line
        with open(vocabulary, encoding="utf-8") as file:
            return [line.rstrip("\n") for line in file]
    return host_array(vocabulary).reshape(-1).tolist()


class IndexLookup(HostLayer):
    """What IntegerLookup and StringLookup share; `_token` turns one value into a vocabulary key."""

    _kind = "IndexLookup"

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any, oov_token: Any,
                 vocabulary: Any, idf_weights: Any, invert: bool, output_mode: str, pad_to_max_tokens: bool,
                 sparse: bool, **kwargs: Any) -> None:
        check_choice(output_mode, "output_mode", OUTPUT_MODES, self._kind)
        check_dense(sparse, self._kind)
        if "dtype" not in kwargs and output_mode == "int":
            kwargs["dtype"] = "int64"
        super().__init__(**kwargs)
        if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens <= 1):
            raise ValueError(f"{self._kind} max_tokens must be None or an int above 1, got {max_tokens!r}.")
        if not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            raise ValueError(f"{self._kind} num_oov_indices must be a non-negative int, got {num_oov_indices!r}.")
        if invert and output_mode != "int":
            raise ValueError(f"{self._kind} invert=True needs output_mode='int', got {output_mode!r}.")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError(f"{self._kind} output_mode='tf_idf' with a vocabulary needs idf_weights.")
        self.max_tokens, self.num_oov_indices = max_tokens, num_oov_indices
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode = bool(invert), output_mode
        self.pad_to_max_tokens, self.sparse = pad_to_max_tokens, sparse
        self.vocabulary_argument = vocabulary
        self._vocabulary: list = []
        self._index: dict = {}
        self._idf: np.ndarray | None = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    def _token(self, value: Any) -> Any:
        return value

    # --- the vocabulary -----------------------------------------------------------------------------------

    def _special_tokens(self) -> list:
        return ([self.mask_token] if self.mask_token is not None else []) + [self.oov_token] * self.num_oov_indices

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use this vocabulary (a list, an array or a file of one token a line); tf_idf needs idf_weights."""
        tokens = [self._token(t) for t in _read_vocabulary(vocabulary)]
        special = self._special_tokens()
        start = 0
        while start < len(tokens) and start < len(special) and tokens[start] == special[start]:
            start += 1  # a vocabulary that begins with the special tokens (as get_vocabulary gives it)
        tokens = tokens[start if start == len(special) else 0:]
        if len(set(tokens)) != len(tokens):
            repeated = sorted({str(t) for t in tokens if tokens.count(t) > 1})
            raise ValueError(f"{self._kind} vocabulary must hold each token once, got repeats: {repeated[:5]}.")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(f"{self._kind} vocabulary holds the mask_token {self.mask_token!r}; leave it out.")
        if self.max_tokens is not None and len(tokens) + len(special) > self.max_tokens:
            raise ValueError(f"{self._kind} vocabulary of {len(tokens)} tokens and {len(special)} special ones "
                             f"exceeds max_tokens={self.max_tokens}.")
        self._vocabulary = tokens
        self._index = {token: len(special) + i for i, token in enumerate(tokens)}
        if idf_weights is not None:
            weights = host_array(idf_weights, "float64").reshape(-1)
            if weights.size != len(tokens):
                raise ValueError(f"{self._kind} idf_weights must have one weight per vocabulary token "
                                 f"({len(tokens)}), got {weights.size}.")
            oov = [weights.mean() if weights.size else 0.0] * self.num_oov_indices
            self._idf = np.concatenate([[0.0] * (self.mask_token is not None), oov, weights])

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        return (self._special_tokens() if include_special_tokens else []) + list(self._vocabulary)

    def vocabulary_size(self) -> int:
        return len(self._special_tokens()) + len(self._vocabulary)

    def adapt(self, data: Any, batch_size: Any = None, steps: int | None = None) -> None:
        """Learn the vocabulary: the most frequent tokens first (ties: the larger token first), up to max_tokens."""
        self.learn(row for batch in batches(data, steps) for row in self._rows(batch))

    def learn(self, rows: Any) -> None:
        """Learn the vocabulary from rows of tokens (each row one document, for the idf weights)."""
        counts: Counter = Counter()
        documents: Counter = Counter()
        total = 0
        for row in rows:
            tokens = [t for t in (self._token(v) for v in row) if t != self.mask_token]
            counts.update(tokens)
            documents.update(set(tokens))
            total += 1
        ordered = sorted(counts, key=lambda t: (-counts[t], _reverse_key(t)))
        ordered = [t for t in ordered if not (self.num_oov_indices and t == self.oov_token)]
        if self.max_tokens is not None:
            ordered = ordered[:max(0, self.max_tokens - len(self._special_tokens()))]
        idf = None
        if self.output_mode == "tf_idf":
            idf = np.log1p(total / (1.0 + np.array([documents[t] for t in ordered], "float64")))
        self._vocabulary, self._index = [], {}
        self.set_vocabulary(ordered, idf)

    def _rows(self, batch: Any) -> list:
        array = host_array(batch)
        if array.ndim == 0:
            return [[array.item()]]
        return [list(row.reshape(-1)) for row in (array if array.ndim > 1 else array[:, None])]

    # --- the lookup ---------------------------------------------------------------------------------------

    def _depth(self) -> int:
        return self.max_tokens if self.pad_to_max_tokens and self.max_tokens else self.vocabulary_size()

    def _indices(self, array: np.ndarray) -> np.ndarray:
        offset = 1 if self.mask_token is not None else 0
        flat = array.reshape(-1)
        tokens = [self._token(v) for v in flat.tolist()]
        out = np.empty(len(tokens), np.int64)
        missing = []
        for i, token in enumerate(tokens):
            found = self._index.get(token)
            if found is not None:
                out[i] = found
            elif self.mask_token is not None and token == self.mask_token:
                out[i] = 0
            else:
                missing.append(i)
        if missing:
            if self.num_oov_indices == 0:
                raise ValueError(f"{self._kind} met tokens outside its vocabulary with num_oov_indices=0, e.g. "
                                 f"{tokens[missing[0]]!r}.")
            oov = self._oov_buckets(flat[missing]) if self.num_oov_indices > 1 else np.zeros(len(missing), np.int64)
            out[missing] = offset + oov
        return out.reshape(array.shape)

    def _oov_buckets(self, values: np.ndarray) -> np.ndarray:
        """Which of the num_oov_indices OOV indices each out-of-vocabulary value takes (hashed; see Hashing)."""
        return (hash64(values, getattr(self, "salt", None)) % np.uint64(self.num_oov_indices)).astype(np.int64)

    def call(self, inputs: Any) -> Any:
        if not self._vocabulary and not self.invert and self.vocabulary_size() == 0:
            raise ValueError(f"{self._kind} has no vocabulary: pass one, or call adapt(data) first.")
        array = host_array(inputs)
        if self.invert:
            return self._tokens_of(array)
        return self._finish(self._indices(array))

    def _finish(self, indices: Any) -> Any:
        """int64 indices (NumPy or tensor) as the output of output_mode."""
        indices = ops.convert_to_tensor(indices)
        if self.output_mode == "int":
            return ops.cast(indices, "int64")
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        if self.mask_token is not None:  # masked tokens count nowhere
            indices = ops.where(ops.equal(indices, 0), ops.full_like(indices, -1), indices)
        encoded = encode(indices, self._depth(), mode, self.dtype)
        if self.output_mode == "tf_idf":
            idf = np.zeros(self._depth(), self.dtype)
            idf[:len(self._idf)] = self._idf
            encoded = ops.multiply(encoded, idf)
        return encoded

    def _tokens_of(self, indices: np.ndarray) -> np.ndarray:
        table = np.array(self.get_vocabulary(), dtype=object)
        fallback = self.oov_token
        flat = [table[i] if 0 <= i < len(table) else fallback for i in indices.reshape(-1).tolist()]
        return self._host_tokens(flat, indices.shape)

    def _host_tokens(self, tokens: list, shape: tuple) -> Any:
        return np.array(tokens, dtype=object).reshape(shape)

    def get_config(self) -> dict:
        # An adapted vocabulary is written into the config too (Keras keeps it in the file's assets), so that a
        # saved model looks tokens up as before.
        vocabulary = self.vocabulary_argument
        if self._vocabulary and not isinstance(vocabulary, str):
            vocabulary = list(self._vocabulary)
        elif vocabulary is not None and not isinstance(vocabulary, str):
            vocabulary = plain(host_array(vocabulary).reshape(-1))
        idf = self._idf[self.vocabulary_size() - len(self._vocabulary):].tolist() \
            if self._idf is not None and vocabulary is not None else None
        return {**super().get_config(), "max_tokens": self.max_tokens, "num_oov_indices": self.num_oov_indices,
                "mask_token": self.mask_token, "oov_token": self.oov_token, "vocabulary": vocabulary,
                "idf_weights": idf, "invert": self.invert, "output_mode": self.output_mode,
                "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": self.sparse}


def _reverse_key(token: Any) -> Any:
    """Sorts ties so that the larger token comes first (the order Keras's adapt gives)."""
    if isinstance(token, str):
        return tuple(-ord(c) for c in token) + (1,)
    return -token


class IntegerLookup(IndexLookup):
    """Integers to indices of a vocabulary (or back, with invert=True): mask_token at 0 (if given), then the
    OOV indices (oov_token -1), then the vocabulary. Inputs may be backend tensors or NumPy arrays; the
    lookup runs on the host."""

    _kind = "IntegerLookup"

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: int | None = None,
                 oov_token: int = -1, vocabulary: Any = None, vocabulary_dtype: str = "int64",
                 idf_weights: Any = None, invert: bool = False, output_mode: str = "int", sparse: bool = False,
                 pad_to_max_tokens: bool = False, oov_method: str = "floormod", salt: Any = None,
                 name: str | None = None, **kwargs: Any) -> None:
        check_choice(oov_method, "oov_method", ("floormod", "farmhash"), "IntegerLookup")
        self.vocabulary_dtype, self.oov_method, self.salt = vocabulary_dtype, oov_method, salt
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, pad_to_max_tokens, sparse, name=name, **kwargs)

    def _token(self, value: Any) -> Any:
        return int(value)

    def call(self, inputs: Any) -> Any:
        if self._on_device(inputs):
            return self._finish(self._device_indices(ops.convert_to_tensor(inputs)))
        return super().call(inputs)

    def _on_device(self, inputs: Any) -> bool:
        """Tensors (and symbolic ones) of a vocabulary lookup without host-only features stay on the device."""
        return (not self.invert and self.oov_method == "floormod" and self.num_oov_indices > 0 and
                bool(self._vocabulary) and not isinstance(inputs, (np.ndarray, list, tuple)))

    def _device_indices(self, x: Any) -> Any:
        """The lookup as tensor ops (jit-friendly): a binary search in the sorted vocabulary."""
        dtype = backend.impl.dtype_of(x)
        order = np.argsort(self._vocabulary)
        keys = ops.convert_to_tensor(np.asarray(self._vocabulary, np.int64)[order].astype(dtype))
        positions = ops.convert_to_tensor((order + len(self._special_tokens())).astype(dtype))
        slot = ops.clip(ops.searchsorted(keys, x), 0, len(self._vocabulary) - 1)
        offset = 1 if self.mask_token is not None else 0
        oov = ops.add(ops.mod(x, self.num_oov_indices), offset)
        indices = ops.where(ops.equal(ops.take(keys, slot), x), ops.take(positions, slot), oov)
        if self.mask_token is not None:
            indices = ops.where(ops.equal(x, self.mask_token), ops.zeros_like(indices), indices)
        return indices

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self._depth(), "multi_hot")

    def _oov_buckets(self, values: np.ndarray) -> np.ndarray:
        if self.oov_method == "floormod":
            return np.mod(values.astype(np.int64), self.num_oov_indices)
        return super()._oov_buckets(values)

    def _host_tokens(self, tokens: list, shape: tuple) -> Any:
        return backend.impl.convert_to_tensor(np.array(tokens, np.int64).reshape(shape))

    def get_config(self) -> dict:
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype, "oov_method": self.oov_method,
                "salt": plain(self.salt)}


class StringLookup(IndexLookup):
    """Strings to indices of a vocabulary (or back, with invert=True, as a NumPy array of str): mask_token at 0
    (if given), then the OOV indices (oov_token "[UNK]"), then the vocabulary. Inputs are NumPy arrays or
    lists of str, read on the host."""

    _kind = "StringLookup"

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1, mask_token: str | None = None,
                 oov_token: str = "[UNK]", vocabulary: Any = None, idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", pad_to_max_tokens: bool = False, sparse: bool = False,
                 encoding: str = "utf-8", name: str | None = None, salt: Any = None, **kwargs: Any) -> None:
        self.encoding, self.salt = encoding, salt
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary, idf_weights, invert,
                         output_mode, pad_to_max_tokens, sparse, name=name, **kwargs)

    def _token(self, value: Any) -> Any:
        return value.decode(self.encoding) if isinstance(value, bytes) else str(value)

    def _host_tokens(self, tokens: list, shape: tuple) -> Any:
        return np.array(tokens, dtype=str).reshape(shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "encoding": self.encoding, "salt": plain(self.salt)}
