"""CIFAR-10: 50,000 training and 10,000 test colour images of 32x32 pixels in 10 classes."""

from __future__ import annotations

import os

import numpy as np

from lamina.datasets.cifar import channels_last, load_batch
from lamina.utils.file_utils import get_file

DIRNAME = "cifar-10-batches-py-target"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
TRAIN_BATCHES = 5


def load_data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 32, 32, 3) (channels_first: (n, 3, 32, 32))
    and uint8 labels (n, 1) in 0..9."""
    folder = os.path.join(get_file(fname=DIRNAME, origin=ORIGIN, extract=True, file_hash=FILE_HASH),
                          "cifar-10-batches-py")
    parts = [load_batch(os.path.join(folder, f"data_batch_{i}")) for i in range(1, TRAIN_BATCHES + 1)]
    x_train = np.concatenate([x for x, _ in parts]).astype(np.uint8)
    y_train = np.concatenate([np.asarray(y) for _, y in parts]).astype(np.uint8).reshape(-1, 1)
    x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    x_test = np.asarray(x_test).astype(np.uint8)
    y_test = np.reshape(y_test, (len(y_test), 1)).astype(np.uint8)
    return (channels_last(x_train), y_train), (channels_last(x_test), y_test)
