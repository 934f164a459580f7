"""Keras 2's `preprocessing.image`: ImageDataGenerator and its iterators, and the image file helpers.

The iterators are PyDatasets: fit, fit_generator, evaluate and predict take them, one pass per epoch;
`iterator.next()` cycles over the data endlessly as Keras 2's `next(iterator)` did.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from lamina import backend
from lamina.config import standardize_data_format
from lamina.preprocessing.image_iterators import (BatchFromFilesMixin, DataFrameIterator, DirectoryIterator, Iterator,
                                                  NumpyArrayIterator)
from lamina.preprocessing.image_transforms import (FILL_MODES, affine_matrix, apply_affine_batch,
                                                   apply_affine_transform, apply_channel_shift, flip_axis,
                                                   random_channel_shift, random_rotation, random_shear, random_shift,
                                                   random_zoom)
from lamina.utils.image_utils import array_to_img, img_to_array, load_img, save_img

__all__ = ["BatchFromFilesMixin", "DataFrameIterator", "DirectoryIterator", "ImageDataGenerator", "Iterator",
           "NumpyArrayIterator", "apply_affine_transform", "apply_brightness_shift", "apply_channel_shift",
           "array_to_img", "flip_axis", "img_to_array", "load_img", "random_brightness", "random_channel_shift",
           "random_rotation", "random_shear", "random_shift", "random_zoom", "save_img", "smart_resize"]

# --- the generator --------------------------------------------------------------------------------------


def _range_pair(value: Any, name: str) -> list[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [1 - value, 1 + value]
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return [float(value[0]), float(value[1])]
    raise ValueError(f"{name} must be a float or a pair of floats, got {value!r}.")


def _shift(value: Any, size: int, rng: np.random.RandomState) -> float:
    """A shift drawn as Keras 2 draws it: from a list or below an int (random sign), or a float fraction."""
    if isinstance(value, float):
        shift = rng.uniform(-value, value)
    else:
        shift = rng.choice(value) * rng.choice([-1, 1])
    if np.max(value) < 1:
        shift *= size
    return shift


class ImageDataGenerator:
    """Keras 2's augmenting image batcher: random affine transforms, flips, channel and brightness shifts,
    then rescaling and normalization, applied to each image of each batch that its iterators produce."""

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False, samplewise_std_normalization: bool = False,
                 zca_whitening: bool = False, zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Any = 0.0, height_shift_range: Any = 0.0,
                 brightness_range: Sequence[float] | None = None, shear_range: float = 0.0, zoom_range: Any = 0.0,
                 channel_shift_range: float = 0.0, fill_mode: str = "nearest", cval: float = 0.0,
                 horizontal_flip: bool = False, vertical_flip: bool = False, rescale: float | None = None,
                 preprocessing_function: Callable | None = None, data_format: str | None = None,
                 validation_split: float = 0.0, interpolation_order: int = 1, dtype: str | None = None) -> None:
        self.data_format = standardize_data_format(data_format)
        self.dtype = dtype or backend.floatx()
        if fill_mode not in FILL_MODES:
            raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(f"validation_split must be strictly between 0 and 1, got {validation_split}.")
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError(f"brightness_range must be a pair of floats, got {brightness_range!r}.")
        self.featurewise_center, self.samplewise_center = featurewise_center, samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range, self.shear_range = rotation_range, shear_range
        self.width_shift_range, self.height_shift_range = width_shift_range, height_shift_range
        self.brightness_range, self.channel_shift_range = brightness_range, channel_shift_range
        self.zoom_range = _range_pair(zoom_range, "zoom_range")
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale, self.preprocessing_function = rescale, preprocessing_function
        self.interpolation_order = interpolation_order
        self._validation_split = validation_split
        self.channel_axis, self.row_axis, self.col_axis = (3, 1, 2) if self.data_format == "channels_last" \
            else (1, 2, 3)
        self.mean = self.std = self.zca_whitening_matrix = None
        self._implied_settings()

    def _implied_settings(self) -> None:
        if self.zca_whitening:
            if not self.featurewise_center:
                self.featurewise_center = True
                warnings.warn("zca_whitening turns featurewise_center on.", UserWarning, stacklevel=3)
            if self.featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn("zca_whitening turns featurewise_std_normalization off.", UserWarning, stacklevel=3)
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn("featurewise_std_normalization turns featurewise_center on.", UserWarning, stacklevel=3)
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn("samplewise_std_normalization turns samplewise_center on.", UserWarning, stacklevel=3)

    # --- iterators

    def flow(self, x: Any, y: Any = None, batch_size: int = 32, shuffle: bool = True, sample_weight: Any = None,
             seed: int | None = None, save_to_dir: str | None = None, save_prefix: str = "",
             save_format: str = "png", ignore_class_split: bool = False,
             subset: str | None = None) -> NumpyArrayIterator:
        """Batches of augmented images (and labels) from arrays; subset="validation" takes the first part."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight,
                                  seed=seed, data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory: str, target_size: Sequence[int] = (256, 256), color_mode: str = "rgb",
                            classes: Sequence[str] | None = None, class_mode: str | None = "categorical",
                            batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                            save_to_dir: str | None = None, save_prefix: str = "", save_format: str = "png",
                            follow_links: bool = False, subset: str | None = None, interpolation: str = "nearest",
                            keep_aspect_ratio: bool = False) -> DirectoryIterator:
        """Batches of augmented images read from one subfolder of `directory` per class."""
        return DirectoryIterator(directory, self, target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype)

    def flow_from_dataframe(self, dataframe: Any, directory: str | None = None, x_col: str = "filename",
                            y_col: Any = "class", weight_col: str | None = None,
                            target_size: Sequence[int] = (256, 256), color_mode: str = "rgb",
                            classes: Sequence[str] | None = None, class_mode: str | None = "categorical",
                            batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                            save_to_dir: str | None = None, save_prefix: str = "", save_format: str = "png",
                            subset: str | None = None, interpolation: str = "nearest",
                            validate_filenames: bool = True, **kwargs: Any) -> DataFrameIterator:
        """Batches of augmented images whose file names (and labels) are columns of a pandas DataFrame."""
        if class_mode == "other":
            warnings.warn("class_mode='other' is deprecated: use class_mode='raw'.", DeprecationWarning, stacklevel=2)
            class_mode = "raw"
        for old in ("has_ext", "sort", "drop_duplicates"):
            if kwargs.pop(old, None) is not None:
                warnings.warn(f"flow_from_dataframe: {old} is deprecated and ignored.", DeprecationWarning,
                              stacklevel=2)
        if kwargs:
            raise TypeError(f"flow_from_dataframe got unexpected arguments: {sorted(kwargs)}.")
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col, weight_col=weight_col,
                                 target_size=target_size, color_mode=color_mode, classes=classes,
                                 class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
                                 save_format=save_format, subset=subset, interpolation=interpolation,
                                 dtype=self.dtype, validate_filenames=validate_filenames)

    # --- per-image randomness and transforms

    def _draw(self, img_shape: Sequence[int], rng: Any) -> dict[str, Any]:
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        theta = rng.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = _shift(self.height_shift_range, rows, rng) if np.any(self.height_shift_range) else 0
        ty = _shift(self.width_shift_range, cols, rng) if np.any(self.width_shift_range) else 0
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = bool(rng.random_sample() < 0.5) and self.horizontal_flip
        flip_vertical = bool(rng.random_sample() < 0.5) and self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = rng.uniform(-self.channel_shift_range, self.channel_shift_range)
        brightness = rng.uniform(*self.brightness_range) if self.brightness_range is not None else None
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    def get_random_transform(self, img_shape: Sequence[int], seed: int | None = None) -> dict[str, Any]:
        """Random parameters for one image: theta, tx, ty, shear, zx, zy, flips, channel shift, brightness."""
        return self._draw(img_shape, np.random.RandomState(seed) if seed is not None else np.random)

    def _to_last(self, batch: np.ndarray) -> np.ndarray:
        return batch if self.data_format == "channels_last" else np.moveaxis(batch, 1, -1)

    def _from_last(self, batch: np.ndarray) -> np.ndarray:
        return batch if self.data_format == "channels_last" else np.moveaxis(batch, -1, 1)

    def _apply_batch(self, batch: np.ndarray, params: list[dict[str, Any]]) -> np.ndarray:
        """apply_transform over a (N, ...) batch, vectorised across images."""
        x = self._to_last(np.asarray(batch))
        height, width = x.shape[1:3]
        matrices = [affine_matrix(p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                                  p.get("zx", 1), p.get("zy", 1), height, width) for p in params]
        moved = [i for i, m in enumerate(matrices) if m is not None]
        if moved:
            x = x.copy()
            x[moved] = apply_affine_batch(x[moved], np.stack([matrices[i] for i in moved]), self.fill_mode,
                                          self.cval, self.interpolation_order)
        shifts = [p.get("channel_shift_intensity") for p in params]
        if any(s is not None for s in shifts):
            low, high = x.min(axis=(1, 2, 3), keepdims=True), x.max(axis=(1, 2, 3), keepdims=True)
            amount = np.array([s or 0.0 for s in shifts], dtype=x.dtype)[:, None, None, None]
            x = np.clip(x + amount, low, high)
        for key, axis in (("flip_horizontal", 2), ("flip_vertical", 1)):
            mask = np.array([bool(p.get(key, False)) for p in params])
            if mask.any():
                x = np.where(mask[:, None, None, None], np.flip(x, axis), x)
        for i, p in enumerate(params):
            if p.get("brightness") is not None:
                x[i] = apply_brightness_shift(x[i], p["brightness"], scale=False, data_format="channels_last")
        return self._from_last(x)

    def apply_transform(self, x: np.ndarray, transform_parameters: dict[str, Any]) -> np.ndarray:
        """One image transformed by the given parameters (see get_random_transform)."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"apply_transform takes one image of rank 3, got shape {x.shape}.")
        return self._apply_batch(x[None], [transform_parameters])[0]

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """One image with a random transformation applied."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """preprocessing_function, rescale, then sample- and feature-wise normalization, in place where possible."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        return self._normalize(x, batched=False)

    def _normalize(self, x: np.ndarray, batched: bool) -> np.ndarray:
        if self.rescale:
            x *= self.rescale
        axes = tuple(range(1, x.ndim)) if batched else None
        if self.samplewise_center:
            x -= np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, axis=axes, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is None:
                warnings.warn("featurewise_center is set but the generator has not been fit: call .fit(x) first.",
                              UserWarning, stacklevel=3)
            else:
                x -= self.mean
        if self.featurewise_std_normalization:
            if self.std is None:
                warnings.warn("featurewise_std_normalization is set but the generator has not been fit: call "
                              ".fit(x) first.", UserWarning, stacklevel=3)
            else:
                x /= self.std + 1e-6
        if self.zca_whitening:
            if self.zca_whitening_matrix is None:
                warnings.warn("zca_whitening is set but the generator has not been fit: call .fit(x) first.",
                              UserWarning, stacklevel=3)
            else:
                size = int(np.prod(x.shape[-3:]))
                x = (x.reshape(-1, size) @ self.zca_whitening_matrix).reshape(x.shape).astype(x.dtype)
        return x

    def _transform_and_standardize(self, batch: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
        params = [self._draw(batch.shape[1:], rng) for _ in range(len(batch))]
        x = self._apply_batch(batch.astype(self.dtype), params).astype(self.dtype)
        if self.preprocessing_function:  # takes and returns one image
            x = np.stack([self.preprocessing_function(image) for image in x]).astype(self.dtype) if len(x) else x
        return self._normalize(x, batched=True)

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Per-channel mean and std (and the ZCA matrix) of sample images, for the featurewise settings."""
        x = np.array(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"fit takes a batch of images of rank 4, got an array of shape {x.shape}.")
        if x.shape[self.channel_axis] not in (1, 3, 4):
            warnings.warn(f"fit: x has {x.shape[self.channel_axis]} channels on axis {self.channel_axis} "
                          f"({self.data_format}); images have 1, 3 or 4.", UserWarning, stacklevel=2)
        if self.rescale:
            x *= self.rescale
        if augment:
            rng = np.random.RandomState(seed)
            x = np.concatenate([self._apply_batch(x, [self._draw(x.shape[1:], rng) for _ in x])
                                for _ in range(rounds)]).astype(self.dtype)
        axes = (0, self.row_axis, self.col_axis)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.mean(x, axis=axes).reshape(shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=axes).reshape(shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = x.reshape(len(x), -1)
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            self.zca_whitening_matrix = (u * (np.sqrt(len(x)) / (s + self.zca_epsilon))) @ u.T


def apply_brightness_shift(x: np.ndarray, brightness: float, scale: bool = True,
                           data_format: str | None = None) -> np.ndarray:
    """Pillow's brightness enhancement of one image; with scale=False, values keep the image's own range."""
    from PIL import ImageEnhance

    low, high = np.min(x), np.max(x)
    outside = bool(low < 0 or high > 255)
    img = array_to_img(x, data_format=data_format, scale=outside or scale)
    out = img_to_array(ImageEnhance.Brightness(img).enhance(brightness), data_format=data_format)
    if outside and not scale:
        out = out / 255 * (high - low) + low
    return out


def random_brightness(x: np.ndarray, brightness_range: Sequence[float], scale: bool = True) -> np.ndarray:
    """apply_brightness_shift with a factor drawn uniformly in brightness_range."""
    if len(brightness_range) != 2:
        raise ValueError(f"brightness_range must be a pair of floats, got {brightness_range!r}.")
    return apply_brightness_shift(x, np.random.uniform(brightness_range[0], brightness_range[1]), scale)


def smart_resize(x: Any, size: Sequence[int], interpolation: str = "bilinear",
                 data_format: str = "channels_last") -> np.ndarray:
    """An image (or batch) resized to `size` = (height, width) without distortion: the largest centred crop with
    the target's aspect ratio is resized. Returns a NumPy array."""
    from lamina.utils.dataset_from_directory import fit_aspect_ratio, resize_image

    if len(size) != 2:
        raise ValueError(f"smart_resize: size must be (height, width), got {size!r}.")
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"smart_resize takes an image of rank 3 or a batch of rank 4, got shape {x.shape}.")
    batch = x if x.ndim == 4 else x[None]
    if data_format == "channels_first":
        batch = np.moveaxis(batch, 1, -1)
    target = (int(size[0]), int(size[1]))
    out = np.stack([resize_image(fit_aspect_ratio(image.astype("float32"), target, crop=True), target,
                                 interpolation) for image in batch])
    if data_format == "channels_first":
        out = np.moveaxis(out, -1, 1)
    return out if x.ndim == 4 else out[0]
