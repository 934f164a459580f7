"""Padding variable-length sequences into one array, as the text tutorials do before an Embedding."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences: Sequence[Any], maxlen: int | None = None, dtype: Any = "int32", padding: str = "pre",
                  truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Sequences (lists or arrays, each of any length) as one (len(sequences), maxlen, ...) array.

    Sequences longer than maxlen lose values from the start ("pre") or the end ("post"); shorter ones
    are filled with `value` before ("pre") or after ("post"). maxlen defaults to the longest sequence.
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in _SIDES:
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post', got {side!r}.")
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: sequences must be a list of sequences, got {type(sequences).__name__}.")
    rows = [np.asarray(sequence) for sequence in sequences]
    if maxlen is None:
        maxlen = max((len(row) for row in rows), default=0)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be non-negative, got {maxlen}.")
    feature_shape = next((row.shape[1:] for row in rows if row.size), ())
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.object_)
    if isinstance(value, str) and not is_text:
        raise ValueError(f"pad_sequences: value {value!r} is a string but dtype is {dtype!r}; "
                         "use dtype=object for string sequences.")
    padded = np.full((len(rows), maxlen, *feature_shape), value, dtype=dtype)
    for index, row in enumerate(rows):
        if not len(row):
            continue
        if row.shape[1:] != feature_shape:
            raise ValueError(f"pad_sequences: sequence {index} has elements of shape {row.shape[1:]}, "
                             f"expected {feature_shape} like the others.")
        kept = row[-maxlen:] if truncating == "pre" else row[:maxlen]
        if maxlen == 0:
            kept = row[:0]
        if padding == "post":
            padded[index, :len(kept)] = kept
        else:
            padded[index, maxlen - len(kept):] = kept
    return padded
