"""California housing prices (1990 census): 20,640 block groups of 8 features and the median house value in $."""

from __future__ import annotations

import numpy as np

from lamina.datasets._files import ORIGIN_FOLDER, check_test_split, shuffled_split
from lamina.utils.file_utils import get_file

FILE_NAME = "california_housing.npz"
FILE_HASH = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"
SMALL_SIZE = 600


def load_data(version: str = "large", path: str = FILE_NAME, test_split: float = 0.2,
              seed: int = 113) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """(x_train, y_train), (x_test, y_test): x (n, 8), y (n,); version="small" keeps the first 600 samples."""
    check_test_split(test_split)
    if version not in ("large", "small"):
        raise ValueError(f'version must be "large" or "small"; got {version!r}.')
    local = get_file(path, origin=ORIGIN_FOLDER + FILE_NAME, file_hash=FILE_HASH)
    with np.load(local, allow_pickle=False) as arrays:
        x, y = arrays["x"], arrays["y"]
    if version == "small":
        x, y = x[:SMALL_SIZE], y[:SMALL_SIZE]
    return shuffled_split(x, y, test_split, seed)
