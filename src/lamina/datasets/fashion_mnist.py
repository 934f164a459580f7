"""Fashion-MNIST: 60,000 training and 10,000 test images of clothes in 10 classes, 28x28 uint8."""

from __future__ import annotations

import gzip
import os

import numpy as np

from lamina.datasets._files import ORIGIN_FOLDER
from lamina.utils.file_utils import get_file

CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")
FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz")


def _idx(path: str, header: int) -> np.ndarray:
    """The uint8 payload of a gzipped IDX file after its `header` bytes."""
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), dtype=np.uint8, offset=header)


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 28, 28) and uint8 labels (n,) in 0..9."""
    paths = [get_file(name, origin=ORIGIN_FOLDER + name, cache_subdir=CACHE_SUBDIR) for name in FILES]
    y_train, y_test = _idx(paths[0], 8), _idx(paths[2], 8)
    x_train = _idx(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = _idx(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
