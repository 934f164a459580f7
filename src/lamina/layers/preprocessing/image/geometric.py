"""Random geometric augmentations: flips, rotations, zooms, translations, shears, crops, perspective, elastic."""

from __future__ import annotations

import math
from typing import Any

from lamina import backend
from lamina.ops import image as image_ops
from lamina.ops.image_sampling import check_fill_mode, homography, sample_images
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer, parse_factor, per_image, plain
from lamina.layers.preprocessing.image.resizing import _check_size


class RandomFlip(BaseImagePreprocessingLayer):
    """Flips each image left-right and/or up-down with probability 1/2 while training."""

    random = True
    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip mode must be one of {self.MODES}, got {mode!r}.")
        self.mode = mode

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch = int(images.shape[0])
        for axis, wanted in ((2, "horizontal"), (1, "vertical")):
            if wanted in self.mode:
                flip = per_image(self.uniform((batch,)) < 0.5)
                images = B.where(flip, B.flip(images, axis=axis), images)
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "mode": self.mode}


class RandomAffineLayer(BaseImagePreprocessingLayer):
    """A random layer that warps each image by a projective transform drawn per image."""

    random = True

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", fill_value: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_fill_mode(fill_mode)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{type(self).__name__} interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}.")
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def transforms(self, batch: int, height: int, width: int) -> Any:
        """(batch, 8) transforms in affine_transform's layout."""
        raise NotImplementedError

    def transform_images(self, images: Any, training: bool) -> Any:
        batch, height, width = (int(d) for d in images.shape[:3])
        transform = backend.impl.cast(self.transforms(batch, height, width), backend.impl.dtype_of(images))
        return image_ops.affine_transform(images, transform, self.interpolation, self.fill_mode, self.fill_value)

    def get_config(self) -> dict:
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


def _about_centre(m00: Any, m01: Any, m10: Any, m11: Any, height: int, width: int) -> Any:
    """The (batch, 8) transforms applying the 2x2 maps [[m00, m01], [m10, m11]] (x, y) about the image centre."""
    B = backend.impl
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    zero = m00 * 0.0
    return B.stack([m00, m01, cx - m00 * cx - m01 * cy, m10, m11, cy - m10 * cx - m11 * cy, zero, zero], axis=-1)


class RandomRotation(RandomAffineLayer):
    """Rotates each image by a random angle: factor is a fraction of a full turn, (lower, upper) or +-factor."""

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, fill_value, data_format=data_format, seed=seed, **kwargs)
        self.factor = factor
        self.bounds = parse_factor(factor, "RandomRotation factor")

    def transforms(self, batch: int, height: int, width: int) -> Any:
        B = backend.impl
        angles = self.uniform((batch,), *self.bounds) * (2.0 * math.pi)
        cos, sin = B.cos(angles), B.sin(angles)
        return _about_centre(cos, -sin, sin, cos, height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": plain(self.factor)}


class RandomZoom(RandomAffineLayer):
    """Zooms each image by a random amount: positive factors zoom out, negative zoom in."""

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, fill_value, data_format=data_format, seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_bounds = parse_factor(height_factor, "RandomZoom height_factor", low=-1.0)
        self.width_bounds = None if width_factor is None else parse_factor(width_factor, "RandomZoom width_factor",
                                                                           low=-1.0)

    def transforms(self, batch: int, height: int, width: int) -> Any:
        zoom_y = 1.0 + self.uniform((batch,), *self.height_bounds)
        zoom_x = zoom_y if self.width_bounds is None else 1.0 + self.uniform((batch,), *self.width_bounds)
        return _about_centre(zoom_x, zoom_x * 0.0, zoom_y * 0.0, zoom_y, height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": plain(self.height_factor), "width_factor": plain(self.width_factor)}


class RandomTranslation(RandomAffineLayer):
    """Shifts each image by random fractions of its height and width."""

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, fill_value, data_format=data_format, seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_bounds = parse_factor(height_factor, "RandomTranslation height_factor", -1.0, 1.0)
        self.width_bounds = parse_factor(width_factor, "RandomTranslation width_factor", -1.0, 1.0)

    def transforms(self, batch: int, height: int, width: int) -> Any:
        B = backend.impl
        dy = self.uniform((batch,), *self.height_bounds) * height
        dx = self.uniform((batch,), *self.width_bounds) * width
        one, zero = dx * 0.0 + 1.0, dx * 0.0
        return B.stack([one, zero, -dx, zero, one, -dy, zero, zero], axis=-1)

    def get_config(self) -> dict:
        return {**super().get_config(), "height_factor": plain(self.height_factor), "width_factor": plain(self.width_factor)}


class RandomShear(RandomAffineLayer):
    """Shears each image along x and y by random amounts in +-x_factor and +-y_factor."""

    def __init__(self, x_factor: Any = 0.0, y_factor: Any = 0.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, fill_value, data_format=data_format, seed=seed, **kwargs)
        self.x_factor, self.y_factor = x_factor, y_factor
        self.x_bounds = parse_factor(x_factor, "RandomShear x_factor")
        self.y_bounds = parse_factor(y_factor, "RandomShear y_factor")

    def transforms(self, batch: int, height: int, width: int) -> Any:
        shear_x = self.uniform((batch,), *self.x_bounds)
        shear_y = self.uniform((batch,), *self.y_bounds)
        one = shear_x * 0.0 + 1.0
        return _about_centre(one, shear_x, shear_y, one, height, width)

    def get_config(self) -> dict:
        return {**super().get_config(), "x_factor": plain(self.x_factor), "y_factor": plain(self.y_factor)}


class RandomPerspective(RandomAffineLayer):
    """With probability factor, moves each image's corners by up to scale / 2 of its size (a perspective warp)."""

    def __init__(self, factor: float = 1.0, scale: float = 1.0, interpolation: str = "bilinear",
                 fill_value: float = 0.0, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__("constant", interpolation, fill_value, data_format=data_format, seed=seed, **kwargs)
        self.factor, self.scale = factor, scale
        self.bounds = parse_factor(factor, "RandomPerspective factor", 0.0, 1.0, symmetric=False)
        if not 0.0 <= scale <= 1.0:
            raise ValueError(f"RandomPerspective scale must be in [0, 1], got {scale!r}.")

    def transforms(self, batch: int, height: int, width: int) -> Any:
        B = backend.impl
        corners = B.convert_to_tensor([[0.0, 0.0], [width - 1.0, 0.0], [width - 1.0, height - 1.0],
                                       [0.0, height - 1.0]], "float32")
        size = B.convert_to_tensor([[width - 1.0, height - 1.0]], "float32")
        shifts = self.uniform((batch, 4, 2), -0.5, 0.5) * (self.scale * size)
        apply = self.uniform((batch,)) < self.bounds[1]  # factor: the probability of a warp
        moved = corners + B.where(B.reshape(apply, (-1, 1, 1)), shifts, 0.0)
        start = B.broadcast_to(corners, (batch, 4, 2))
        return homography(moved, start)  # output pixels at the moved corners read the original corners

    def get_config(self) -> dict:
        config = super().get_config()
        del config["fill_mode"]
        return {**config, "factor": plain(self.factor), "scale": self.scale}


class RandomElasticTransform(RandomAffineLayer):
    """With probability factor, displaces pixels by a smooth random field of strength scale."""

    def __init__(self, factor: float = 1.0, scale: float = 1.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, value_range: Any = (0, 255),
                 seed: int | None = None, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, fill_value, data_format=data_format, seed=seed, **kwargs)
        self.factor, self.scale, self.value_range = factor, scale, tuple(value_range)
        self.bounds = parse_factor(factor, "RandomElasticTransform factor", 0.0, 1.0, symmetric=False)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch, height, width = (int(d) for d in images.shape[:3])
        sigma = max(min(height, width) / 16.0, 1.0)
        alpha = self.scale * min(height, width) / 4.0
        warped = image_ops.elastic_transform(images, alpha, sigma, self.interpolation, self.fill_mode,
                                             self.fill_value, seed=self.seed_generator)
        apply = self.uniform((batch,)) < self.bounds[1]  # factor: the probability of a warp
        return B.where(per_image(apply), warped, images)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": plain(self.factor), "scale": self.scale,
                "value_range": list(self.value_range)}


class RandomCrop(BaseImagePreprocessingLayer):
    """While training, a random (height, width) window of each image; otherwise (or for smaller images) the
    largest centred window of the target's aspect ratio, resized to (height, width)."""

    random = True

    def __init__(self, height: int, width: int, seed: int | None = None, data_format: str | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, name=name, **kwargs)
        self.height, self.width = _check_size("RandomCrop", height, width)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        training = self.resolve_training(training)
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        return self._images(inputs, training)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch, in_height, in_width = (int(d) for d in images.shape[:3])
        if not training or in_height < self.height or in_width < self.width:
            return image_ops.resize(images, (self.height, self.width), crop_to_aspect_ratio=True)
        dtype = B.dtype_of(images)
        top = B.clip(B.floor(self.uniform((batch,)) * (in_height - self.height + 1)), 0, in_height - self.height)
        left = B.clip(B.floor(self.uniform((batch,)) * (in_width - self.width + 1)), 0, in_width - self.width)
        rows = B.reshape(B.cast(top, dtype), (-1, 1, 1)) + B.reshape(B.arange(self.height, dtype=dtype), (1, -1, 1))
        columns = B.reshape(B.cast(left, dtype), (-1, 1, 1)) + B.reshape(B.arange(self.width, dtype=dtype), (1, 1, -1))
        return sample_images(images, rows, columns, 0, "nearest", 0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}
