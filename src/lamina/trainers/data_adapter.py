"""Turns what users pass to fit/evaluate/predict into device arrays or a stream of batches, checked first."""

from __future__ import annotations

import collections.abc
import inspect
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from lamina import backend
from lamina.utils import tree


def _as_array(value: Any, name: str) -> Any:
    """A NumPy array (or a backend tensor left as it is), after checking that it holds numbers."""
    if backend.impl.is_tensor(value) and not isinstance(value, np.ndarray):
        return value
    if hasattr(value, "to_numpy"):  # pandas
        value = value.to_numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{name} could not be read as an array: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold numbers, got an array of dtype {array.dtype} "
                        f"(first value {array.flat[0]!r})." if array.size else
                        f"{name} must hold numbers, got an empty array of dtype {array.dtype}.")
    if array.dtype == np.float64:
        array = array.astype(np.float32)
    if array.ndim == 0:
        raise ValueError(f"{name} must have a batch axis, got a scalar.")
    return array


def _leaves_named(structure: Any, name: str) -> Any:
    if isinstance(structure, dict):
        return {key: _leaves_named(value, f"{name}[{key!r}]") for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_leaves_named(value, f"{name}[{i}]") for i, value in enumerate(structure)]
    return _as_array(structure, name)


def _sample_count(structure: Any, name: str) -> int | None:
    counts = {int(backend.impl.shape(leaf)[0]) for leaf in tree.flatten(structure) if leaf is not None}
    if len(counts) > 1:
        raise ValueError(f"All arrays in {name} must have the same number of samples, got {sorted(counts)}.")
    return counts.pop() if counts else None


def check_not_empty(x: Any, count: int | None) -> None:
    """x must hold at least one sample: an empty x would train or evaluate on nothing and report a loss of 0."""
    if not count:
        shapes = [tuple(backend.impl.shape(leaf)) for leaf in tree.flatten(x) if leaf is not None]
        given = f"shape {shapes[0]}" if len(shapes) == 1 else f"shapes {shapes}"
        raise ValueError(f"x has 0 samples: it needs at least one, got {given}.")


@dataclass
class ArrayData:
    """In-memory samples, checked and as NumPy arrays (or tensors): x, y and sample weights."""

    x: Any
    y: Any
    sample_weight: Any
    count: int
    _on_device: Any = field(default=None, repr=False)

    def split(self, fraction: float) -> tuple["ArrayData", "ArrayData"]:
        """The first (1 - fraction) of the samples and the last fraction, as Keras's validation_split."""
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"validation_split must be between 0 and 1, got {fraction!r}.")
        cut = int(math.floor(self.count * (1.0 - fraction)))
        if cut == 0 or cut == self.count:
            raise ValueError(f"validation_split={fraction} leaves no samples for training or for validation "
                             f"out of {self.count}.")
        take = lambda s, sl: tree.map_structure(lambda a: None if a is None else a[sl], s)  # noqa: E731
        first, second = slice(0, cut), slice(cut, None)
        return (ArrayData(take(self.x, first), take(self.y, first), take(self.sample_weight, first), cut),
                ArrayData(take(self.x, second), take(self.y, second), take(self.sample_weight, second),
                          self.count - cut))

    def to_device(self) -> tuple[Any, Any, Any]:
        """x, y and weights as backend tensors, copied once (validation data is reused every epoch)."""
        if self._on_device is None:
            convert = lambda s: tree.map_structure(  # noqa: E731
                lambda a: None if a is None else backend.impl.convert_to_tensor(a), s)
            self._on_device = (convert(self.x), convert(self.y), convert(self.sample_weight))
        return self._on_device


def array_data(x: Any, y: Any = None, sample_weight: Any = None) -> ArrayData:
    """Check in-memory inputs: numbers only, and the same sample count in x, y and sample_weight."""
    if x is None:
        raise ValueError("x is required, got None.")
    x = _leaves_named(x, "x")
    y = _leaves_named(y, "y") if y is not None else None
    sample_weight = _leaves_named(sample_weight, "sample_weight") if sample_weight is not None else None
    count = _sample_count(x, "x")
    check_not_empty(x, count)
    for other, name in ((y, "y"), (sample_weight, "sample_weight")):
        other_count = _sample_count(other, name) if other is not None else None
        if other_count is not None and other_count != count:
            raise ValueError(f"x has {count} samples but {name} has {other_count}.")
    return ArrayData(x, y, sample_weight, count)


def is_generator_like(x: Any) -> bool:
    """A Python generator, an iterator, or a Keras-style Sequence/PyDataset (indexable batches with a length)."""
    if inspect.isgenerator(x) or isinstance(x, collections.abc.Iterator):
        return True
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not isinstance(
        x, (np.ndarray, list, tuple, dict, str)) and not backend.impl.is_tensor(x) and not hasattr(x, "to_numpy")


def unpack_batch(batch: Any) -> tuple[Any, Any, Any]:
    """(x,), (x, y) or (x, y, sample_weight) from one generator item."""
    if isinstance(batch, tuple):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        raise ValueError(f"A generator must yield (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(batch)}.")
    return batch, None, None


class GeneratorData:
    """Batches drawn from a generator or Sequence; each epoch takes `steps` of them (or all, if it ends).

    An iterator that ends is not restarted: `ran_short` says that the last epoch got fewer than `steps`
    batches, `has_more` whether another epoch would get any.
    """

    def __init__(self, source: Any, steps: int | None, name: str = "x") -> None:
        self.source = source
        self.indexable = not (inspect.isgenerator(source) or isinstance(source, collections.abc.Iterator))
        if steps is None and self.indexable:
            steps = len(source)
        self.steps = steps
        self.ran_short = False
        self._iterator: Iterator[Any] | None = None
        self._waiting: list[Any] = []  # a batch drawn ahead by has_more
        if not self.has_more() or steps == 0:
            raise ValueError(f"{name} is a generator that yields no batches: it needs at least one.")

    def has_more(self) -> bool:
        """Whether the next epoch gets at least one batch (an iterator is asked for one ahead)."""
        if self.indexable:
            return self.steps > 0
        if not self._waiting:
            if self._iterator is None:
                self._iterator = iter(self.source)
            try:
                self._waiting.append(next(self._iterator))
            except StopIteration:
                return False
        return True

    def epoch(self) -> Iterator[ArrayData]:
        if self.indexable:
            for index in range(self.steps):
                yield array_data(*unpack_batch(self.source[index]))
            if hasattr(self.source, "on_epoch_end"):
                self.source.on_epoch_end()
            return
        taken = 0
        while self.steps is None or taken < self.steps:
            if not self.has_more():
                self.ran_short = self.steps is not None
                return
            taken += 1
            yield array_data(*unpack_batch(self._waiting.pop()))
