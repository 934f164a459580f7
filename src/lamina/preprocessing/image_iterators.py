"""The iterators of Keras 2's ImageDataGenerator: batches of augmented images from arrays, folders or a DataFrame.

They are PyDatasets: fit, fit_generator, evaluate and predict take them, one pass per epoch;
`iterator.next()` cycles over the data endlessly as Keras 2's `next(iterator)` did.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.config import standardize_data_format
from lamina.utils.image_utils import array_to_img, img_to_array, load_img
from lamina.utils.py_dataset import PyDataset

__all__ = ["BatchFromFilesMixin", "DataFrameIterator", "DirectoryIterator", "Iterator", "NumpyArrayIterator"]

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


class Iterator(PyDataset):
    """Batches of `batch_size` samples out of `n`, reshuffled after each epoch when `shuffle`.

    With a seed, batch k of the iterator's life draws its shuffle and transforms from RandomState(seed + k).
    """

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: int | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self.n, self.batch_size, self.shuffle, self.seed = int(n), int(batch_size), bool(shuffle), seed
        self.batch_index = 0
        self.total_batches_seen = 0
        self.index_array: np.ndarray | None = None
        self.lock = threading.Lock()
        self._unseeded = np.random.RandomState()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("lock")  # locks do not pickle: a worker process makes its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()

    def _rng(self) -> np.random.RandomState:
        if self.seed is None:
            return self._unseeded
        return np.random.RandomState(self.seed + self.total_batches_seen)

    def _set_index_array(self, rng: np.random.RandomState) -> None:
        self.index_array = rng.permutation(self.n) if self.shuffle else np.arange(self.n)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__} has {len(self)} batches, got index {index}.")
        index %= len(self)
        with self.lock:
            rng = self._rng()
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array(rng)
            chosen = self.index_array[index * self.batch_size:(index + 1) * self.batch_size]
        return self._get_batches_of_transformed_samples(chosen, rng)

    def on_epoch_end(self) -> None:
        self._set_index_array(self._rng())

    def reset(self) -> None:
        self.batch_index = 0

    def next(self) -> Any:
        """The next batch, cycling over the data endlessly (Keras 2's `next(iterator)`)."""
        with self.lock:
            if self.batch_index == 0:
                self._set_index_array(self._rng())
            index = self.batch_index
            self.batch_index = (index + 1) % len(self)
        return self[index]

    __next__ = next  # Python's next(iterator); a for loop still walks one pass, as over any PyDataset

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray, rng: np.random.RandomState) -> Any:
        raise NotImplementedError


def _augment(generator: Any, batch: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    if generator is None:
        return batch
    return generator._transform_and_standardize(batch, rng)


def _save_batch(batch: np.ndarray, index_array: np.ndarray, data_format: str, save_to_dir: str | None,
                prefix: str, save_format: str, rng: np.random.RandomState) -> None:
    if not save_to_dir:
        return
    for image, index in zip(batch, index_array):
        name = f"{prefix}_{index}_{rng.randint(10000)}.{save_format}"
        array_to_img(image, data_format, scale=True).save(os.path.join(save_to_dir, name))


class NumpyArrayIterator(Iterator):
    """Batches of augmented images from an array (and labels, sample weights and extra inputs)."""

    def __init__(self, x: Any, y: Any, image_data_generator: Any, batch_size: int = 32,
                 shuffle: bool = False, sample_weight: Any = None, seed: int | None = None,
                 data_format: str | None = None, save_to_dir: str | None = None, save_prefix: str = "",
                 save_format: str = "png", subset: str | None = None, ignore_class_split: bool = False,
                 dtype: str | None = None) -> None:
        self.dtype = dtype or backend.floatx()
        self.data_format = standardize_data_format(data_format)
        extra: list[np.ndarray] = []
        if isinstance(x, (tuple, list)):
            extra = [np.asarray(part) for part in (x[1] if isinstance(x[1], list) else [x[1]])]
            x = x[0]
            for part in extra:
                if len(part) != len(x):
                    raise ValueError(f"All arrays in x must have the same length: the images have {len(x)}, "
                                     f"another input has {len(part)}.")
        if y is not None and len(x) != len(y):
            raise ValueError(f"x (images) and y (labels) must have the same length, got {len(x)} and {len(y)}.")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError(f"x (images) and sample_weight must have the same length, got {len(x)} and "
                             f"{len(sample_weight)}.")
        if subset is not None:
            x, y, sample_weight, extra = self._subset(x, y, sample_weight, extra, subset, image_data_generator,
                                                      ignore_class_split)
        self.x = np.asarray(x, dtype=self.dtype)
        if self.x.ndim != 4:
            raise ValueError(f"x must be a batch of images of rank 4, got an array of shape {self.x.shape}.")
        channel_axis = 3 if self.data_format == "channels_last" else 1
        if self.x.shape[channel_axis] not in (1, 3, 4):
            warnings.warn(f"x has {self.x.shape[channel_axis]} channels on axis {channel_axis} "
                          f"({self.data_format}); images have 1, 3 or 4. Shape: {self.x.shape}.", UserWarning,
                          stacklevel=3)
        self.x_misc = extra
        self.y = None if y is None else np.asarray(y)
        self.sample_weight = None if sample_weight is None else np.asarray(sample_weight)
        self.image_data_generator = image_data_generator
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    @staticmethod
    def _subset(x: Any, y: Any, sample_weight: Any, extra: list, subset: str, generator: Any,
                ignore_class_split: bool) -> tuple:
        if subset not in ("training", "validation"):
            raise ValueError(f"subset must be 'training' or 'validation', got {subset!r}.")
        split = int(len(x) * getattr(generator, "_validation_split", 0.0))
        if (y is not None and not ignore_class_split
                and not np.array_equal(np.unique(y[:split]), np.unique(y[split:]))):
            raise ValueError("The training and validation subsets hold different classes after the split; if the "
                             "arrays are sorted by label, shuffle them first (or pass ignore_class_split=True).")
        part = slice(None, split) if subset == "validation" else slice(split, None)  # validation comes first
        pick = lambda a: None if a is None else a[part]  # noqa: E731
        return x[part], pick(y), pick(sample_weight), [a[part] for a in extra]

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray, rng: np.random.RandomState) -> Any:
        batch = _augment(self.image_data_generator, self.x[index_array].astype(self.dtype), rng)
        _save_batch(batch, index_array, self.data_format, self.save_to_dir, self.save_prefix, self.save_format,
                    rng)
        inputs = batch if not self.x_misc else [batch] + [part[index_array] for part in self.x_misc]
        if self.y is None:
            return inputs
        if self.sample_weight is None:
            return inputs, self.y[index_array]
        return inputs, self.y[index_array], self.sample_weight[index_array]


class BatchFromFilesMixin:
    """Reads, resizes, augments and labels batches of image files (DirectoryIterator, DataFrameIterator)."""

    def set_processing_attrs(self, image_data_generator: Any, target_size: Sequence[int], color_mode: str,
                             data_format: str, save_to_dir: str | None, save_prefix: str, save_format: str,
                             subset: str | None, interpolation: str, keep_aspect_ratio: bool) -> None:
        if color_mode not in ("rgb", "rgba", "grayscale"):
            raise ValueError(f"color_mode must be 'rgb', 'rgba' or 'grayscale', got {color_mode!r}.")
        self.image_data_generator = image_data_generator
        self.target_size = tuple(int(v) for v in target_size)
        self.color_mode, self.data_format = color_mode, data_format
        self.keep_aspect_ratio, self.interpolation = keep_aspect_ratio, interpolation
        channels = {"rgb": 3, "rgba": 4, "grayscale": 1}[color_mode]
        self.image_shape = (self.target_size + (channels,) if data_format == "channels_last"
                            else (channels,) + self.target_size)
        self.save_to_dir, self.save_prefix, self.save_format = save_to_dir, save_prefix, save_format
        if subset is not None and subset not in ("training", "validation"):
            raise ValueError(f"subset must be 'training' or 'validation', got {subset!r}.")
        fraction = getattr(image_data_generator, "_validation_split", 0.0)
        self.split = None if subset is None else ((0, fraction) if subset == "validation" else (fraction, 1))
        self.subset = subset

    def _load(self, path: str) -> np.ndarray:
        img = load_img(path, color_mode=self.color_mode, target_size=self.target_size,
                       interpolation=self.interpolation, keep_aspect_ratio=self.keep_aspect_ratio)
        x = img_to_array(img, data_format=self.data_format, dtype=self.dtype)
        img.close()
        return x

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray, rng: np.random.RandomState) -> Any:
        paths = self.filepaths
        batch = np.stack([self._load(paths[i]) for i in index_array]) if len(index_array) else \
            np.zeros((0,) + self.image_shape, self.dtype)
        batch = _augment(self.image_data_generator, batch, rng)
        _save_batch(batch, index_array, self.data_format, self.save_to_dir, self.save_prefix, self.save_format,
                    rng)
        mode = self.class_mode
        if mode is None:
            return batch
        if mode == "input":
            labels: Any = batch.copy()
        elif mode in ("binary", "sparse"):
            labels = self.classes[index_array].astype(self.dtype)
        elif mode == "categorical":
            labels = np.eye(len(self.class_indices), dtype=self.dtype)[self.classes[index_array]]
        elif mode == "multi_output":
            labels = [np.asarray(output)[index_array] for output in self.labels]
        else:  # raw
            labels = np.asarray(self.labels)[index_array]
        weights = self.sample_weight
        return (batch, labels) if weights is None else (batch, labels, weights[index_array])


def _valid_files(directory: str, formats: tuple[str, ...], follow_links: bool) -> list[tuple[str, str]]:
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links), key=lambda entry: entry[0]):
        found += [(root, name) for name in sorted(files) if name.lower().endswith(formats)]
    return found


class DirectoryIterator(BatchFromFilesMixin, Iterator):
    """Batches of augmented images read from one subfolder per class."""

    allowed_class_modes = ("categorical", "binary", "sparse", "input", None)

    def __init__(self, directory: str, image_data_generator: Any, target_size: Sequence[int] = (256, 256),
                 color_mode: str = "rgb", classes: Sequence[str] | None = None, class_mode: str | None = "categorical",
                 batch_size: int = 32, shuffle: bool = True, seed: int | None = None, data_format: str | None = None,
                 save_to_dir: str | None = None, save_prefix: str = "", save_format: str = "png",
                 follow_links: bool = False, subset: str | None = None, interpolation: str = "nearest",
                 keep_aspect_ratio: bool = False, dtype: str | None = None) -> None:
        self.dtype = dtype or backend.floatx()
        self.set_processing_attrs(image_data_generator, target_size, color_mode,
                                  standardize_data_format(data_format), save_to_dir, save_prefix, save_format,
                                  subset, interpolation, keep_aspect_ratio)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"class_mode must be one of {self.allowed_class_modes}, got {class_mode!r}.")
        if not os.path.isdir(directory):
            raise ValueError(f"directory must be an existing folder, got {directory!r}.")
        self.directory, self.class_mode = directory, class_mode
        if not classes:
            classes = [name for name in sorted(os.listdir(directory)) if os.path.isdir(os.path.join(directory, name))]
        self.num_classes = len(classes)
        self.class_indices = {name: i for i, name in enumerate(classes)}
        self.filenames: list[str] = []
        labels: list[int] = []
        for name in classes:
            folder = os.path.join(directory, name)
            files = _valid_files(folder, self.white_list_formats, follow_links)
            if self.split:
                files = files[int(self.split[0] * len(files)):int(self.split[1] * len(files))]
            self.filenames += [os.path.join(name, os.path.relpath(os.path.join(root, f), folder)) for root, f in files]
            labels += [self.class_indices[name]] * len(files)
        self.samples = len(self.filenames)
        self.classes = np.asarray(labels, dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(directory, name) for name in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self) -> list[str]:
        return self._filepaths

    @property
    def labels(self) -> np.ndarray:
        return self.classes

    @property
    def sample_weight(self) -> None:
        return None


class DataFrameIterator(BatchFromFilesMixin, Iterator):
    """Batches of augmented images whose paths (and labels) are columns of a pandas DataFrame."""

    allowed_class_modes = ("binary", "categorical", "input", "multi_output", "raw", "sparse", None)

    def __init__(self, dataframe: Any, directory: str | None = None, image_data_generator: Any = None,
                 x_col: str = "filename", y_col: Any = "class", weight_col: str | None = None,
                 target_size: Sequence[int] = (256, 256), color_mode: str = "rgb",
                 classes: Sequence[str] | None = None, class_mode: str | None = "categorical", batch_size: int = 32,
                 shuffle: bool = True, seed: int | None = None, data_format: str | None = "channels_last",
                 save_to_dir: str | None = None, save_prefix: str = "", save_format: str = "png",
                 subset: str | None = None, interpolation: str = "nearest", keep_aspect_ratio: bool = False,
                 dtype: str | None = "float32", validate_filenames: bool = True) -> None:
        self.dtype = dtype or backend.floatx()
        self.set_processing_attrs(image_data_generator, target_size, color_mode,
                                  standardize_data_format(data_format), save_to_dir, save_prefix, save_format,
                                  subset, interpolation, keep_aspect_ratio)
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"class_mode must be one of {self.allowed_class_modes}, got {class_mode!r}.")
        if x_col not in dataframe.columns:
            raise ValueError(f"x_col={x_col!r} is not a column of the dataframe (columns: {list(dataframe.columns)}).")
        df = dataframe.copy()
        self.directory, self.class_mode = directory or "", class_mode
        self.x_col, self.y_col, self.weight_col = x_col, y_col, weight_col
        if class_mode in ("binary", "categorical", "sparse"):
            df[y_col] = df[y_col].map(lambda value: value if isinstance(value, list) else str(value))
            wanted = list(classes) if classes else sorted({v for v in df[y_col] if not isinstance(v, list)})
            df = df[df[y_col].isin(wanted)]
            classes = wanted
        if validate_filenames:
            exists = df[x_col].map(lambda name: os.path.isfile(os.path.join(self.directory, name))
                                   and str(name).lower().endswith(self.white_list_formats))
            df = df[exists]
        if self.split:
            count = len(df)
            df = df.iloc[int(self.split[0] * count):int(self.split[1] * count)]
        self.filenames = list(df[x_col])
        self._filepaths = [os.path.join(self.directory, name) for name in self.filenames]
        self._sample_weight = df[weight_col].to_numpy() if weight_col else None
        if class_mode in ("binary", "categorical", "sparse"):
            self.class_indices = {name: i for i, name in enumerate(classes)}
            self.classes = np.asarray([self.class_indices[v] for v in df[y_col]], dtype="int32")
            self.num_classes = len(classes)
            print(f"Found {len(self.filenames)} validated image filenames belonging to {self.num_classes} classes.")
        else:
            self.class_indices, self.num_classes = {}, 0
            if class_mode == "multi_output":
                self._targets = [df[column].to_numpy() for column in y_col]
            elif class_mode == "raw":
                self._targets = df[y_col].to_numpy()
            print(f"Found {len(self.filenames)} validated image filenames.")
        super().__init__(len(self.filenames), batch_size, shuffle, seed)

    @property
    def filepaths(self) -> list[str]:
        return self._filepaths

    @property
    def labels(self) -> Any:
        if self.class_mode in ("multi_output", "raw"):
            return self._targets
        return self.classes

    @property
    def sample_weight(self) -> np.ndarray | None:
        return self._sample_weight
