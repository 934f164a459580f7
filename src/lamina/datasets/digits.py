"""The 8x8 handwritten digits that ship with scikit-learn: 1,797 real images, no download."""

from __future__ import annotations

import numpy as np


def load_data(test_split: float = 0.2, seed: int = 113) -> tuple[tuple[np.ndarray, np.ndarray],
                                                                 tuple[np.ndarray, np.ndarray]]:
    """Shuffled digits split into train and test: x is (n, 64) float32 in [0, 1], y the int labels 0..9."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("The digits data set comes from scikit-learn: pip install scikit-learn") from None
    if not 0.0 < test_split < 1.0:
        raise ValueError(f"test_split must be between 0 and 1, got {test_split!r}.")
    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    cut = int(round(len(x) * (1.0 - test_split)))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
