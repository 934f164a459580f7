"""split_dataset: two parts of arrays (sample by sample) or of a dataset of batches (batch by batch)."""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from lamina.utils import tree
from lamina.utils.py_dataset import PyDataset

__all__ = ["split_dataset"]


class _Batches(PyDataset):
    """Some batches of a dataset, by position: one side of a split."""

    def __init__(self, source: Any, positions: list[int]) -> None:
        super().__init__(workers=getattr(source, "workers", 1),
                         use_multiprocessing=getattr(source, "use_multiprocessing", False),
                         max_queue_size=getattr(source, "max_queue_size", 10))
        self.source, self.positions = source, positions

    def __len__(self) -> int:
        return len(self.positions)

    def __getitem__(self, index: int) -> Any:
        return self.source[self.positions[index]]


def _sizes(left_size: Any, right_size: Any, total: int) -> tuple[int, int]:
    """The two sides' lengths from counts or fractions, checked as Keras checks them."""
    if left_size is None and right_size is None:
        raise ValueError("split_dataset needs left_size or right_size (or both), got None for both.")
    sizes = []
    for size, name in ((left_size, "left_size"), (right_size, "right_size")):
        if size is None:
            sizes.append(None)
            continue
        if isinstance(size, bool) or not isinstance(size, (int, float, np.integer, np.floating)):
            raise TypeError(f"split_dataset: {name} must be an int, a float or None, got {type(size).__name__}.")
        if isinstance(size, (float, np.floating)):
            if not 0 < size < 1:
                raise ValueError(f"split_dataset: {name} as a fraction must be in (0, 1), got {size}.")
            sizes.append(round(float(size) * total))
        else:
            if not 0 < size < total:
                raise ValueError(f"split_dataset: {name} as a count must be in (0, {total}) for a dataset of "
                                 f"{total} elements, got {size}.")
            sizes.append(int(size))
    left, right = sizes
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"split_dataset: left_size + right_size is {left + right}, more than the {total} "
                         "elements of the dataset.")
    if left <= 0 or right <= 0:
        raise ValueError(f"split_dataset: with {total} elements, left_size={left_size} and right_size={right_size}"
                         f" leave the {'left' if left <= 0 else 'right'} side empty.")
    return left, right


def _is_arrays(dataset: Any) -> bool:
    leaves = tree.flatten(dataset)
    return bool(leaves) and all(hasattr(leaf, "shape") or isinstance(leaf, (list, np.ndarray)) for leaf in leaves) \
        and not isinstance(dataset, PyDataset)


def split_dataset(dataset: Any, left_size: Any = None, right_size: Any = None, shuffle: bool = False,
                  seed: int | None = None, preferred_backend: str | None = None) -> tuple[Any, Any]:
    """Split into (left, right): the first left_size elements and the last right_size ones (after a seeded
    shuffle when asked). Sizes are counts or fractions.

    Arrays, or tuples/lists/dicts of arrays, split by sample and come back in the same structure (ready for
    fit); a PyDataset or Sequence splits by batch into two PyDatasets; a generator or other iterable of batches
    is read into memory and split by batch.
    """
    if preferred_backend not in (None, "tensorflow", "torch", "jax", "numpy"):
        raise ValueError(f"split_dataset: unknown preferred_backend {preferred_backend!r}.")
    if isinstance(dataset, (tuple, list, dict, np.ndarray)) or hasattr(dataset, "to_numpy") \
            or hasattr(dataset, "__array__"):
        if not _is_arrays(dataset):
            raise TypeError("split_dataset expects arrays, tuples/lists/dicts of arrays, a PyDataset or an iterable "
                            f"of batches, got {type(dataset).__name__}.")
        arrays = tree.map_structure(lambda a: a.to_numpy() if hasattr(a, "to_numpy") else np.asarray(a), dataset)
        counts = {len(a) for a in tree.flatten(arrays)}
        if len(counts) != 1:
            raise ValueError(f"split_dataset: all arrays must have the same number of samples, got {sorted(counts)}.")
        order = _order(counts.pop(), shuffle, seed)
        left, right = _sizes(left_size, right_size, len(order))
        take = lambda rows: tree.map_structure(lambda a: a[rows], arrays)  # noqa: E731
        return take(order[:left]), take(order[len(order) - right:])
    if hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__") or isinstance(dataset, PyDataset):
        source = dataset
        total = source.num_batches if isinstance(source, PyDataset) else len(source)
        if total is None:
            raise ValueError("split_dataset cannot split an endless PyDataset (num_batches is None).")
    elif hasattr(dataset, "__iter__"):
        source = list(dataset)
        total = len(source)
    else:
        raise TypeError("split_dataset expects arrays, tuples/lists/dicts of arrays, a PyDataset or an iterable of "
                        f"batches, got {type(dataset).__name__}.")
    order = _order(total, shuffle, seed)
    left, right = _sizes(left_size, right_size, total)
    return _Batches(source, order[:left].tolist()), _Batches(source, order[total - right:].tolist())


def _order(total: int, shuffle: bool, seed: int | None) -> np.ndarray:
    order = np.arange(total)
    if shuffle:
        np.random.default_rng(random.randint(0, 10**6) if seed is None else seed).shuffle(order)
    return order
