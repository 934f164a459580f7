"""Augmentations that mix images (and their labels) or erase parts of them: MixUp, CutMix, RandomErasing."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.layers.preprocessing.image.base import (BaseImagePreprocessingLayer, parse_factor, parse_value_range,
                                                   per_image, plain)
from lamina.ops.image_sampling import as_batched_last, from_batched_last


def partners(layer: BaseImagePreprocessingLayer, batch: int) -> Any:
    """For each image the index of another one: the batch rotated by a random shift in [1, batch)."""
    B = backend.impl
    shift = B.floor(layer.uniform((1,), 1.0, float(max(batch, 2))))
    index = B.arange(batch, dtype="float32") + shift
    index = B.where(index >= batch, index - batch, index)
    return B.cast(B.clip(index, 0, batch - 1), "int32")


class MixingLayer(BaseImagePreprocessingLayer):
    """Mixes each image (and label, in a dict input) with another image of the batch."""

    random = True

    def mix(self, images: Any, others: Any) -> tuple[Any, Any]:
        """The mixed images and the weight (batch,) of each image's own label."""
        raise NotImplementedError

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not self.resolve_training(training):
            return inputs
        data = inputs if isinstance(inputs, dict) else {"images": inputs}
        unsupported = sorted(set(data) - {"images", "labels"})
        if unsupported:
            raise ValueError(f"{type(self).__name__} takes images or a dict of 'images' and 'labels'; "
                             f"got keys {sorted(data)} (bounding boxes and segmentation masks are not supported).")
        B = backend.impl
        data = {key: B.convert_to_tensor(value) for key, value in data.items()}
        x, batched, channels_first = as_batched_last(B.cast(data["images"], self.dtype), self.data_format,
                                                     type(self).__name__)
        index = partners(self, int(x.shape[0]))
        mixed, weights = self.mix(x, B.take(x, index, axis=0))
        outputs = dict(data, images=from_batched_last(mixed, batched, channels_first))
        if "labels" in data:
            labels = B.cast(data["labels"], B.dtype_of(x))
            shape = (-1, *(1,) * (len(labels.shape) - 1))
            weights = B.reshape(weights, shape)
            outputs["labels"] = weights * labels + (1.0 - weights) * B.take(labels, index, axis=0)
        return outputs if isinstance(inputs, dict) else outputs["images"]


class MixUp(MixingLayer):
    """Blends each image (and label) with another of the batch, weight ~ Beta(alpha, alpha)."""

    def __init__(self, alpha: float = 0.2, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if alpha <= 0:
            raise ValueError(f"MixUp alpha must be positive, got {alpha!r}.")
        self.alpha = float(alpha)

    def mix(self, images: Any, others: Any) -> tuple[Any, Any]:
        batch = int(images.shape[0])
        weights = backend.impl.random_beta((batch,), self.alpha, self.alpha, seed=self.seed_generator)
        return others + per_image(weights) * (images - others), weights

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


def random_boxes(layer: BaseImagePreprocessingLayer, batch: int, height: int, width: int, box_height: Any,
                 box_width: Any) -> Any:
    """(batch, height, width, 1) masks of boxes (sizes in pixels, (batch,)) at random centres, clipped to
    the image."""
    B = backend.impl
    centre_y = layer.uniform((batch,)) * height
    centre_x = layer.uniform((batch,)) * width
    rows = B.reshape(B.arange(height, dtype="float32") + 0.5, (1, -1, 1, 1))
    columns = B.reshape(B.arange(width, dtype="float32") + 0.5, (1, 1, -1, 1))
    inside_y = B.abs(rows - per_image(centre_y)) < per_image(box_height) / 2.0
    inside_x = B.abs(columns - per_image(centre_x)) < per_image(box_width) / 2.0
    return B.logical_and(inside_y, inside_x)


class CutMix(MixingLayer):
    """Pastes a random box of another image of the batch into each image; labels mix by area."""

    def __init__(self, factor: float = 1.0, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if factor <= 0:
            raise ValueError(f"CutMix factor must be positive, got {factor!r}.")
        self.factor = float(factor)

    def mix(self, images: Any, others: Any) -> tuple[Any, Any]:
        B = backend.impl
        batch, height, width = (int(d) for d in images.shape[:3])
        share = B.random_beta((batch,), self.factor, self.factor, seed=self.seed_generator)
        side = B.sqrt(1.0 - share)
        box = random_boxes(self, batch, height, width, side * height, side * width)
        area = B.sum(B.cast(box, B.dtype_of(images)), axis=(1, 2, 3)) / (height * width)
        return B.where(box, others, images), 1.0 - area

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": self.factor}


class RandomErasing(BaseImagePreprocessingLayer):
    """With probability factor, fills a random box covering a share (in scale) of each image with fill_value,
    or with uniform noise in value_range when fill_value is None."""

    random = True

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: float | None = None,
                 value_range: Any = (0, 255), seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.factor, self.scale, self.fill_value = factor, scale, fill_value
        self.probability = parse_factor(factor, "RandomErasing factor", 0.0, 1.0, symmetric=False)[1]
        self.scale_bounds = parse_factor(scale, "RandomErasing scale", 0.0, 1.0, symmetric=False)
        self.value_range = tuple(value_range)
        self.low, self.high = parse_value_range(value_range)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch, height, width = (int(d) for d in images.shape[:3])
        share = self.uniform((batch,), *self.scale_bounds)
        aspect = B.exp(self.uniform((batch,), -1.2, 1.2))  # log-uniform in about (0.3, 3.3)
        box = random_boxes(self, batch, height, width, B.sqrt(share * aspect) * height,
                           B.sqrt(share / aspect) * width)
        box = B.logical_and(box, per_image(self.uniform((batch,)) < self.probability))
        if self.fill_value is None:
            fill = self.uniform(tuple(images.shape), self.low, self.high)
        else:
            fill = B.full(tuple(images.shape), float(self.fill_value), B.dtype_of(images))
        return B.where(box, fill, images)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": plain(self.factor), "scale": plain(self.scale),
                "fill_value": self.fill_value, "value_range": list(self.value_range)}
