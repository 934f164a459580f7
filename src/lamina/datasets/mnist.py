"""MNIST: 60,000 training and 10,000 test images of handwritten digits, 28x28 uint8, as Keras serves them."""

from __future__ import annotations

import numpy as np

from lamina.datasets._files import ORIGIN_FOLDER
from lamina.utils.file_utils import get_file

FILE_NAME = "mnist.npz"
FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = FILE_NAME) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): uint8 images (n, 28, 28) and uint8 labels (n,).

    `path` is the file name in the cache folder ($KERAS_HOME/datasets, default ~/.keras/datasets).
    """
    local = get_file(fname=path, origin=ORIGIN_FOLDER + FILE_NAME, file_hash=FILE_HASH)
    with np.load(local, allow_pickle=False) as arrays:
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
