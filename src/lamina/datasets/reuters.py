"""Reuters newswires: 11,228 wires as lists of word indices, labelled with 46 topics.

reuters.npz keeps the wires as NumPy object arrays (pickles inside the .npy members); they are read with the
restricted pickle-stream reader (lamina.datasets._pickle_stream), never with pickle.
"""

from __future__ import annotations

import json

import numpy as np

from lamina.datasets._files import (ORIGIN_FOLDER, check_test_split, check_word_options, load_npz, object_array,
                                    word_sequences)
from lamina.utils.file_utils import get_file

FILE_NAME = "reuters.npz"
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_NAME = "reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"
LABEL_NAMES = ("cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee",
               "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx",
               "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock",
               "retail", "ipi", "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
               "dlr", "gas", "silver", "wpi", "hog", "lead")


def load_data(path: str = FILE_NAME, num_words: int | None = None, skip_top: int = 0, maxlen: int | None = None,
              test_split: float = 0.2, seed: int = 113, start_char: int | None = 1, oov_char: int | None = 2,
              index_from: int = 3) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): object arrays of word-index lists and int topic labels.

    The word options are imdb.load_data's; the wires are shuffled with RandomState(seed), then the last
    test_split of them (after the maxlen filter) are the test part.
    """
    check_word_options(num_words, skip_top, maxlen, start_char, oov_char, index_from)
    check_test_split(test_split)
    arrays = load_npz(get_file(fname=path, origin=ORIGIN_FOLDER + FILE_NAME, file_hash=FILE_HASH))
    xs, labels = arrays["x"], arrays["y"]
    order = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(order)
    sequences, labels, _ = word_sequences(list(xs[order]), labels[order], len(xs), num_words, skip_top, maxlen,
                                          start_char, oov_char, index_from)
    cut = int(len(sequences) * (1 - test_split))
    return ((object_array(sequences[:cut]), np.array(labels[:cut])),
            (object_array(sequences[cut:]), np.array(labels[cut:])))


def get_word_index(path: str = WORD_INDEX_NAME) -> dict[str, int]:
    """The word -> rank dictionary (ranks before the index_from shift of load_data)."""
    local = get_file(path, origin=ORIGIN_FOLDER + WORD_INDEX_NAME, file_hash=WORD_INDEX_HASH)
    with open(local, encoding="utf-8") as file:
        return json.load(file)


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, indexed by label."""
    return LABEL_NAMES
