"""Colour and intensity augmentations: contrast, brightness, hue, saturation, grayscale, inversion and friends."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.ops import image as image_ops
from lamina.layers.preprocessing.image.base import (BaseImagePreprocessingLayer, blend, parse_factor,
                                                   parse_value_range, per_image, plain)


class ValueRangeLayer(BaseImagePreprocessingLayer):
    """A layer whose images take values in value_range; outputs are clipped to it."""

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_range = tuple(value_range)
        self.low, self.high = parse_value_range(value_range)

    def clip(self, images: Any) -> Any:
        return backend.impl.clip(images, self.low, self.high)

    def to_unit(self, images: Any) -> Any:
        return (images - self.low) / (self.high - self.low)

    def from_unit(self, images: Any) -> Any:
        return images * (self.high - self.low) + self.low

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": list(self.value_range)}


class RandomFactorLayer(ValueRangeLayer):
    """A random value-range layer with one `factor` drawn per image from (lower, upper)."""

    random = True
    symmetric = False
    factor_limits: tuple[float | None, float | None] = (0.0, 1.0)

    def __init__(self, factor: Any, value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(value_range, **kwargs)
        self.factor = factor
        self.bounds = parse_factor(factor, f"{type(self).__name__} factor", *self.factor_limits,
                                   symmetric=self.symmetric)

    def draw(self, batch: int) -> Any:
        return self.uniform((batch,), *self.bounds)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": plain(self.factor)}


class RandomContrast(RandomFactorLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in [1 - lower, 1 + upper]."""

    factor_limits = (None, None)

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, seed=seed, **kwargs)
        lower, upper = (factor, factor) if isinstance(factor, (int, float)) else tuple(factor)
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"RandomContrast factor must be non-negative with lower <= 1, got {factor!r}.")
        self.bounds = (1.0 - lower, 1.0 + upper)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        mean = B.mean(images, axis=(1, 2), keepdims=True)
        return self.clip((images - mean) * per_image(self.draw(int(images.shape[0]))) + mean)


class RandomBrightness(RandomFactorLayer):
    """Adds factor * (high - low) to each image, factor drawn per image in (lower, upper) within [-1, 1]."""

    symmetric = True
    factor_limits = (-1.0, 1.0)

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, seed=seed, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        delta = self.draw(int(images.shape[0])) * (self.high - self.low)
        return self.clip(images + per_image(delta))


def _grayscale_rgb(images: Any) -> Any:
    """Grayscale images, repeated to 3 channels."""
    gray = image_ops.rgb_to_grayscale(images)
    return backend.impl.concatenate([gray, gray, gray], axis=-1)


class RandomGrayscale(BaseImagePreprocessingLayer):
    """Turns each image to grayscale (kept with 3 channels) with probability factor."""

    random = True

    def __init__(self, factor: float = 0.5, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        if not 0.0 <= factor <= 1.0:
            raise ValueError(f"RandomGrayscale factor must be a probability in [0, 1], got {factor!r}.")
        self.factor = factor

    def transform_images(self, images: Any, training: bool) -> Any:
        apply = self.uniform((int(images.shape[0]),)) < self.factor
        return backend.impl.where(per_image(apply), _grayscale_rgb(images), images)

    def get_config(self) -> dict:
        return {**super().get_config(), "factor": plain(self.factor)}


class RandomHue(RandomFactorLayer):
    """Rotates each image's hue by up to factor / 2 of a turn, either way."""

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch = int(images.shape[0])
        sign = B.where(self.uniform((batch,)) < 0.5, -1.0, 1.0)
        shift = per_image(self.draw(batch) * sign * 0.5)
        hsv = image_ops.rgb_to_hsv(B.clip(self.to_unit(images), 0.0, 1.0))
        hue = hsv[..., :1] + shift
        hue = hue - B.floor(hue)
        return self.clip(self.from_unit(image_ops.hsv_to_rgb(B.concatenate([hue, hsv[..., 1:]], axis=-1))))


class RandomSaturation(RandomFactorLayer):
    """Scales saturation by f / (1 - f), f drawn per image: 0 gives grayscale, 0.5 no change, 1 full saturation."""

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        f = self.draw(int(images.shape[0]))
        gain = per_image(f / B.maximum(1.0 - f, 1e-6))
        hsv = image_ops.rgb_to_hsv(B.clip(self.to_unit(images), 0.0, 1.0))
        saturation = B.clip(hsv[..., 1:2] * gain, 0.0, 1.0)
        hsv = B.concatenate([hsv[..., :1], saturation, hsv[..., 2:]], axis=-1)
        return self.clip(self.from_unit(image_ops.hsv_to_rgb(hsv)))


class RandomColorDegeneration(RandomFactorLayer):
    """Blends each image towards its grayscale version by a random amount in (0, factor)."""

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        return self.clip(blend(images, _grayscale_rgb(images), self.draw(int(images.shape[0]))))


class RandomInvert(RandomFactorLayer):
    """Inverts each image (high + low - x) with probability factor."""

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, seed=seed, data_format=data_format, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        batch = int(images.shape[0])
        apply = self.uniform((batch,)) < self.bounds[1]
        return backend.impl.where(per_image(apply), self.high + self.low - images, images)


class RandomPosterization(RandomFactorLayer):
    """Keeps a random number of bits, between 1 and factor (at most 8), of each 8-bit pixel value."""

    factor_limits = (0.0, 8.0)

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)
        if isinstance(factor, (int, float)):
            self.bounds = (1.0, float(factor))

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        low, high = self.bounds
        bits = B.clip(B.floor(self.uniform((int(images.shape[0]),), low, high + 1.0)), low, high)
        step = per_image(B.power(2.0, 8.0 - bits))
        pixels = B.floor(B.clip(self.to_unit(images), 0.0, 1.0) * 255.0)
        return self.from_unit(B.floor(pixels / step) * step / 255.0)


class RandomSharpness(RandomFactorLayer):
    """Sharpens each image (x + f * (x - smoothed x)), f drawn per image in (0, factor)."""

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        channels = int(images.shape[-1])
        kernel = B.convert_to_tensor([[1.0, 1.0, 1.0], [1.0, 5.0, 1.0], [1.0, 1.0, 1.0]], B.dtype_of(images)) / 13.0
        kernel = B.tile(B.reshape(kernel, (3, 3, 1, 1)), (1, 1, 1, channels))
        smoothed = B.conv(images, kernel, (1, 1), "same", (1, 1), groups=channels)
        # The border keeps its own values: the zero padding would darken it.
        height, width = int(images.shape[1]), int(images.shape[2])
        smoothed = B.pad(smoothed[:, 1:height - 1, 1:width - 1], ((0, 0), (1, 1), (1, 1), (0, 0)))
        inside = B.pad(B.ones((1, height - 2, width - 2, 1), B.dtype_of(images)), ((0, 0), (1, 1), (1, 1), (0, 0)))
        smoothed = smoothed + (1.0 - inside) * images
        return self.clip(blend(images, smoothed, -self.draw(int(images.shape[0]))))


class RandomGaussianBlur(RandomFactorLayer):
    """With probability factor, blurs each image with a Gaussian of sigma drawn in (0, sigma]."""

    def __init__(self, factor: Any = 1.0, kernel_size: int = 3, sigma: float = 1.0, value_range: Any = (0, 255),
                 data_format: str | None = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)
        self.kernel_size, self.sigma = kernel_size, sigma

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch, height, width, channels = (int(d) for d in images.shape)
        dtype = B.dtype_of(images)
        sigma = B.maximum(self.uniform((batch,), 0.0, 1.0) * self.sigma, 1e-3)
        offsets = B.arange(self.kernel_size, dtype=dtype) - (self.kernel_size - 1) / 2.0
        taps = B.exp(-(B.reshape(offsets, (1, -1)) ** 2) / (2.0 * B.reshape(sigma, (-1, 1)) ** 2))
        taps = taps / B.sum(taps, axis=1, keepdims=True)  # (batch, k): one window per image
        kernel = B.einsum("bi,bj->ijb", taps, taps)
        kernel = B.reshape(B.repeat(B.reshape(kernel, (self.kernel_size, self.kernel_size, batch, 1)), channels,
                                    axis=3), (self.kernel_size, self.kernel_size, 1, batch * channels))
        stacked = B.reshape(B.transpose(images, (1, 2, 0, 3)), (1, height, width, batch * channels))
        blurred = B.conv(stacked, kernel, (1, 1), "same", (1, 1), groups=batch * channels)
        blurred = B.transpose(B.reshape(blurred, (height, width, batch, channels)), (2, 0, 1, 3))
        apply = self.uniform((batch,)) < self.bounds[1]
        return B.where(per_image(apply), blurred, images)

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size, "sigma": self.sigma}


class Solarization(ValueRangeLayer):
    """Adds a random amount (addition_factor of the range), then inverts the pixels above a random threshold."""

    random = True

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0, value_range: Any = (0, 255),
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(value_range, seed=seed, **kwargs)
        self.addition_factor, self.threshold_factor = addition_factor, threshold_factor
        self.addition_bounds = parse_factor(addition_factor, "Solarization addition_factor", 0.0, 1.0,
                                            symmetric=False)
        self.threshold_bounds = parse_factor(threshold_factor, "Solarization threshold_factor", 0.0, 1.0,
                                             symmetric=False)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch = int(images.shape[0])
        unit = B.clip(self.to_unit(images) + per_image(self.uniform((batch,), *self.addition_bounds)), 0.0, 1.0)
        threshold = per_image(1.0 - self.uniform((batch,), *self.threshold_bounds))
        return self.from_unit(B.where(unit >= threshold, 1.0 - unit, unit))

    def get_config(self) -> dict:
        return {**super().get_config(), "addition_factor": plain(self.addition_factor),
                "threshold_factor": plain(self.threshold_factor)}


class AutoContrast(ValueRangeLayer):
    """Stretches each channel of each image to span value_range (constant channels are kept)."""

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(value_range, **kwargs)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        low = B.min(images, axis=(1, 2), keepdims=True)
        high = B.max(images, axis=(1, 2), keepdims=True)
        spread = high - low
        stretched = (images - low) / B.where(spread > 0, spread, 1.0) * (self.high - self.low) + self.low
        return B.where(spread > 0, stretched, images)


class Equalization(ValueRangeLayer):
    """Equalizes the histogram (of `bins` bins) of each channel of each image."""

    def __init__(self, value_range: Any = (0, 255), bins: int = 256, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(value_range, data_format=data_format, **kwargs)
        self.bins = int(bins)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch, height, width, channels = (int(d) for d in images.shape)
        bins = self.bins
        index = B.cast(B.clip(B.floor(self.to_unit(images) * bins), 0, bins - 1), "int32")
        flat = B.reshape(B.transpose(index, (0, 3, 1, 2)), (batch, channels, height * width))
        counts = B.sum(B.one_hot(flat, bins, dtype=B.dtype_of(images)), axis=2)  # (batch, channels, bins)
        cdf = B.cumsum(counts, axis=2)
        first = B.min(B.where(counts > 0, cdf, float(height * width)), axis=2, keepdims=True)  # cdf at the lowest bin
        spread = float(height * width) - first
        lut = B.where(spread > 0, (cdf - first) / B.where(spread > 0, spread, 1.0), B.cast(B.arange(bins), B.dtype_of(images)) / (bins - 1))
        mapped = B.take_along_axis(lut, flat, axis=2)  # (batch, channels, pixels), in [0, 1]
        mapped = B.transpose(B.reshape(mapped, (batch, channels, height, width)), (0, 2, 3, 1))
        return self.from_unit(B.clip(mapped, 0.0, 1.0))

    def get_config(self) -> dict:
        return {**super().get_config(), "bins": self.bins}


class ContrastLimitedAdaptiveHistogramEqualization(ValueRangeLayer):
    """Equalizes each tile of a tile_grid_size grid with its histogram clipped at clip_limit times the mean
    bin count (the excess spread evenly), blending the tiles' mappings bilinearly between tile centres."""

    BINS = 256

    def __init__(self, value_range: Any = (0, 255), clip_limit: float = 4.0, tile_grid_size: Any = (8, 8),
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(value_range, data_format=data_format, **kwargs)
        if clip_limit <= 0:
            raise ValueError(f"ContrastLimitedAdaptiveHistogramEqualization clip_limit must be positive, "
                             f"got {clip_limit!r}.")
        self.clip_limit, self.tile_grid_size = float(clip_limit), tuple(int(t) for t in tile_grid_size)

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch, height, width, channels = (int(d) for d in images.shape)
        grid_h, grid_w = min(self.tile_grid_size[0], height), min(self.tile_grid_size[1], width)
        tile_h, tile_w = -(-height // grid_h), -(-width // grid_w)
        dtype, bins = B.dtype_of(images), self.BINS
        index = B.cast(B.clip(B.floor(self.to_unit(images) * bins), 0, bins - 1), "int32")  # (n, h, w, c)
        # Tiles cover the image padded by repeating its last rows and columns.
        padded = B.concatenate([index] + [index[:, -1:]] * (grid_h * tile_h - height), axis=1)
        padded = B.concatenate([padded] + [padded[:, :, -1:]] * (grid_w * tile_w - width), axis=2)
        tiles = B.reshape(padded, (batch, grid_h, tile_h, grid_w, tile_w, channels))
        tiles = B.reshape(B.transpose(tiles, (0, 5, 1, 3, 2, 4)), (batch, channels, grid_h * grid_w, tile_h * tile_w))
        counts = B.sum(B.one_hot(tiles, bins, dtype=dtype), axis=3)  # (n, c, tiles, bins)
        limit = max(self.clip_limit * tile_h * tile_w / bins, 1.0)
        excess = B.sum(B.maximum(counts - limit, 0.0), axis=3, keepdims=True)
        counts = B.minimum(counts, limit) + excess / bins
        lut = B.cumsum(counts, axis=3) / float(tile_h * tile_w)  # (n, c, tiles, bins), in [0, 1]
        lut = B.reshape(lut, (batch, channels, grid_h * grid_w * bins))
        # Each pixel blends the mappings of the four tiles whose centres surround it.
        rows = B.clip((B.arange(height, dtype=dtype) + 0.5) / tile_h - 0.5, 0.0, grid_h - 1.0)
        columns = B.clip((B.arange(width, dtype=dtype) + 0.5) / tile_w - 0.5, 0.0, grid_w - 1.0)
        row0, column0 = B.floor(rows), B.floor(columns)
        row_weight = B.reshape(rows - row0, (1, 1, height, 1))
        column_weight = B.reshape(columns - column0, (1, 1, 1, width))
        values = B.reshape(B.transpose(index, (0, 3, 1, 2)), (batch, channels, height * width))

        def mapped(tile_row: Any, tile_column: Any) -> Any:
            tile = B.reshape(tile_row, (height, 1)) * grid_w + B.reshape(tile_column, (1, width))
            position = B.reshape(B.cast(tile, "int32") * bins, (1, 1, height * width)) + values
            return B.reshape(B.take_along_axis(lut, position, axis=2), (batch, channels, height, width))

        row1, column1 = B.minimum(row0 + 1, grid_h - 1.0), B.minimum(column0 + 1, grid_w - 1.0)
        top = mapped(row0, column0) * (1 - column_weight) + mapped(row0, column1) * column_weight
        bottom = mapped(row1, column0) * (1 - column_weight) + mapped(row1, column1) * column_weight
        result = top * (1 - row_weight) + bottom * row_weight
        return self.from_unit(B.transpose(result, (0, 2, 3, 1)))

    def get_config(self) -> dict:
        return {**super().get_config(), "clip_limit": self.clip_limit, "tile_grid_size": list(self.tile_grid_size)}
