"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, the global poolings and the adaptive poolings.

Every layer takes data_format "channels_last" (batch, *spatial, channels) or "channels_first"
(batch, channels, *spatial); None means the configured default.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

from lamina import backend
from lamina.layers.convolution import SpatialShapes, conv_output_length, normalize_data_format, normalize_tuple
from lamina.layers.layer import InputSpec, Layer

__all__ = ["AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
           "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D"]


class Pooling(SpatialShapes, Layer):
    """Max or average over sliding windows of the spatial axes; subclasses fix `rank` and `mode`."""

    rank: int = 2
    mode: str = "max"
    casts_inputs = True

    def __init__(self, pool_size: int | Sequence[int] = 2, strides: int | Sequence[int] | None = None,
                 padding: str = "valid", data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        owner = type(self).__name__
        padding = padding.lower() if isinstance(padding, str) else padding
        if padding not in ("valid", "same"):
            raise ValueError(f"{owner} padding must be 'valid' or 'same', got {padding!r}.")
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = normalize_tuple(strides if strides is not None else self.pool_size, self.rank, "strides",
                                       owner)
        self.padding = padding
        self.data_format = normalize_data_format(data_format, owner)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = [conv_output_length(input_shape[axis], p, s, self.padding)
                 for axis, p, s in zip(self._spatial_axes(), self.pool_size, self.strides)]
        return self._with_spatial(tuple(input_shape), sizes, None)

    def call(self, inputs: Any) -> Any:
        pool = backend.impl.max_pool_general if self.mode == "max" else backend.impl.average_pool_general
        return pool(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format}


class MaxPooling1D(Pooling):
    """Maximum over windows of steps."""

    rank, mode = 1, "max"


class MaxPooling2D(Pooling):
    """Maximum over windows of (height, width)."""

    rank, mode = 2, "max"


class MaxPooling3D(Pooling):
    """Maximum over windows of (depth, height, width)."""

    rank, mode = 3, "max"


class AveragePooling1D(Pooling):
    """Average over windows of steps."""

    rank, mode = 1, "average"


class AveragePooling2D(Pooling):
    """Average over windows of (height, width)."""

    rank, mode = 2, "average"


class AveragePooling3D(Pooling):
    """Average over windows of (depth, height, width)."""

    rank, mode = 3, "average"


class GlobalPooling(Layer):
    """Max or average over all spatial axes; keepdims keeps them as size 1.

    As in Keras 3, only GlobalAveragePooling1D takes a mask (batch, steps): masked steps are left out of the
    average, and the output has no mask. The others warn and ignore a mask.
    """

    rank: int = 2
    mode: str = "max"
    casts_inputs = True
    _creates_mask = False

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs: Any, mask: Any = None) -> Any:
        B = backend.impl
        first = 2 if self.data_format == "channels_first" else 1
        axes = tuple(range(first, first + self.rank))
        if mask is not None and (self.rank != 1 or self.mode == "max"):  # as Keras: only the 1-d average does
            warnings.warn(f"{type(self).__name__} {self.name!r} does not support masking, but its input carries a "
                          "mask: the mask is ignored and stops here.", stacklevel=3)
            mask = None
        if mask is None:
            reduce = B.max if self.mode == "max" else B.mean
            return reduce(inputs, axis=axes, keepdims=self.keepdims)
        steps = axes[0]
        keep = B.expand_dims(B.cast(mask, "bool"), 1 if steps == 2 else -1)  # channels broadcast
        weights = B.cast(keep, B.dtype_of(inputs))
        total = B.sum(B.multiply(inputs, weights), axis=steps, keepdims=self.keepdims)
        return B.divide(total, B.maximum(B.sum(weights, axis=steps, keepdims=self.keepdims), 1.0))

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(GlobalPooling):
    """Maximum over all positions of steps."""

    rank, mode = 1, "max"


class GlobalMaxPooling2D(GlobalPooling):
    """Maximum over all positions of (height, width)."""

    rank, mode = 2, "max"


class GlobalMaxPooling3D(GlobalPooling):
    """Maximum over all positions of (depth, height, width)."""

    rank, mode = 3, "max"


class GlobalAveragePooling1D(GlobalPooling):
    """Average over all positions of steps."""

    rank, mode = 1, "average"


class GlobalAveragePooling2D(GlobalPooling):
    """Average over all positions of (height, width)."""

    rank, mode = 2, "average"


class GlobalAveragePooling3D(GlobalPooling):
    """Average over all positions of (depth, height, width)."""

    rank, mode = 3, "average"


class AdaptivePooling(SpatialShapes, Layer):
    """Average or max over `output_size` cells per spatial axis: output cell i of an axis of n cells covers
    input cells [floor(i * n / out), ceil((i + 1) * n / out)); subclasses fix `rank` and `mode`."""

    rank: int = 2
    mode: str = "average"
    casts_inputs = True

    def __init__(self, output_size: int | Sequence[int], data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.output_size = normalize_tuple(output_size, self.rank, "output_size", owner)
        self.data_format = normalize_data_format(data_format, owner)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return self._with_spatial(tuple(input_shape), self.output_size, None)

    def call(self, inputs: Any) -> Any:
        return backend.impl.adaptive_pool(inputs, self.output_size, self.mode, self.data_format)

    def get_config(self) -> dict:
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


class AdaptiveAveragePooling1D(AdaptivePooling):
    """Average over output_size ranges of steps."""

    rank, mode = 1, "average"


class AdaptiveAveragePooling2D(AdaptivePooling):
    """Average over output_size boxes of (height, width)."""

    rank, mode = 2, "average"


class AdaptiveAveragePooling3D(AdaptivePooling):
    """Average over output_size boxes of (depth, height, width)."""

    rank, mode = 3, "average"


class AdaptiveMaxPooling1D(AdaptivePooling):
    """Maximum over output_size ranges of steps."""

    rank, mode = 1, "max"


class AdaptiveMaxPooling2D(AdaptivePooling):
    """Maximum over output_size boxes of (height, width)."""

    rank, mode = 2, "max"


class AdaptiveMaxPooling3D(AdaptivePooling):
    """Maximum over output_size boxes of (depth, height, width)."""

    rank, mode = 3, "max"


# The short names Keras also exports.
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
