"""Deterministic image layers: Rescaling, Resizing, CenterCrop."""

from __future__ import annotations

from typing import Any

import numpy as np

from lamina import backend
from lamina.ops import image as image_ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer


class Rescaling(Layer):
    """inputs * scale + offset (scale and offset may be per-channel lists, broadcast on the last axis)."""

    casts_inputs = True
    supports_masking = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        dtype = B.dtype_of(inputs)

        def constant(value: Any) -> Any:
            if isinstance(value, (int, float)):
                return value
            return B.convert_to_tensor(np.asarray(value, np.float64), dtype)

        return inputs * constant(self.scale) + constant(self.offset)

    def get_config(self) -> dict:
        def plain(value: Any) -> Any:
            return np.asarray(value).tolist() if not isinstance(value, (int, float)) else value

        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}


def _check_size(layer: str, height: Any, width: Any) -> tuple[int, int]:
    if not all(isinstance(v, (int, np.integer)) and v > 0 for v in (height, width)):
        raise ValueError(f"{layer} height and width must be positive ints, got {height!r} and {width!r}.")
    return int(height), int(width)


class Resizing(BaseImagePreprocessingLayer):
    """Resize images to (height, width), optionally cropping or padding to that aspect ratio first."""

    def __init__(self, height: int, width: int, interpolation: str = "bilinear", crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False, fill_mode: str = "constant", fill_value: float = 0.0,
                 antialias: bool = False, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = _check_size("Resizing", height, width)
        if interpolation not in image_ops.INTERPOLATIONS:
            raise ValueError(f"Resizing interpolation must be one of {image_ops.INTERPOLATIONS}, "
                             f"got {interpolation!r}.")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing takes only one of crop_to_aspect_ratio and pad_to_aspect_ratio.")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio, self.pad_to_aspect_ratio = crop_to_aspect_ratio, pad_to_aspect_ratio
        self.fill_mode, self.fill_value, self.antialias = fill_mode, fill_value, antialias

    def transform_images(self, images: Any, training: bool) -> Any:
        return image_ops.resize(images, (self.height, self.width), self.interpolation, self.antialias,
                                self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, self.fill_mode,
                                self.fill_value)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}


def center_crop(images: Any, height: int, width: int) -> Any:
    """The centred (height, width) window of (batch, h, w, c) images; smaller images are resized to
    cover it, cropping to its aspect ratio."""
    in_height, in_width = int(images.shape[1]), int(images.shape[2])
    if in_height < height or in_width < width:
        return image_ops.resize(images, (height, width), crop_to_aspect_ratio=True)
    top, left = (in_height - height) // 2, (in_width - width) // 2
    return images[:, top:top + height, left:left + width, :]


class CenterCrop(BaseImagePreprocessingLayer):
    """The centred (height, width) window of each image (resized first where an image is smaller)."""

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = _check_size("CenterCrop", height, width)

    def transform_images(self, images: Any, training: bool) -> Any:
        return center_crop(images, self.height, self.width)

    def get_config(self) -> dict:
        return {**super().get_config(), "height": self.height, "width": self.width}
