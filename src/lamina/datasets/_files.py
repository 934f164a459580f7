"""What the data set loaders share: Keras's download folder, safe .npz reading, shuffled splits, word sequences."""

from __future__ import annotations

import io
import itertools
import os
import zipfile
from typing import Any

import numpy as np

from lamina.datasets._pickle_stream import UnsafePickleError, loads

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of an .npz file; object arrays (ragged lists) are read by the safe pickle-stream reader."""
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                arrays[member[:-len(".npy")]] = _read_npy(io.BytesIO(archive.read(member)), f"{path}:{member}")
    return arrays


def _read_npy(stream: io.BytesIO, where: str) -> np.ndarray:
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    try:
        array = loads(stream.read())
    except UnsafePickleError as error:
        raise UnsafePickleError(f"{where}: {error}") from None
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise UnsafePickleError(f"{where}: the object array does not have the shape {tuple(shape)} its header gives.")
    return array


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), the fraction of samples kept for testing; got {test_split!r}.")


def shuffled_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple[tuple[Any, Any],
                                                                                           tuple[Any, Any]]:
    """Shuffle with NumPy's legacy RandomState(seed), as Keras does, then cut off the last test_split."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def check_word_options(num_words: Any, skip_top: Any, maxlen: Any, start_char: Any, oov_char: Any,
                       index_from: Any) -> None:
    for name, value, allow_none in (("num_words", num_words, True), ("skip_top", skip_top, False),
                                    ("maxlen", maxlen, True), ("start_char", start_char, True),
                                    ("oov_char", oov_char, True), ("index_from", index_from, False)):
        if value is None and allow_none:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            expected = "a non-negative integer" + (" or None" if allow_none else "")
            raise ValueError(f"{name} must be {expected}; got {value!r}.")


def word_sequences(sequences: list[np.ndarray], labels: np.ndarray, split: int, num_words: int | None, skip_top: int,
                   maxlen: int | None, start_char: int | None, oov_char: int | None,
                   index_from: int, require_both: bool = False) -> tuple[list[list[int]], np.ndarray, int]:
    """Keras's word-index transforms, vectorised over all words at once.

    Each sequence gets start_char in front and index_from added to its words; those of maxlen or more words
    are dropped; then words outside [skip_top, num_words) become oov_char (or are removed when it is None).
    `split` is how many of `sequences` are training ones; the kept training count is returned. With
    `require_both`, maxlen leaving no training or no test sequence is an error.
    """
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    words = np.fromiter(itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
    words = words + index_from
    if start_char is not None:
        words = np.insert(words, np.cumsum(lengths) - lengths, start_char)
        lengths = lengths + 1
    keep = np.ones(len(lengths), dtype=bool) if not maxlen else lengths < maxlen
    split = int(keep[:split].sum())
    if require_both and maxlen and (split == 0 or split == int(keep.sum())):
        raise ValueError(f"No sequence shorter than maxlen={maxlen} is left in the training or the test part: "
                         "increase maxlen.")
    words = words[np.repeat(keep, lengths)]
    lengths, labels = lengths[keep], np.asarray(labels)[keep]
    if not num_words:
        num_words = int(words.max()) if words.size else 0
    outside = (words < skip_top) | (words >= num_words)
    if oov_char is not None:
        words = np.where(outside, oov_char, words)
    else:
        owner = np.repeat(np.arange(len(lengths)), lengths)
        lengths = lengths - np.bincount(owner[outside], minlength=len(lengths))
        words = words[~outside]
    pieces = np.split(words, np.cumsum(lengths)[:-1]) if len(lengths) else []
    return [piece.tolist() for piece in pieces], labels, split


def object_array(sequences: list[list[int]]) -> np.ndarray:
    """The lists as Keras returns them: np.array(..., dtype="object")."""
    return np.array(sequences, dtype="object")
