"""image_, text_ and audio_dataset_from_directory: class folders read as batches fit accepts.

Files are indexed, shuffled and split as Keras does (the same seed gives the same files in each subset);
the batches are a PyDataset that reads and decodes its files only when a batch is asked for.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Sequence

import numpy as np

from lamina.config import standardize_data_format
from lamina.utils.image_utils import require_pillow
from lamina.utils.py_dataset import PyDataset

__all__ = ["DatasetMethods", "DirectoryDataset", "MappedDataset", "audio_dataset_from_directory",
           "image_dataset_from_directory", "index_directory", "text_dataset_from_directory"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
TEXT_FORMATS = (".txt",)
AUDIO_FORMATS = (".wav",)
LABEL_MODES = ("int", "categorical", "binary", None)
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")
CHANNELS = {"grayscale": 1, "rgb": 3, "rgba": 4}


# --- indexing -------------------------------------------------------------------------------------------


def _class_folders(directory: str, class_names: Sequence[str] | None) -> list[str]:
    folders = [name for name in sorted(os.listdir(directory))
               if os.path.isdir(os.path.join(directory, name)) and not name.startswith(".")]
    if class_names is None:
        return folders
    if not set(class_names) <= set(folders):
        raise ValueError(f"class_names must name subfolders of {directory!r}: expected some of {folders}, "
                         f"got {list(class_names)}.")
    return list(class_names)  # the order given


def _files_under(root: str, folder: str, formats: tuple[str, ...], follow_links: bool) -> list[str]:
    """Paths relative to `root`, beginning with `folder`, in sorted walk order."""
    top = os.path.join(root, folder)
    found = []
    for dirpath, _, files in sorted(os.walk(top, followlinks=follow_links), key=lambda entry: entry[0]):
        for name in sorted(files):
            if name.lower().endswith(formats):
                found.append(os.path.join(folder, os.path.relpath(os.path.join(dirpath, name), top)))
    return found


def index_directory(directory: str, labels: Any, formats: tuple[str, ...], class_names: Sequence[str] | None = None,
                    shuffle: bool = True, seed: int | None = None, follow_links: bool = False,
                    verbose: bool = True) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """(file paths, integer labels, class names), shuffled with NumPy's RandomState(seed) as Keras shuffles."""
    if not os.path.isdir(directory):
        raise ValueError(f"directory must be an existing folder, got {directory!r}.")
    if labels == "inferred":
        folders = _class_folders(directory, class_names)
    else:
        if class_names is not None:
            raise ValueError("class_names can only be given with labels='inferred' "
                             f"(got labels={'None' if labels is None else 'a list'}).")
        folders = [""]
    names, label_list = [], []
    for index, folder in enumerate(folders):
        found = _files_under(directory, folder, formats, follow_links)
        names += found
        label_list += [index] * len(found)
    if labels == "inferred":
        labels, class_names = np.asarray(label_list, dtype="int32"), folders
    elif labels is not None:
        if len(labels) != len(names):
            raise ValueError(f"labels must have one label per file: {len(labels)} labels for {len(names)} files "
                             f"found in {directory!r}.")
        class_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        if labels is None:
            print(f"Found {len(names)} files.")
        else:
            print(f"Found {len(names)} files belonging to {len(class_names)} classes.")
    paths = [os.path.join(directory, name) for name in names]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(paths)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return paths, labels, (class_names if labels is not None else None)


def _check_split(validation_split: float | None, subset: str | None, shuffle: bool, seed: int | None) -> None:
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be between 0 and 1, got {validation_split}.")
    if bool(validation_split) != bool(subset):
        raise ValueError("subset and validation_split go together: give both or neither "
                         f"(got validation_split={validation_split!r}, subset={subset!r}).")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f"subset must be 'training', 'validation' or 'both', got {subset!r}.")
    if validation_split and shuffle and seed is None:
        raise ValueError("With validation_split and shuffle=True, give a seed, so that the training and "
                         "validation subsets do not overlap.")


def _split(paths: list[str], labels: np.ndarray | None, validation_split: float | None,
           subset: str) -> tuple[list[str], np.ndarray | None]:
    if not validation_split:
        return paths, labels
    count = int(validation_split * len(paths))
    if subset == "training":
        print(f"Using {len(paths) - count} files for training.")
        part = slice(None, -count)
    else:
        print(f"Using {count} files for validation.")
        part = slice(-count, None)
    return paths[part], (None if labels is None else labels[part])


def _check_labels(labels: Any, label_mode: str | None, class_names: Any) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError("labels must be 'inferred', None, or a list/tuple of integer labels, one per file "
                             f"in sorted order; got {type(labels).__name__}.")
        if class_names:
            raise ValueError("class_names can only be given with labels='inferred'.")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of 'int', 'categorical', 'binary' or None, got {label_mode!r}.")


# --- the dataset ----------------------------------------------------------------------------------------


def encode_labels(labels: np.ndarray, label_mode: str, num_classes: int) -> np.ndarray:
    """int: int32 (n,); binary: float32 (n, 1); categorical: float32 one-hot (n, num_classes)."""
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    return np.eye(num_classes, dtype="float32")[labels]


class DatasetMethods:
    """A few of tf.data.Dataset's methods, for the programs written against the dataset Keras returns."""

    def take(self, count: int) -> list[Any]:
        """The first `count` batches (all of them when count is -1)."""
        count = len(self) if count == -1 else min(int(count), len(self))
        return [self[i] for i in range(count)]

    def map(self, function: Callable[..., Any], num_parallel_calls: Any = None,
            deterministic: bool | None = None, name: str | None = None) -> MappedDataset:
        """The batches passed through `function`, called as function(x, y) (function(x) without labels).
        The other arguments are tf.data's: batches are mapped as fit reads them, by its `workers`, in order."""
        if not callable(function):
            raise TypeError(f"map takes a function of a batch, got {function!r}.")
        return MappedDataset(self, function)

    def prefetch(self, buffer_size: Any = None) -> Any:
        """This dataset: batches are read ahead by `workers` when fit runs."""
        return self

    def cache(self, filename: str = "") -> Any:
        """This dataset (files are read again for every batch)."""
        return self


class DirectoryDataset(DatasetMethods, PyDataset):
    """Batches of (inputs, labels) read from files with `load(path)`; reshuffled after each epoch if shuffled.

    `class_names` and `file_paths` are attributes, as on Keras's dataset. The first epoch reads the files in
    the order of `file_paths`.
    """

    def __init__(self, file_paths: list[str], labels: np.ndarray | None, label_mode: str | None,
                 class_names: list[str] | None, load: Callable[[str], Any], batch_size: int | None,
                 shuffle: bool, seed: int | None, collate: Callable[[list[Any]], Any] | None = None) -> None:
        super().__init__()
        self.file_paths, self.class_names = list(file_paths), class_names
        self._collate = collate
        self._labels, self._label_mode, self._load = labels, label_mode, load
        self.batch_size, self.shuffle = batch_size, shuffle
        self._order = np.arange(len(self.file_paths))
        self._rng = np.random.RandomState(seed)

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def _stack(self, items: list[Any]) -> Any:
        if self._collate is not None:
            return self._collate(items)
        if isinstance(items[0], str):
            return np.asarray(items, dtype=object)
        return np.stack(items)

    def __getitem__(self, index: int) -> Any:
        if not -len(self) <= index < len(self):
            raise IndexError(f"This dataset has {len(self)} batches, got index {index}.")
        index %= len(self)
        if self.batch_size is None:
            chosen = self._order[index:index + 1]
        else:
            chosen = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self._stack([self._load(self.file_paths[i]) for i in chosen])
        if self._labels is not None:
            y = encode_labels(self._labels[chosen], self._label_mode, len(self.class_names))
            batch = (x, y)
            return batch if self.batch_size is not None else (x[0], y[0])
        return x if self.batch_size is not None else x[0]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self._order)


class MappedDataset(DatasetMethods, PyDataset):
    """A dataset's batches passed through a function; `class_names` and `file_paths` are the source's."""

    def __init__(self, source: Any, function: Callable[..., Any]) -> None:
        super().__init__()
        self.source, self.function = source, function
        self.class_names = getattr(source, "class_names", None)
        self.file_paths = getattr(source, "file_paths", None)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Any:
        batch = self.source[index]
        return self.function(*batch) if isinstance(batch, tuple) else self.function(batch)

    def on_epoch_end(self) -> None:
        self.source.on_epoch_end()


def _build(paths: list[str], labels: np.ndarray | None, label_mode: str | None, class_names: list[str] | None,
           validation_split: float | None, subset: str | None, load: Callable[[str], Any],
           batch_size: int | None, shuffle: bool, seed: int | None, directory: str,
           formats: tuple[str, ...], collate: Callable[[list[Any]], Any] | None = None,
           ) -> DirectoryDataset | list[DirectoryDataset]:
    def make(part: str | None, shuffled: bool) -> DirectoryDataset:
        part_paths, part_labels = _split(paths, labels, validation_split, part) if part else (paths, labels)
        if not part_paths:
            kind = f"{part} " if part else ""
            raise ValueError(f"No {kind}files found in directory {directory!r}. Allowed formats: {formats}.")
        return DirectoryDataset(part_paths, part_labels, label_mode, class_names, load, batch_size, shuffled, seed,
                                collate)

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)


# --- images ---------------------------------------------------------------------------------------------


def _linear_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source rows below/above each output row and the weight of the upper one (half-pixel centres)."""
    coords = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5
    coords = np.clip(coords, 0, size_in - 1)
    low = np.floor(coords).astype(int)
    return low, np.minimum(low + 1, size_in - 1), (coords - low).astype("float32")


def resize_image(img: np.ndarray, size: tuple[int, int], interpolation: str) -> np.ndarray:
    """Resize a (height, width, channels) float array: bilinear and nearest in NumPy, others with Pillow."""
    height, width = size
    if img.shape[:2] == (height, width):
        return img
    if interpolation == "bilinear":
        top, bottom, wy = _linear_taps(img.shape[0], height)
        left, right, wx = _linear_taps(img.shape[1], width)
        rows = img[top] * (1 - wy)[:, None, None] + img[bottom] * wy[:, None, None]
        return rows[:, left] * (1 - wx)[None, :, None] + rows[:, right] * wx[None, :, None]
    if interpolation == "nearest":
        ys = np.minimum(np.floor((np.arange(height) + 0.5) * img.shape[0] / height).astype(int), img.shape[0] - 1)
        xs = np.minimum(np.floor((np.arange(width) + 0.5) * img.shape[1] / width).astype(int), img.shape[1] - 1)
        return img[ys][:, xs]
    image = require_pillow("image_dataset_from_directory")
    filters = image.Resampling
    method = {"bicubic": filters.BICUBIC, "area": filters.BOX, "lanczos3": filters.LANCZOS,
              "lanczos5": filters.LANCZOS, "gaussian": filters.BICUBIC, "mitchellcubic": filters.BICUBIC}[interpolation]
    channels = [np.asarray(image.fromarray(img[:, :, c], "F").resize((width, height), method))
                for c in range(img.shape[2])]
    return np.stack(channels, axis=-1)


def fit_aspect_ratio(img: np.ndarray, size: tuple[int, int], crop: bool) -> np.ndarray:
    """The largest centred crop (crop=True) or the smallest centred zero padding with the target's aspect ratio."""
    height, width = img.shape[:2]
    target_height, target_width = size
    if crop:
        new_height = max(min(height, int(width * target_height / target_width)), 1)
        new_width = max(min(width, int(height * target_width / target_height)), 1)
        top, left = int((height - new_height) / 2), int((width - new_width) / 2)
        return img[top:top + new_height, left:left + new_width]
    new_height = max(height, int(width * target_height / target_width))
    new_width = max(width, int(height * target_width / target_height))
    top, left = int((new_height - height) / 2), int((new_width - width) / 2)
    padded = np.zeros((new_height, new_width, img.shape[2]), img.dtype)
    padded[top:top + height, left:left + width] = img
    return padded


def _decode(path: str, channels: int) -> np.ndarray:
    image = require_pillow("image_dataset_from_directory")
    with image.open(path) as img:
        mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]
        img = img if img.mode == mode else img.convert(mode)
        array = np.asarray(img, dtype="float32")
    return array[:, :, None] if array.ndim == 2 else array


class ImageLoader:
    """Reads one image file into a float32 array of the dataset's size, channels and data format."""

    def __init__(self, image_size: tuple[int, int], channels: int, interpolation: str, crop: bool, pad: bool,
                 data_format: str) -> None:
        self.image_size, self.channels, self.interpolation = image_size, channels, interpolation
        self.crop, self.pad, self.data_format = crop, pad, data_format

    def __call__(self, path: str) -> np.ndarray:
        img = _decode(path, self.channels)
        if self.crop or self.pad:
            img = fit_aspect_ratio(img, self.image_size, crop=self.crop)
        img = resize_image(img, self.image_size, self.interpolation).astype("float32")
        return img.transpose(2, 0, 1) if self.data_format == "channels_first" else img


def _image_size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, int):
        return image_size, image_size
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"image_size must be (height, width), two integers, got {image_size!r}.")
    return int(image_size[0]), int(image_size[1])


def image_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: str | None = "int",
                                 class_names: Sequence[str] | None = None, color_mode: str = "rgb",
                                 batch_size: int | None = 32, image_size: Any = (256, 256), shuffle: bool = True,
                                 seed: int | None = None, validation_split: float | None = None,
                                 subset: str | None = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False, data_format: str | None = None,
                                 format: str = "tf", verbose: bool = True) -> Any:
    """Images in class subfolders of `directory` as a PyDataset of (images, labels) batches.

    Images are float32 in [0, 255], shaped (batch, height, width, channels) (channels first with
    data_format="channels_first"); labels follow `label_mode`. subset="both" returns [training, validation].
    """
    _check_labels(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in CHANNELS:
        raise ValueError(f"color_mode must be one of {tuple(CHANNELS)}, got {color_mode!r}.")
    size = _image_size(image_size)
    interpolation = str(interpolation).lower()
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {interpolation!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True.")
    if format not in ("tf", "grain"):
        raise ValueError(f"format must be 'tf' or 'grain', got {format!r}.")
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(directory, labels, IMAGE_FORMATS, class_names, shuffle, seed,
                                                 follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, got class_names={class_names}.")
    load = ImageLoader(size, CHANNELS[color_mode], interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                       standardize_data_format(data_format))
    return _build(paths, labels, label_mode, class_names, validation_split, subset, load, batch_size, shuffle,
                  seed, directory, IMAGE_FORMATS)


# --- text -----------------------------------------------------------------------------------------------


class TextLoader:
    """Reads one text file as a string, cut to its first `max_length` bytes if given."""

    def __init__(self, max_length: int | None) -> None:
        self.max_length = max_length

    def __call__(self, path: str) -> str:
        with open(path, "rb") as file:
            data = file.read()
        if self.max_length is not None:
            data = data[:self.max_length]
        return data.decode("utf-8", errors="ignore")


def text_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: str | None = "int",
                                class_names: Sequence[str] | None = None, batch_size: int | None = 32,
                                max_length: int | None = None, shuffle: bool = True, seed: int | None = None,
                                validation_split: float | None = None, subset: str | None = None,
                                follow_links: bool = False, format: str = "tf", verbose: bool = True) -> Any:
    """`.txt` files in class subfolders of `directory` as a PyDataset of (texts, labels) batches.

    Texts are a NumPy object array of str; subset="both" returns [training, validation].
    """
    _check_labels(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)
                                   or max_length < 1):
        raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}.")
    if format not in ("tf", "grain"):
        raise ValueError(f"format must be 'tf' or 'grain', got {format!r}.")
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(directory, labels, TEXT_FORMATS, class_names, shuffle, seed,
                                                 follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, got class_names={class_names}.")
    return _build(paths, labels, label_mode, class_names, validation_split, subset, TextLoader(max_length),
                  batch_size, shuffle, seed, directory, TEXT_FORMATS)


# --- audio ----------------------------------------------------------------------------------------------


def decode_wav(path: str, desired_samples: int | None = None) -> tuple[np.ndarray, int]:
    """A PCM WAV file as float32 (samples, channels) in [-1, 1) and its sampling rate; cut or zero-padded."""
    import wave

    with wave.open(path, "rb") as file:
        width, channels, rate = file.getsampwidth(), file.getnchannels(), file.getframerate()
        data = file.readframes(file.getnframes())
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(data, "uint8").astype("float32") - 128) / 128
    elif width == 3:
        raw = np.frombuffer(data, "uint8").reshape(-1, 3).astype("int32")
        values = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        samples = (np.where(values >= 1 << 23, values - (1 << 24), values) / float(1 << 23)).astype("float32")
    elif width in (2, 4):
        samples = np.frombuffer(data, f"<i{width}").astype("float32") / float(1 << (8 * width - 1))
    else:
        raise ValueError(f"{path}: {8 * width}-bit WAV samples are not supported (8, 16, 24 or 32-bit PCM are).")
    audio = samples.reshape(-1, channels)
    if desired_samples is not None:
        audio = audio[:desired_samples]
        if len(audio) < desired_samples:
            audio = np.concatenate([audio, np.zeros((desired_samples - len(audio), channels), "float32")])
    return audio, rate


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linear-interpolation resampling of (samples, channels) audio from rate_in to rate_out."""
    if rate_in == rate_out or len(audio) == 0:
        return audio
    count = max(int(round(len(audio) * rate_out / rate_in)), 1)
    times = np.arange(count) * (rate_in / rate_out)
    source = np.arange(len(audio))
    return np.stack([np.interp(times, source, audio[:, c]) for c in range(audio.shape[1])], -1).astype("float32")


class AudioLoader:
    """Reads one WAV file as float32 (samples, channels), resampled to `sampling_rate` if given."""

    def __init__(self, sampling_rate: int | None, output_sequence_length: int | None) -> None:
        self.sampling_rate, self.output_sequence_length = sampling_rate, output_sequence_length

    def __call__(self, path: str) -> np.ndarray:
        audio, rate = decode_wav(path, self.output_sequence_length)
        return audio if self.sampling_rate is None else resample(audio, rate, self.sampling_rate)


def pad_clips(clips: list[np.ndarray]) -> np.ndarray:
    """Clips stacked into (batch, longest, channels), the shorter ones zero-padded at the end."""
    longest = max(len(clip) for clip in clips)
    out = np.zeros((len(clips), longest, clips[0].shape[1]), "float32")
    for i, clip in enumerate(clips):
        out[i, :len(clip)] = clip
    return out


def audio_dataset_from_directory(directory: str, labels: Any = "inferred", label_mode: str | None = "int",
                                 class_names: Sequence[str] | None = None, batch_size: int | None = 32,
                                 sampling_rate: int | None = None, output_sequence_length: int | None = None,
                                 ragged: bool = False, shuffle: bool = True, seed: int | None = None,
                                 validation_split: float | None = None, subset: str | None = None,
                                 follow_links: bool = False, verbose: bool = True) -> Any:
    """`.wav` files in class subfolders of `directory` as a PyDataset of (audio, labels) batches.

    Audio is float32 (batch, samples, channels), each batch zero-padded to its longest clip (or cut/padded to
    `output_sequence_length`); with `ragged`, a batch's audio is a list of (samples, channels) arrays.
    `sampling_rate` resamples each clip by linear interpolation. subset="both" returns [training, validation].
    """
    _check_labels(labels, label_mode, class_names)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if ragged and output_sequence_length is not None:
        raise ValueError("ragged and output_sequence_length cannot both be set: ragged keeps each clip's length.")
    for value, name in ((sampling_rate, "sampling_rate"), (output_sequence_length, "output_sequence_length")):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise ValueError(f"{name} must be a positive integer or None, got {value!r}.")
    _check_split(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, labels, class_names = index_directory(directory, labels, AUDIO_FORMATS, class_names, shuffle, seed,
                                                 follow_links, verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes, got class_names={class_names}.")
    return _build(paths, labels, label_mode, class_names, validation_split, subset,
                  AudioLoader(sampling_rate, output_sequence_length), batch_size, shuffle, seed, directory,
                  AUDIO_FORMATS, collate=list if ragged else pad_clips)
