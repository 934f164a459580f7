"""IMDB movie reviews: 25,000 training and 25,000 test reviews as lists of word indices, labelled 0/1 by sentiment.

imdb.npz keeps the reviews as NumPy object arrays, which are pickles inside the .npy members; they are read with
the restricted pickle-stream reader (lamina.datasets._pickle_stream), never with pickle.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from lamina.datasets._files import ORIGIN_FOLDER, check_word_options, load_npz, object_array, word_sequences
from lamina.utils.file_utils import get_file

FILE_NAME = "imdb.npz"
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_NAME = "imdb_word_index.json"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path: str = FILE_NAME, num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2, index_from: int = 3,
              **kwargs: Any) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): object arrays of word-index lists and int labels.

    Words are ranked by frequency (1 is the most frequent) and shifted by index_from; each review starts with
    start_char; words ranked below skip_top or at/above num_words become oov_char (dropped when it is None);
    reviews of maxlen words or more are left out. The shuffle uses RandomState(seed), as Keras does.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}.")
    check_word_options(num_words, skip_top, maxlen, start_char, oov_char, index_from)
    arrays = load_npz(get_file(fname=path, origin=ORIGIN_FOLDER + FILE_NAME, file_hash=FILE_HASH))
    x_train, labels_train, x_test, labels_test = (arrays[key] for key in ("x_train", "y_train", "x_test", "y_test"))
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]
    sequences, labels, split = word_sequences(list(x_train) + list(x_test),
                                              np.concatenate([labels_train, labels_test]), len(x_train),
                                              num_words, skip_top, maxlen, start_char, oov_char, index_from,
                                              require_both=True)
    return ((object_array(sequences[:split]), labels[:split]), (object_array(sequences[split:]), labels[split:]))


def get_word_index(path: str = WORD_INDEX_NAME) -> dict[str, int]:
    """The word -> rank dictionary (ranks before the index_from shift of load_data)."""
    local = get_file(fname=path, origin=ORIGIN_FOLDER + WORD_INDEX_NAME, file_hash=WORD_INDEX_HASH)
    with open(local, encoding="utf-8") as file:
        return json.load(file)
