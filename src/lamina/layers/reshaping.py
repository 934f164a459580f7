"""Layers that only move, repeat, crop or pad values: Flatten, Reshape, Permute, RepeatVector, Cropping1D/2D/3D,
UpSampling1D/2D/3D, ZeroPadding1D/2D/3D.

The spatial layers take data_format "channels_last" (batch, *spatial, channels) or "channels_first"
(batch, channels, *spatial); None means the configured default.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from lamina import backend
from lamina.layers.convolution import SpatialShapes, normalize_data_format, normalize_tuple
from lamina.layers.layer import InputSpec, Layer

__all__ = ["Cropping1D", "Cropping2D", "Cropping3D", "Flatten", "Permute", "RepeatVector", "Reshape",
           "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D"]


class Flatten(Layer):
    """Flattens every axis but the batch axis.

    data_format="channels_first" says that inputs are (batch, channels, *spatial): they are moved to
    (batch, *spatial, channels) first, so that the flat order is the channels_last one whatever the layout.
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format, "Flatten")

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        shape = B.shape(inputs)
        if self.data_format == "channels_first" and len(shape) > 2:
            inputs = B.transpose(inputs, (0, *range(2, len(shape)), 1))
        return B.reshape(inputs, (shape[0], math.prod(shape[1:])))

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (which may hold one -1)."""

    def __init__(self, target_shape: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(f"Reshape target_shape may hold at most one -1, got {self.target_shape}.")

    def build(self, input_shape: tuple) -> None:
        known = [d for d in input_shape[1:] if d is not None]
        if len(known) == len(input_shape) - 1 and -1 not in self.target_shape:
            size, target = math.prod(known), math.prod(self.target_shape)
            if size != target:
                raise ValueError(f"Reshape {self.name!r} cannot reshape input of shape {input_shape} "
                                 f"({size} values per sample) to {self.target_shape} ({target} values).")

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        return B.reshape(inputs, (B.shape(inputs)[0],) + self.target_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


class Permute(Layer):
    """Reorders the non-batch axes: dims is a permutation of 1..rank (output axis i is input axis dims[i-1])."""

    def __init__(self, dims: Sequence[int], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute dims must be a permutation of 1..{len(self.dims)} (the batch axis is not "
                             f"counted), got {dims!r}.")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs: Any) -> Any:
        return backend.impl.transpose(inputs, (0, *self.dims))

    def get_config(self) -> dict:
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): the input repeated n times."""

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RepeatVector n must be a positive integer, got {n!r}.")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        return B.repeat(B.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self) -> dict:
        return {**super().get_config(), "n": self.n}


def normalize_pairs(value: Any, rank: int, name: str, owner: str) -> tuple[tuple[int, int], ...]:
    """An int (same before and after on every axis), `rank` ints (same before and after on that axis), or
    `rank` (before, after) pairs, as `rank` pairs of non-negative ints."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * rank
    try:
        items = tuple(value)
        if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
            items = (items,)  # 1-d: (before, after)
        pairs = tuple((item, item) if isinstance(item, int) else tuple(item) for item in items)
    except TypeError:
        pairs = ()
    if len(pairs) != rank or not all(len(p) == 2 and all(isinstance(v, int) and v >= 0 for v in p) for p in pairs):
        raise ValueError(f"{owner} {name} must be a non-negative int, a tuple of {rank} of them, or {rank} "
                         f"(before, after) pairs, got {value!r}.")
    return pairs


class _Spatial(SpatialShapes, Layer):
    """A layer over the spatial axes of (batch, *spatial, channels) or (batch, channels, *spatial)."""

    rank: int = 2

    def _spatial_setup(self, data_format: str | None) -> None:
        self.data_format = normalize_data_format(data_format, type(self).__name__)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def _first_axis(self) -> int:
        return 2 if self.data_format == "channels_first" else 1

    def _full(self, pairs: Sequence[Any], fill: Any) -> list[Any]:
        """Per-axis items for the spatial axes, `fill` for the batch and channel axes."""
        full = [fill] * (self.rank + 2)
        full[self._first_axis:self._first_axis + self.rank] = pairs
        return full


class Cropping(_Spatial):
    """Removes (before, after) cells from each spatial axis."""

    def __init__(self, cropping: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = normalize_pairs(cropping, self.rank, "cropping", type(self).__name__)
        self._spatial_setup(data_format)

    def build(self, input_shape: tuple) -> None:
        for axis, (before, after) in enumerate(self.cropping, start=self._first_axis):
            size = input_shape[axis]
            if size is not None and before + after >= size:
                raise ValueError(f"{type(self).__name__} {self.name!r} crops {before} + {after} cells from axis "
                                 f"{axis}, which has only {size} (input shape {input_shape}).")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = [None if input_shape[axis] is None else input_shape[axis] - before - after
                 for axis, (before, after) in zip(self._spatial_axes(), self.cropping)]
        return self._with_spatial(tuple(input_shape), sizes, None)

    def call(self, inputs: Any) -> Any:
        cells = self._full([slice(before, -after if after else None) for before, after in self.cropping],
                           slice(None))
        return inputs[tuple(cells)]

    def get_config(self) -> dict:
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(Cropping):
    """Crops (batch, steps, features) along steps."""

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, data_format="channels_last", **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = self.cropping[0]
        del config["data_format"]
        return config


class Cropping2D(Cropping):
    """Crops (height, width); cropping an int, (height, width), or ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(Cropping):
    """Crops (depth, height, width); cropping an int, three ints, or three (before, after) pairs."""

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(cropping, data_format, **kwargs)


class ZeroPadding(_Spatial):
    """Adds (before, after) zeros to each spatial axis."""

    def __init__(self, padding: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = normalize_pairs(padding, self.rank, "padding", type(self).__name__)
        self._spatial_setup(data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = [None if input_shape[axis] is None else input_shape[axis] + before + after
                 for axis, (before, after) in zip(self._spatial_axes(), self.padding)]
        return self._with_spatial(tuple(input_shape), sizes, None)

    def call(self, inputs: Any) -> Any:
        return backend.impl.pad(inputs, self._full(list(self.padding), (0, 0)))

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(ZeroPadding):
    """Pads steps; padding an int or (before, after)."""

    rank = 1

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "padding": self.padding[0]}


class ZeroPadding2D(ZeroPadding):
    """Pads (height, width); padding an int, (height, width), or ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(ZeroPadding):
    """Pads (depth, height, width); padding an int, three ints, or three (before, after) pairs."""

    rank = 3

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(padding, data_format, **kwargs)


def _along(axis: int, cells: slice) -> tuple:
    return (slice(None),) * axis + (cells,)


def bilinear_upsample(x: Any, axis: int, scale: int) -> Any:
    """Linear interpolation with half-pixel centres along `axis`, clamped at the edges (as image resizing does).

    Output cell i * scale + r samples the input at i + delta_r, delta_r = (r + 0.5) / scale - 0.5: a blend of
    cell i with its next (delta_r > 0) or previous (delta_r < 0) neighbour by fixed weights, so the whole
    interpolation is a few shifted copies and scalar blends.
    """
    B = backend.impl
    following = B.concatenate([x[_along(axis, slice(1, None))], x[_along(axis, slice(-1, None))]], axis=axis)
    preceding = B.concatenate([x[_along(axis, slice(None, 1))], x[_along(axis, slice(None, -1))]], axis=axis)
    phases = []
    for r in range(scale):
        delta = (r + 0.5) / scale - 0.5
        neighbour = following if delta >= 0 else preceding
        phases.append(B.add(B.multiply(x, 1.0 - abs(delta)), B.multiply(neighbour, abs(delta))))
    shape = B.shape(x)
    stacked = B.stack(phases, axis=axis + 1)  # (..., size, scale, ...)
    return B.reshape(stacked, (*shape[:axis], shape[axis] * scale, *shape[axis + 1:]))


class UpSampling(_Spatial):
    """Repeats each cell `size` times along each spatial axis ("nearest"), or interpolates ("bilinear")."""

    interpolations: tuple[str, ...] = ("nearest",)

    def __init__(self, size: Any, data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.size = normalize_tuple(size, self.rank, "size", owner)
        if interpolation not in self.interpolations:
            expected = " or ".join(repr(i) for i in self.interpolations)
            raise ValueError(f"{owner} interpolation must be {expected}, got {interpolation!r}.")
        self.interpolation = interpolation
        self._spatial_setup(data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sizes = [None if input_shape[axis] is None else input_shape[axis] * scale
                 for axis, scale in zip(self._spatial_axes(), self.size)]
        return self._with_spatial(tuple(input_shape), sizes, None)

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        outputs = inputs
        for axis, scale in enumerate(self.size, start=self._first_axis):
            if scale == 1:
                continue
            if self.interpolation == "nearest":
                outputs = B.repeat(outputs, scale, axis=axis)
            else:
                outputs = bilinear_upsample(outputs, axis, scale)
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class UpSampling1D(UpSampling):
    """Repeats each step `size` times: (batch, steps, features) -> (batch, steps * size, features)."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size, "channels_last", **kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size[0]
        del config["data_format"]
        return config


class UpSampling2D(UpSampling):
    """Upsamples (height, width) by size; interpolation "nearest" (repeats) or "bilinear"."""

    rank = 2
    interpolations = ("nearest", "bilinear")

    def __init__(self, size: Any = (2, 2), data_format: str | None = None, interpolation: str = "nearest",
                 **kwargs: Any) -> None:
        super().__init__(size, data_format, interpolation, **kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(UpSampling):
    """Repeats each cell of (depth, height, width) by size."""

    rank = 3

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(size, data_format, **kwargs)
