"""Utilities users reach for: one-hot labels, padding sequences and seeding."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina.utils.seeding import set_random_seed
from lamina.utils.sequences import pad_sequences


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encode integer class labels."""
    labels = np.asarray(y)
    if labels.dtype.kind not in "iub" and not np.all(np.mod(labels, 1) == 0):
        raise ValueError(f"to_categorical expects integer labels, got values of dtype {labels.dtype}.")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    num_classes = int(labels.max()) + 1 if num_classes is None else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must be in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}.")
    return np.eye(num_classes, dtype=dtype)[labels]


__all__ = ["pad_sequences", "set_random_seed", "to_categorical"]
