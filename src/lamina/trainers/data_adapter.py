"""Turns what users pass to fit/evaluate/predict into device arrays or a stream of batches, checked first."""

from __future__ import annotations

import collections.abc
import inspect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from lamina import backend, distribution
from lamina.utils import tree
from lamina.utils.py_dataset import PyDataset, fetch_batches


def _is_torch(value: Any, names: tuple[str, ...], module: str) -> bool:
    """Whether value is an instance of a torch class, told by its classes' names (torch is never imported here)."""
    return any(cls.__name__ in names and cls.__module__.startswith(module) for cls in type(value).__mro__)


def is_torch_tensor(value: Any) -> bool:
    return _is_torch(value, ("Tensor",), "torch")


def is_torch_data_loader(value: Any) -> bool:
    return _is_torch(value, ("DataLoader",), "torch.utils.data")


def is_torch_dataset(value: Any) -> bool:
    """A torch Dataset or IterableDataset of samples (not a DataLoader of batches)."""
    return _is_torch(value, ("Dataset", "IterableDataset"), "torch.utils.data")


def _as_array(value: Any, name: str) -> Any:
    """A NumPy array (or a backend tensor left as it is), after checking that it holds numbers."""
    if backend.impl.is_tensor(value) and not isinstance(value, np.ndarray):
        return value
    if is_torch_tensor(value):  # a torch tensor under another backend (on any device)
        value = value.detach().cpu().numpy()
    elif hasattr(value, "to_numpy"):  # pandas
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
    elif not array.flags.writeable:  # a read-only view (of a jax array): torch refuses to share it
        array = array.copy()
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
        return self._rows(slice(0, cut), cut), self._rows(slice(cut, None), self.count - cut)

    def head(self, count: int) -> "ArrayData":
        """The first `count` samples (all of them when there are fewer)."""
        return self if count >= self.count else self._rows(slice(0, count), count)

    def _rows(self, rows: slice, count: int) -> "ArrayData":
        take = lambda s: tree.map_structure(lambda a: None if a is None else a[rows], s)  # noqa: E731
        return ArrayData(take(self.x), take(self.y), take(self.sample_weight), count)

    def to_device(self) -> tuple[Any, Any, Any]:
        """x, y and weights as backend tensors, copied once (validation data is reused every epoch)."""
        if self._on_device is None:
            convert = lambda s: tree.map_structure(  # noqa: E731
                lambda a: None if a is None else backend.impl.convert_to_tensor(a), s)
            arrays = (convert(self.x), convert(self.y), convert(self.sample_weight))
            self._on_device = distribution.current().place_data(arrays)
        return self._on_device


def array_data(x: Any, y: Any = None, sample_weight: Any = None) -> ArrayData:
    """Check in-memory inputs: numbers only, and the same sample count in x, y and sample_weight."""
    if x is None:
        raise ValueError("x is required, got None.")
    if is_torch_dataset(x):
        x, y, sample_weight = _dataset_arrays(x, y, sample_weight)
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


def _dataset_arrays(dataset: Any, y: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
    """A torch Dataset of samples read into arrays once: then it batches, shuffles and splits as arrays do."""
    for given, name in ((y, "y"), (sample_weight, "sample_weight")):
        if given is not None:
            raise ValueError(f"When x is a torch Dataset, {name} must not be passed: the dataset's samples hold it.")
    tensors = getattr(dataset, "tensors", None)  # a TensorDataset holds its columns whole
    if isinstance(tensors, tuple):
        columns: Any = tuple(tensors)
    else:
        samples = [dataset[i] for i in range(len(dataset))] if hasattr(dataset, "__len__") else list(dataset)
        if not samples:
            raise ValueError("x is a torch Dataset with no samples: it needs at least one.")
        samples = [tuple(s) if isinstance(s, list) else s for s in samples]
        flat = [tree.flatten(sample) for sample in samples]
        columns = tree.unflatten_as(samples[0], [np.stack([_host_array(leaves[i]) for leaves in flat])
                                                 for i in range(len(flat[0]))])
    columns = tuple(columns) if isinstance(columns, (tuple, list)) else (columns,)
    return unpack_batch(columns)


def _host_array(value: Any) -> np.ndarray:
    return value.detach().cpu().numpy() if is_torch_tensor(value) else np.asarray(value)


def is_generator_like(x: Any) -> bool:
    """Batches made by the source: a generator or iterator, a PyDataset (or Keras-style Sequence), a DataLoader."""
    if isinstance(x, PyDataset) or is_torch_data_loader(x):
        return True
    if inspect.isgenerator(x) or isinstance(x, collections.abc.Iterator):
        return True
    if is_torch_dataset(x):  # samples, read into arrays
        return False
    array_like = hasattr(x, "__array__") or hasattr(x, "to_numpy") or backend.impl.is_tensor(x)
    return hasattr(x, "__getitem__") and hasattr(x, "__len__") and not array_like and not isinstance(
        x, (np.ndarray, list, tuple, dict, str))


def unpack_batch(batch: Any) -> tuple[Any, Any, Any]:
    """(x,), (x, y) or (x, y, sample_weight) from one generator item (a list counts as a tuple, as a
    DataLoader collates); anything else is x alone."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if isinstance(batch, tuple):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch
        raise ValueError(f"A generator must yield (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(batch)}.")
    return batch, None, None


def class_weight_to_sample_weights(y: Any, class_weight: dict) -> np.ndarray:
    """Each sample's weight from its class (the argmax of one-hot or probability targets, else the rounded
    label); classes missing from class_weight weigh 1, as in Keras."""
    labels = backend.impl.convert_to_numpy(y) if backend.impl.is_tensor(y) else _host_array(y)
    if labels.ndim > 1:
        labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[..., 0]
    labels = np.round(labels).astype(np.int64).reshape(len(labels), -1)[:, 0]
    classes, positions = np.unique(labels, return_inverse=True)
    table = np.array([class_weight.get(int(label), 1.0) for label in classes], dtype=np.float32)
    return table[positions.reshape(-1)]


def _source_kind(source: Any) -> str:
    """'indexed' (batches by index), 'iterable' (a new pass per iter(), as a DataLoader) or 'iterator'."""
    if isinstance(source, PyDataset):  # indexed even when it is also an iterator (ImageDataGenerator's flows)
        return "indexed"
    if inspect.isgenerator(source) or isinstance(source, collections.abc.Iterator):
        return "iterator"
    if is_torch_data_loader(source):
        return "iterable"
    return "indexed"


def _length(source: Any) -> int | None:
    """How many batches one pass has, or None when the source cannot tell."""
    if isinstance(source, PyDataset):
        return source.num_batches
    try:
        return len(source)
    except TypeError:  # a DataLoader over an IterableDataset
        return None


class GeneratorData:
    """Batches drawn from a generator, iterator, PyDataset/Sequence or DataLoader.

    Each epoch takes `steps` batches (default: one pass over a source that knows its length, else until it
    ends). A PyDataset or DataLoader starts a new pass when one ends; an iterator that ends is not restarted:
    `ran_short` says that the last epoch got fewer than `steps` batches, `has_more` whether another would get
    any. With `shuffle`, a PyDataset's batches come in a new order every pass; `class_weight` weighs each
    batch's samples by their class (PyDataset only, as Keras).
    """

    def __init__(self, source: Any, steps: int | None, name: str = "x", *, y: Any = None, sample_weight: Any = None,
                 class_weight: dict | None = None, shuffle: bool = False) -> None:
        kind_name = _kind_name(source)
        for given, arg, what in ((y, "y", "the targets"), (sample_weight, "sample_weight", "the sample weights")):
            if given is not None:
                raise ValueError(f"When {name} is a {kind_name}, {arg} must not be passed: {what} come from the "
                                 f"{kind_name} itself, as part of each batch.")
        self.kind = _source_kind(source)
        if class_weight is not None and self.kind != "indexed":
            raise ValueError(f"class_weight is not supported when {name} is a {kind_name}: yield (x, y, "
                             f"sample_weight) batches with the weights instead. Got class_weight={class_weight!r}.")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0):
            raise ValueError(f"The number of steps for {name} must be a positive integer or None, got {steps!r}.")
        self.source, self.name = source, name
        self.class_weight, self.shuffle = class_weight, bool(shuffle)
        self.length = _length(source) if self.kind != "iterator" else None
        if steps is None and self.kind == "iterable":
            steps = self.length  # None (an IterableDataset's loader): each epoch is one whole pass
        if steps is None and self.kind == "indexed":
            if self.length is None:
                raise ValueError(f"{name} is an endless {kind_name} (num_batches is None): pass steps_per_epoch "
                                 "(steps in evaluate and predict) to say how many batches make an epoch.")
            steps = self.length
        self.steps = None if steps is None else int(steps)
        self.ran_short = False
        self._pass: Iterator[Any] | None = None  # the current pass over the source
        self._position = 0  # batches taken from the current pass
        self._pass_ended = False  # the last pass ended and no new one started yet
        self._waiting: list[Any] = []  # a batch drawn ahead by has_more
        if not self.has_more() or self.steps == 0:
            raise ValueError(f"{name} is a {kind_name} that yields no batches: it needs at least one.")

    @property
    def indexable(self) -> bool:
        return self.kind == "indexed"

    def has_more(self) -> bool:
        """Whether the next epoch gets at least one batch (an iterator is asked for one ahead)."""
        if self.kind != "iterator":
            return self.length != 0
        if not self._waiting:
            if self._pass is None:
                self._pass = iter(self.source)
            try:
                self._waiting.append(next(self._pass))
            except StopIteration:
                return False
        return True

    def epoch(self) -> Iterator[ArrayData]:
        """This epoch's batches, checked; a PyDataset hears on_epoch_begin before and on_epoch_end after."""
        hook = getattr(self.source, "on_epoch_begin", None)
        if callable(hook) and self.kind == "indexed":
            hook()
        self.ran_short = False
        taken = 0
        while self.steps is None or taken < self.steps:
            batch = self._next_batch(restart=taken == 0)
            if batch is _END:
                self.ran_short = self.steps is not None
                break
            taken += 1
            yield self._checked(batch)
        hook = getattr(self.source, "on_epoch_end", None)
        if callable(hook) and self.kind == "indexed":
            hook()

    def _next_batch(self, restart: bool) -> Any:
        if self.kind == "iterator":
            return self._waiting.pop() if self.has_more() else _END
        fresh = self._pass is None
        if fresh:
            if self._pass_ended and not restart:  # the pass ended within this epoch: it ran short
                return _END
            self._pass, self._position, self._pass_ended = self._new_pass(), 0, False
        try:
            batch = next(self._pass)
        except StopIteration:
            self._pass, self._pass_ended = None, True
            if restart and not fresh:  # a pass of unknown length ended right at the last epoch's end
                self._pass_ended = False
                return self._next_batch(restart=False)
            return _END
        self._position += 1
        if self.length is not None and self._position >= self.length:
            self._close_pass()  # stops the pass's workers now rather than at the next epoch
            self._pass_ended = True
        return batch

    def _new_pass(self) -> Iterator[Any]:
        if self.kind == "iterable":
            return iter(self.source)
        if self.length is None:
            return fetch_batches(self.source, itertools.count())
        order = np.random.permutation(self.length).tolist() if self.shuffle else range(self.length)
        return fetch_batches(self.source, order)

    def _close_pass(self) -> None:
        if self._pass is not None and hasattr(self._pass, "close"):
            self._pass.close()
        self._pass = None

    def _checked(self, batch: Any) -> ArrayData:
        x, y, sample_weight = unpack_batch(batch)
        if self.class_weight is not None and y is not None:
            if sample_weight is not None:
                raise ValueError(f"{self.name} yielded sample weights and class_weight was given too: use one.")
            sample_weight = class_weight_to_sample_weights(y, self.class_weight)
        return array_data(x, y, sample_weight)

    def __del__(self) -> None:
        try:
            self._close_pass()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


_END = object()


def _kind_name(source: Any) -> str:
    if isinstance(source, PyDataset):
        return "PyDataset"
    if is_torch_data_loader(source):
        return "torch DataLoader"
    if inspect.isgenerator(source):
        return "generator"
    if isinstance(source, collections.abc.Iterator):
        return "iterator"
    return "Sequence"
