"""CIFAR-100: 50,000 training and 10,000 test colour images of 32x32 pixels in 100 classes (20 superclasses)."""

from __future__ import annotations

import os

import numpy as np

from lamina.datasets.cifar import channels_last, load_batch
from lamina.utils.file_utils import get_file

DIRNAME = "cifar-100-python-target"
ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode: str = "fine") -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 32, 32, 3) (channels_first: (n, 3, 32, 32)) and
    int64 labels (n, 1): the 100 fine classes, or the 20 coarse ones with label_mode="coarse"."""
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'label_mode must be "fine" or "coarse"; got {label_mode!r}.')
    folder = os.path.join(get_file(fname=DIRNAME, origin=ORIGIN, extract=True, file_hash=FILE_HASH),
                          "cifar-100-python")
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(folder, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(folder, "test"), label_key=key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (channels_last(x_train), y_train), (channels_last(x_test), y_test)
