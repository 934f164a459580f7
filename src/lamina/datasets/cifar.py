"""Reading the CIFAR "python version" batch files without unpickling them.

Each batch is a pickled dict {b"data": uint8 array (n, 3072), b"labels" or b"fine_labels"/b"coarse_labels":
list of ints, b"filenames": ..., b"batch_label": ...}. It is read by the restricted pickle-stream reader in
lamina.datasets._pickle_stream, which rebuilds only plain values and NumPy arrays and refuses anything else.
"""

from __future__ import annotations

import os

import numpy as np

from lamina import backend
from lamina.datasets._pickle_stream import UnsafePickleError, loads


def load_batch(fpath: str | os.PathLike, label_key: str = "labels") -> tuple[np.ndarray, list[int]]:
    """(data as uint8 (n, 3, 32, 32), labels) of one CIFAR batch file."""
    with open(fpath, "rb") as file:
        try:
            batch = loads(file.read())
        except UnsafePickleError as error:
            raise UnsafePickleError(f"{fpath} is not a CIFAR batch file as published: {error}") from None
    if not isinstance(batch, dict):
        raise ValueError(f"{fpath} is not a CIFAR batch file: it holds a {type(batch).__name__}, not a dict.")
    batch = {key.decode("utf8") if isinstance(key, bytes) else key: value for key, value in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{fpath} is not a CIFAR batch file: it has no {label_key!r} or 'data' entry "
                         f"(it has {sorted(batch)}).")
    data = np.asarray(batch["data"])
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def channels_last(x: np.ndarray) -> np.ndarray:
    """(n, 3, 32, 32) to (n, 32, 32, 3) when the image data format is channels_last."""
    return x.transpose(0, 2, 3, 1) if backend.image_data_format() == "channels_last" else x
