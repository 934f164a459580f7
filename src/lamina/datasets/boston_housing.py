"""Boston housing prices: 506 samples of 13 attributes and the median house value in k$.

The data set has a known ethical problem (its "B" attribute encodes a racial assumption); prefer
california_housing except to discuss that problem.
"""

from __future__ import annotations

import numpy as np

from lamina.datasets._files import ORIGIN_FOLDER, check_test_split, shuffled_split
from lamina.utils.file_utils import get_file

FILE_NAME = "boston_housing.npz"
FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = FILE_NAME, test_split: float = 0.2,
              seed: int = 113) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): x (n, 13), y (n,), shuffled with RandomState(seed)."""
    check_test_split(test_split)
    local = get_file(path, origin=ORIGIN_FOLDER + FILE_NAME, file_hash=FILE_HASH)
    with np.load(local, allow_pickle=False) as arrays:
        x, y = arrays["x"], arrays["y"]
    return shuffled_split(x, y, test_split, seed)
