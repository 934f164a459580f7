"""One-hot labels and normalized arrays, on NumPy arrays (and backend tensors, kept as tensors)."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina import backend

__all__ = ["normalize", "to_categorical"]


def to_categorical(x: Any = None, num_classes: int | None = None, dtype: str = "float32", **kwargs: Any) -> Any:
    """Integer class labels as one-hot rows; the class axis is last (a trailing axis of 1 is replaced).

    A backend tensor gives a tensor; anything else a NumPy array (Keras 2's `y=` spelling is accepted).
    """
    if "y" in kwargs and x is None:
        x = kwargs.pop("y")
    if kwargs:
        raise TypeError(f"to_categorical got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
    if x is None:
        raise ValueError("to_categorical needs the class labels x, got None.")
    if backend.impl.is_tensor(x) and not isinstance(x, np.ndarray):
        from lamina import ops

        shape = tuple(backend.impl.shape(x))
        if len(shape) > 1 and shape[-1] == 1:
            x = ops.squeeze(x, axis=-1)
        if num_classes is None:
            num_classes = int(backend.impl.convert_to_numpy(ops.max(x))) + 1
        return ops.one_hot(ops.cast(x, "int32"), num_classes, dtype=dtype)
    labels = np.asarray(x)
    if labels.dtype.kind not in "iub" and not np.all(np.mod(labels, 1) == 0):
        raise ValueError(f"to_categorical expects integer class labels, got values of dtype {labels.dtype} "
                         f"such as {labels.flat[0]!r}.")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max(initial=-1)) + 1
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must be in 0..{num_classes - 1} for num_classes={num_classes}, "
                         f"got values from {labels.min()} to {labels.max()}.")
    return np.eye(num_classes, dtype=dtype)[labels]


def normalize(x: Any, axis: int = -1, order: int = 2) -> Any:
    """x divided by its `order`-norm along `axis` (zero vectors stay zero). NumPy in, NumPy out."""
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis if axis is not None else -1)
    from lamina import ops

    return ops.normalize(x, axis=axis, order=order)
