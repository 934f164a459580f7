"""TextVectorization: strings to token indices (or multi-hot, count and tf-idf rows) through a vocabulary.

Text is processed on the host: inputs are NumPy arrays or Python lists of str (one document each, shaped
(batch,) or (batch, 1)); the outputs are backend tensors.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.layers.preprocessing.structured.data import HostLayer, batches, host_array, plain
from lamina.layers.preprocessing.structured.encoding import check_choice, check_dense, encode
from lamina.layers.preprocessing.structured.lookup import StringLookup

# ASCII punctuation, as Keras strips it.
_PUNCTUATION = re.compile(r"[!\"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']")
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")


def standardize_text(text: str, standardize: Any) -> str:
    if standardize is None:
        return text
    if callable(standardize):
        return str(standardize(text))
    if standardize in ("lower_and_strip_punctuation", "lower"):
        text = text.lower()
    if standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
        text = _PUNCTUATION.sub("", text)
    return text


def split_text(text: str, split: Any) -> list[str]:
    if split is None:
        return [text]
    if callable(split):
        return [str(t) for t in split(text)]
    return text.split() if split == "whitespace" else list(text)


def with_ngrams(tokens: list[str], ngrams: Any) -> list[str]:
    if ngrams is None:
        return tokens
    sizes = range(1, ngrams + 1) if isinstance(ngrams, int) else ngrams
    return [" ".join(tokens[i:i + n]) for n in sizes for i in range(len(tokens) - n + 1)]


class TextVectorization(HostLayer):
    """Standardizes, splits and n-grams each document, then looks its tokens up in a vocabulary.

    output_mode "int": (batch, output_sequence_length) int64 indices (0 pads; index 1 is "[UNK]"), padded
    to the longest document when output_sequence_length is None. "multi_hot", "count", "tf_idf":
    (batch, vocabulary size) rows ("[UNK]" at 0; max_tokens wide with pad_to_max_tokens). standardize and
    split take Keras's names, None, or a callable on one Python str (a callable is not saved in configs).
    """

    def __init__(self, max_tokens: int | None = None, standardize: Any = "lower_and_strip_punctuation",
                 split: Any = "whitespace", ngrams: int | Sequence[int] | None = None, output_mode: str = "int",
                 output_sequence_length: int | None = None, pad_to_max_tokens: bool = False,
                 vocabulary: Any = None, idf_weights: Any = None, sparse: bool = False, ragged: bool = False,
                 encoding: str = "utf-8", name: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("vocabulary_size", None)  # written by get_config, as in Keras
        check_choice(output_mode, "output_mode", ("int", "multi_hot", "count", "tf_idf"), "TextVectorization")
        check_dense(sparse, "TextVectorization")
        if ragged:
            raise ValueError("TextVectorization computes dense outputs only: ragged must be False, got True.")
        if not (standardize is None or callable(standardize) or standardize in STANDARDIZE):
            raise ValueError(f"TextVectorization standardize must be one of {STANDARDIZE}, None or a callable, got "
                             f"{standardize!r}.")
        if not (split is None or callable(split) or split in SPLIT):
            raise ValueError(f"TextVectorization split must be one of {SPLIT}, None or a callable, got {split!r}.")
        if ngrams is not None and not (isinstance(ngrams, int) and ngrams > 0 or isinstance(ngrams, (list, tuple))
                                       and all(isinstance(n, int) and n > 0 for n in ngrams)):
            raise ValueError(f"TextVectorization ngrams must be None, a positive int or a tuple of them, got "
                             f"{ngrams!r}.")
        if output_sequence_length is not None and output_mode != "int":
            raise ValueError("TextVectorization output_sequence_length applies to output_mode='int' only, got "
                             f"output_mode={output_mode!r}.")
        if "dtype" not in kwargs and output_mode == "int":
            kwargs["dtype"] = "int64"
        super().__init__(name=name, **kwargs)
        self.max_tokens, self.standardize, self.split = max_tokens, standardize, split
        self.ngrams = tuple(ngrams) if isinstance(ngrams, list) else ngrams
        self.output_mode, self.output_sequence_length = output_mode, output_sequence_length
        self.pad_to_max_tokens, self.sparse, self.ragged, self.encoding = pad_to_max_tokens, sparse, ragged, encoding
        self._lookup = StringLookup(max_tokens=max_tokens, mask_token="" if output_mode == "int" else None,
                                    vocabulary=vocabulary, idf_weights=idf_weights, output_mode=output_mode,
                                    pad_to_max_tokens=pad_to_max_tokens, encoding=encoding,
                                    dtype=None if output_mode == "int" else self.dtype)
        self._vocabulary_argument = vocabulary

    # --- tokens -------------------------------------------------------------------------------------------

    def _documents(self, inputs: Any) -> list[str]:
        array = host_array(inputs)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim > 1:
            raise ValueError(f"TextVectorization takes one string per example, shaped (batch,) or (batch, 1), got "
                             f"shape {array.shape}.")
        return [v.decode(self.encoding) if isinstance(v, bytes) else str(v) for v in array.reshape(-1).tolist()]

    def tokens(self, inputs: Any) -> list[list[str]]:
        """Each document's tokens after standardize, split and ngrams."""
        return [with_ngrams(split_text(standardize_text(doc, self.standardize), self.split), self.ngrams)
                for doc in self._documents(inputs)]

    # --- vocabulary ---------------------------------------------------------------------------------------

    def adapt(self, data: Any, batch_size: Any = None, steps: int | None = None) -> None:
        """Learn the vocabulary (and idf weights for tf_idf) from documents."""
        self._lookup.learn(tokens for batch in batches(data, steps) for tokens in self.tokens(batch))

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self._lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    # --- the call -----------------------------------------------------------------------------------------

    def call(self, inputs: Any) -> Any:
        documents = self.tokens(inputs)
        flat = np.array([t for d in documents for t in d], dtype=object)
        indices = self._lookup._indices(flat) if flat.size else np.zeros(0, np.int64)
        lengths = [len(d) for d in documents]
        if self.output_mode != "int":
            return self._encode(documents, indices, lengths)
        width = self.output_sequence_length if self.output_sequence_length is not None else max(lengths, default=0)
        rows = np.zeros((len(documents), width), np.int64)  # 0: the padding (mask) index
        start = 0
        for row, length in enumerate(lengths):
            kept = min(length, width)
            rows[row, :kept] = indices[start:start + kept]
            start += length
        return backend.impl.convert_to_tensor(rows)

    def _encode(self, documents: list, indices: np.ndarray, lengths: list[int]) -> Any:
        width = max(max(lengths, default=0), 1)
        rows = np.full((len(documents), width), -1, np.int64)
        start = 0
        for row, length in enumerate(lengths):
            rows[row, :length] = indices[start:start + length]
            start += length
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        depth = self._lookup._depth()
        encoded = encode(backend.impl.convert_to_tensor(rows), depth, mode, self.dtype)
        if self.output_mode == "tf_idf":
            idf = np.zeros(depth, self.dtype)
            idf[:len(self._lookup._idf)] = self._lookup._idf
            encoded = encoded * backend.impl.convert_to_tensor(idf)
        return encoded

    def compute_output_shape(self, input_shape: Any) -> tuple:
        batch = tuple(input_shape)[:1] or (None,)
        if self.output_mode == "int":
            return batch + (self.output_sequence_length,)
        return batch + (self._lookup._depth(),)

    def get_config(self) -> dict:
        lookup = self._lookup.get_config()
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": self.standardize, "split": self.split, "ngrams": plain(self.ngrams),
                "output_mode": self.output_mode, "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": self.sparse, "ragged": self.ragged,
                "vocabulary": lookup["vocabulary"], "idf_weights": lookup["idf_weights"],
                "encoding": self.encoding, "vocabulary_size": self.vocabulary_size()}
