"""The base of the image preprocessing layers: layouts, the training switch, random draws, factors."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend
from lamina.layers.layer import Layer
from lamina.ops.image_sampling import as_batched_last, data_format_of, from_batched_last


def parse_factor(factor: Any, name: str, low: float | None = None, high: float | None = None,
                 symmetric: bool = True) -> tuple[float, float]:
    """A factor as (lower, upper): one number f gives (-f, f) when symmetric, else (0, f); a pair is kept."""
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        bounds = (-abs(float(factor)), abs(float(factor))) if symmetric else (0.0, float(factor))
    elif isinstance(factor, (list, tuple)) and len(factor) == 2 and all(isinstance(f, (int, float)) for f in factor):
        bounds = (float(factor[0]), float(factor[1]))
    else:
        raise ValueError(f"{name} must be a number or a pair (lower, upper) of numbers, got {factor!r}.")
    if bounds[0] > bounds[1]:
        raise ValueError(f"{name} must have lower <= upper, got {factor!r}.")
    if (low is not None and bounds[0] < low) or (high is not None and bounds[1] > high):
        raise ValueError(f"{name} must lie in [{low}, {high}], got {factor!r}.")
    return bounds


def plain(value: Any) -> Any:
    """A config value as JSON gives it back: tuples as lists."""
    return list(value) if isinstance(value, tuple) else value


def parse_value_range(value_range: Any) -> tuple[float, float]:
    if not isinstance(value_range, (list, tuple)) or len(value_range) != 2 or value_range[0] >= value_range[1]:
        raise ValueError(f"value_range must be a pair (low, high) with low < high, got {value_range!r}.")
    return float(value_range[0]), float(value_range[1])


class BaseImagePreprocessingLayer(Layer):
    """Takes images of rank 3 or 4 in data_format (or a dict with "images"); `transform_images` sees
    them as (batch, height, width, channels) floats. Random layers (`random = True`) pass their inputs
    through unchanged unless training; called outside fit without `training`, they augment, as in Keras."""

    casts_inputs = True
    random = False

    def __init__(self, data_format: str | None = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format_of(data_format)
        self.seed = seed
        if self.random:
            self.seed_generator = backend.impl.SeedGenerator(seed)

    # --- what subclasses write -------------------------------------------------------------------------

    def transform_images(self, images: Any, training: bool) -> Any:
        """(batch, height, width, channels) -> the same layout."""
        raise NotImplementedError

    def transform_labels(self, labels: Any, training: bool) -> Any:
        return labels

    # --- the call ------------------------------------------------------------------------------------------

    # Shapes are found by tracing `call`; a random draw there would advance (and, on jax, leak) the seed
    # state, and every random layer keeps the shape of the inference path.
    _tracing_shapes = False

    def _symbolic_call(self, args: tuple, kwargs: dict) -> Any:
        return self._traced(super()._symbolic_call, args, kwargs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self._traced(super().compute_output_shape, input_shape)

    def _traced(self, function: Any, *args: Any) -> Any:
        self._tracing_shapes = True
        try:
            return function(*args)
        finally:
            self._tracing_shapes = False

    def resolve_training(self, training: bool | None) -> bool:
        """Keras's default: a direct call without `training` augments; shape tracing never does."""
        return (True if training is None else bool(training)) and not self._tracing_shapes

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        training = self.resolve_training(training)
        if self.random and not training:
            return inputs
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        return self._images(inputs, training)

    def _images(self, images: Any, training: bool) -> Any:
        x, batched, channels_first = as_batched_last(images, self.data_format, type(self).__name__)
        return from_batched_last(self.transform_images(x, training), batched, channels_first)

    def _call_dict(self, inputs: dict, training: bool) -> dict:
        unsupported = sorted(set(inputs) - {"images", "labels"})
        if "images" not in inputs or unsupported:
            raise ValueError(f"{type(self).__name__} takes a dict with 'images' (and optionally 'labels'); "
                             f"got keys {sorted(inputs)} (bounding boxes and segmentation masks are not supported).")
        outputs = dict(inputs)
        images = backend.impl.cast(backend.impl.convert_to_tensor(inputs["images"]), self.dtype)
        outputs["images"] = self._images(images, training)
        if "labels" in inputs:
            outputs["labels"] = self.transform_labels(inputs["labels"], training)
        return outputs

    # --- helpers for random layers -----------------------------------------------------------------------

    def uniform(self, shape: Sequence[int], low: float = 0.0, high: float = 1.0) -> Any:
        return backend.impl.random_uniform(tuple(shape), low, high, seed=self.seed_generator)

    def get_config(self) -> dict:
        config = super().get_config()
        if self.random:
            config["seed"] = self.seed
        if "data_format" in _config_keys(type(self)):
            config["data_format"] = self.data_format
        return config


def _config_keys(cls: type) -> set[str]:
    import inspect

    return set(inspect.signature(cls.__init__).parameters)


def per_image(values: Any, rank: int = 4) -> Any:
    """Values (batch,) shaped to broadcast over (batch, height, width, channels)."""
    return backend.impl.reshape(values, (-1, *(1,) * (rank - 1)))


def blend(images: Any, others: Any, weights: Any) -> Any:
    """images + weights * (others - images): per-image weights (batch,)."""
    return images + per_image(weights) * (others - images)
