"""keras.ops.image: resizing, affine transforms, crops and colour conversions.

Every op here is written once from backend ops, so the three backends compute the same numbers:
resizing is two matrix products with interpolation weights built on the device (any kernel, antialiased
or not), and warps (affine, perspective, elastic, map_coordinates) gather the corner pixels of each
sample point in one indexed read. Images are handled as (batch, height, width, channels) inside.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.ops.dispatch import as_tensor, family_getattr
from lamina.ops import image_sampling as sampling
from lamina.ops.image_sampling import (as_batched_last, check_fill_mode, data_format_of, from_batched_last,
                                       sample_images)

# Ops the backend provides under the same name (see lamina.backend.contract).
NAMES: tuple[str, ...] = ()
# Ops written here from other ops.
COMPOSED = ("affine_transform", "crop_images", "elastic_transform", "extract_patches", "extract_patches_3d",
            "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images", "perspective_transform", "resize",
            "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate", "sobel_edges", "ssim")

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)

INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def _check_choice(value: Any, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, choices))}, got {value!r}.")


def _float_like(x: Any) -> tuple[Any, Any]:
    """x in a float dtype, and a function that casts a result back (rounded) to x's own dtype."""
    B = backend.impl
    dtype = B.dtype_of(x)
    if dtype in ("float16", "bfloat16", "float32", "float64"):
        return x, lambda y: y
    return B.cast(x, "float32"), lambda y: B.cast(B.round(y), dtype)


# --- resizing --------------------------------------------------------------------------------


def resize(images: Any, size: Sequence[int], interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False, fill_mode: str = "constant",
           fill_value: float = 0.0, data_format: str | None = None) -> Any:
    """Resize images to size (height, width); optionally crop or pad to the target aspect ratio first."""
    _check_choice(interpolation, INTERPOLATIONS, "resize interpolation")
    if len(tuple(size)) != 2:
        raise ValueError(f"resize size must be (height, width), got {size!r}.")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize takes only one of crop_to_aspect_ratio and pad_to_aspect_ratio, got both True.")
    if fill_mode != "constant":
        raise ValueError(f"resize fill_mode must be 'constant' (used with pad_to_aspect_ratio), got {fill_mode!r}.")
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "resize")
    height, width = int(size[0]), int(size[1])
    if crop_to_aspect_ratio:
        x = _crop_to_aspect(x, height, width)
    elif pad_to_aspect_ratio:
        x = _pad_to_aspect(x, height, width, fill_value)
    x = _resize_last(x, height, width, interpolation, antialias)
    return from_batched_last(x, batched, channels_first)


def _crop_to_aspect(x: Any, height: int, width: int) -> Any:
    """The largest centred window of x with the aspect ratio height:width."""
    in_height, in_width = int(x.shape[1]), int(x.shape[2])
    crop_height = max(min(in_height, int(in_width * height / width)), 1)
    crop_width = max(min(in_width, int(in_height * width / height)), 1)
    top, left = (in_height - crop_height) // 2, (in_width - crop_width) // 2
    return x[:, top:top + crop_height, left:left + crop_width, :]


def _pad_to_aspect(x: Any, height: int, width: int, fill_value: float) -> Any:
    """x centred in the smallest window with the aspect ratio height:width, padded with fill_value."""
    in_height, in_width = int(x.shape[1]), int(x.shape[2])
    pad_height = max(in_height, int(in_width * height / width))
    pad_width = max(in_width, int(in_height * width / height))
    top, left = (pad_height - in_height) // 2, (pad_width - in_width) // 2
    widths = ((0, 0), (top, pad_height - in_height - top), (left, pad_width - in_width - left), (0, 0))
    return backend.impl.pad(x, widths, constant_values=fill_value)


def _resize_last(x: Any, height: int, width: int, interpolation: str, antialias: bool) -> Any:
    """Resize (batch, height, width, channels) images."""
    B = backend.impl
    in_height, in_width = int(x.shape[1]), int(x.shape[2])
    if (in_height, in_width) == (height, width):
        return x
    if interpolation == "nearest":
        rows = sampling.nearest_indices(in_height, height)
        columns = sampling.nearest_indices(in_width, width)
        return B.take(B.take(x, rows, axis=1), columns, axis=2)
    x, restore = _float_like(x)
    dtype = B.dtype_of(x)
    kernel = {"bilinear": "linear", "bicubic": "cubic"}.get(interpolation, interpolation)
    rows = sampling.resize_weights(in_height, height, height / in_height, 0.0, kernel, antialias, dtype)
    columns = sampling.resize_weights(in_width, width, width / in_width, 0.0, kernel, antialias, dtype)
    x = B.einsum("nhwc,ho->nowc", x, rows)
    return restore(B.einsum("nhwc,wo->nhoc", x, columns))


def scale_and_translate(images: Any, output_shape: Sequence[int], scale: Any, translation: Any,
                        spatial_dims: Sequence[int], method: str, antialias: bool = True) -> Any:
    """Resample the spatial_dims of images: output pixel i samples input point (i + 0.5 - translation) / scale - 0.5."""
    kernels = {"linear": "linear", "bilinear": "linear", "trilinear": "linear", "cubic": "cubic",
               "bicubic": "cubic", "tricubic": "cubic", "lanczos3": "lanczos3", "lanczos5": "lanczos5"}
    _check_choice(method, tuple(kernels), "scale_and_translate method")
    B = backend.impl
    x, restore = _float_like(as_tensor(images))
    rank = len(x.shape)
    letters = "abcdefghijklmnopqrstuvwxyz"[:rank]
    scale, translation = B.convert_to_tensor(scale, B.dtype_of(x)), B.convert_to_tensor(translation, B.dtype_of(x))
    for index, axis in enumerate(spatial_dims):
        axis = axis % rank
        weights = sampling.resize_weights(int(x.shape[axis]), int(output_shape[axis]), scale[index],
                                          translation[index], kernels[method], antialias, B.dtype_of(x))
        result = letters[:axis] + "Z" + letters[axis + 1:]
        x = B.einsum(f"{letters},{letters[axis]}Z->{result}", x, weights)
    return restore(x)


# --- crops and pads ----------------------------------------------------------------------------


def _two_of(before: int | None, after: int | None, target: int | None, size: int, what: str,
            sign: int) -> tuple[int, int]:
    """(before, after) from any two of before, after and the target size (sign -1 crops, +1 pads)."""
    if target is None:
        return int(before or 0), int(after or 0)
    change = sign * (int(target) - size)
    if before is not None and after is not None and before + after != change:
        raise ValueError(f"{what}: {before} + {after} does not take size {size} to the target {target}.")
    if before is None and after is None:
        before = 0
    before = change - after if before is None else before
    after = change - before
    if before < 0 or after < 0:
        raise ValueError(f"{what}: the target size {target} cannot be reached from {size} "
                         f"(that would need {before} before and {after} after).")
    return int(before), int(after)


def crop_images(images: Any, top_cropping: int | None = None, left_cropping: int | None = None,
                bottom_cropping: int | None = None, right_cropping: int | None = None,
                target_height: int | None = None, target_width: int | None = None,
                data_format: str | None = None) -> Any:
    """Crop images by rows and columns from each side, or to a target size."""
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "crop_images")
    height, width = int(x.shape[1]), int(x.shape[2])
    top, bottom = _two_of(top_cropping, bottom_cropping, target_height, height, "crop_images height", -1)
    left, right = _two_of(left_cropping, right_cropping, target_width, width, "crop_images width", -1)
    if top + bottom >= height or left + right >= width:
        raise ValueError(f"crop_images removes {top + bottom} of {height} rows and {left + right} of {width} "
                         "columns: nothing would be left.")
    x = x[:, top:height - bottom, left:width - right, :]
    return from_batched_last(x, batched, channels_first)


def pad_images(images: Any, top_padding: int | None = None, left_padding: int | None = None,
               bottom_padding: int | None = None, right_padding: int | None = None,
               target_height: int | None = None, target_width: int | None = None,
               data_format: str | None = None) -> Any:
    """Pad images with zeros on each side, or to a target size."""
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "pad_images")
    height, width = int(x.shape[1]), int(x.shape[2])
    top, bottom = _two_of(top_padding, bottom_padding, target_height, height, "pad_images height", 1)
    left, right = _two_of(left_padding, right_padding, target_width, width, "pad_images width", 1)
    x = backend.impl.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    return from_batched_last(x, batched, channels_first)


# --- warps ---------------------------------------------------------------------------------------


def _order_of(interpolation: str) -> int:
    _check_choice(interpolation, ("nearest", "bilinear"), "interpolation")
    return 0 if interpolation == "nearest" else 1


def affine_transform(images: Any, transform: Any, interpolation: str = "bilinear", fill_mode: str = "constant",
                     fill_value: float = 0, data_format: str | None = None) -> Any:
    """Warp images by projective transforms [a0, a1, a2, b0, b1, b2, c0, c1] (one, or one per image).

    Output pixel (x, y) samples the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k),
    k = c0 x + c1 y + 1.
    """
    order = _order_of(interpolation)
    check_fill_mode(fill_mode)
    B = backend.impl
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "affine_transform")
    transform = backend.impl.convert_to_tensor(transform)
    if len(transform.shape) == 1:
        transform = B.expand_dims(transform, 0)
    if len(transform.shape) != 2 or int(transform.shape[-1]) != 8:
        raise ValueError(f"affine_transform transform must have shape (8,) or (batch, 8), got {tuple(transform.shape)}.")
    x, restore = _float_like(x)
    rows, columns = sampling.transformed_grid(B.cast(transform, B.dtype_of(x)), int(x.shape[1]), int(x.shape[2]))
    x = restore(sample_images(x, rows, columns, order, fill_mode, fill_value))
    return from_batched_last(x, batched, channels_first)


def map_coordinates(inputs: Any, coordinates: Any, order: int, fill_mode: str = "constant",
                    fill_value: float = 0.0) -> Any:
    """inputs sampled at coordinates (one array of positions per axis of inputs), spline order 0 or 1."""
    if order not in (0, 1):
        raise ValueError(f"map_coordinates order must be 0 or 1, got {order!r}.")
    check_fill_mode(fill_mode)
    B = backend.impl
    x, restore = _float_like(as_tensor(inputs))
    coordinates = [B.cast(B.convert_to_tensor(c), B.dtype_of(x)) for c in coordinates]
    if len(coordinates) != len(x.shape):
        raise ValueError(f"map_coordinates needs one coordinate array per axis of inputs ({len(x.shape)}), "
                         f"got {len(coordinates)}.")
    return restore(sampling.sample(x, coordinates, [False] * len(coordinates), order, fill_mode, fill_value))


def perspective_transform(images: Any, start_points: Any, end_points: Any, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: str | None = None) -> Any:
    """Warp images so that the four start_points (x, y) land on the four end_points."""
    B = backend.impl
    start, end = B.convert_to_tensor(start_points), B.convert_to_tensor(end_points)
    for name, points in (("start_points", start), ("end_points", end)):
        if tuple(points.shape[-2:]) != (4, 2) or len(points.shape) not in (2, 3):
            raise ValueError(f"perspective_transform {name} must have shape (4, 2) or (batch, 4, 2), "
                             f"got {tuple(points.shape)}.")
    start = B.cast(start if len(start.shape) == 3 else B.expand_dims(start, 0), "float32")
    end = B.cast(end if len(end.shape) == 3 else B.expand_dims(end, 0), "float32")
    transform = sampling.homography(end, start)  # output (end) pixels read the input at start
    return affine_transform(images, transform, interpolation, "constant", fill_value, data_format)


def elastic_transform(images: Any, alpha: float = 20.0, sigma: float = 5.0, interpolation: str = "bilinear",
                      fill_mode: str = "reflect", fill_value: float = 0.0, seed: Any = None,
                      data_format: str | None = None) -> Any:
    """Displace every pixel by a smooth random field: uniform noise, Gaussian-blurred (sigma), times alpha."""
    order = _order_of(interpolation)
    check_fill_mode(fill_mode)
    B = backend.impl
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "elastic_transform")
    x, restore = _float_like(x)
    batch, height, width = (int(d) for d in x.shape[:3])
    dtype = B.dtype_of(x)
    noise = B.random_uniform((batch, height, width, 2), -1.0, 1.0, dtype=dtype, seed=seed)
    size = int(6 * sigma) | 1
    field = _blur_last(noise, (size, size), (sigma, sigma)) * alpha
    grid_rows = B.reshape(B.arange(height, dtype=dtype), (1, height, 1))
    grid_columns = B.reshape(B.arange(width, dtype=dtype), (1, 1, width))
    x = sample_images(x, grid_rows + field[..., 0], grid_columns + field[..., 1], order, fill_mode, fill_value)
    return from_batched_last(restore(x), batched, channels_first)


# --- filters and patches -------------------------------------------------------------------------


def _pair(value: Any, what: str) -> tuple:
    if isinstance(value, (int, float)):
        return (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"{what} must be a number or a pair, got {value!r}.")
    return value


def gaussian_blur(images: Any, kernel_size: Any = (3, 3), sigma: Any = (1.0, 1.0),
                  data_format: str | None = None) -> Any:
    """Blur each channel with a Gaussian kernel of kernel_size (height, width) and sigma (y, x); zero padding."""
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "gaussian_blur")
    x, restore = _float_like(x)
    kernel_size = tuple(int(k) for k in _pair(kernel_size, "gaussian_blur kernel_size"))
    x = _blur_last(x, kernel_size, _pair(sigma, "gaussian_blur sigma"))
    return from_batched_last(restore(x), batched, channels_first)


def _blur_last(x: Any, kernel_size: tuple[int, int], sigma: Any) -> Any:
    """Depthwise Gaussian blur of (batch, height, width, channels), zero "same" padding."""
    B = backend.impl
    dtype, channels = B.dtype_of(x), int(x.shape[-1])
    rows = sampling.gaussian_kernel_1d(kernel_size[0], sigma[0], dtype)
    columns = sampling.gaussian_kernel_1d(kernel_size[1], sigma[1], dtype)
    kernel = B.reshape(B.einsum("i,j->ij", rows, columns), (*kernel_size, 1, 1))
    kernel = B.tile(kernel, (1, 1, 1, channels))  # (kh, kw, 1, channels): one filter per channel
    return B.conv(x, kernel, (1, 1), "same", (1, 1), groups=channels)


def ssim(image1: Any, image2: Any, max_val: float, filter_size: int = 11, filter_sigma: float = 1.5,
         k1: float = 0.01, k2: float = 0.03, data_format: str | None = None) -> Any:
    """Structural similarity of two batches of images under a Gaussian window (no padding): one value per image."""
    B = backend.impl
    x, batched, _ = as_batched_last(as_tensor(image1), data_format, "ssim")
    y, _, _ = as_batched_last(as_tensor(image2), data_format, "ssim")
    if tuple(x.shape) != tuple(y.shape):
        raise ValueError(f"ssim needs images of one shape, got {tuple(x.shape)} and {tuple(y.shape)}.")
    x, _ = _float_like(x)
    y = B.cast(y, B.dtype_of(x))
    channels = int(x.shape[-1])
    taps = sampling.gaussian_kernel_1d(filter_size, filter_sigma, B.dtype_of(x))
    kernel = B.tile(B.reshape(B.einsum("i,j->ij", taps, taps), (filter_size, filter_size, 1, 1)),
                    (1, 1, 1, channels))

    def local_mean(z: Any) -> Any:
        return B.conv(z, kernel, (1, 1), "valid", (1, 1), groups=channels)

    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mean_x, mean_y = local_mean(x), local_mean(y)
    variance_x = local_mean(x * x) - mean_x * mean_x
    variance_y = local_mean(y * y) - mean_y * mean_y
    covariance = local_mean(x * y) - mean_x * mean_y
    index = ((2.0 * mean_x * mean_y + c1) * (2.0 * covariance + c2)
             / ((mean_x * mean_x + mean_y * mean_y + c1) * (variance_x + variance_y + c2)))
    result = B.mean(index, axis=(1, 2, 3))
    return result if batched else result[0]


def sobel_edges(images: Any, data_format: str | None = None) -> Any:
    """Sobel gradients [dy, dx] per channel on a new last axis (edges mirrored)."""
    B = backend.impl
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "sobel_edges")
    x, _ = _float_like(x)
    height, width = int(x.shape[1]), int(x.shape[2])
    x = B.concatenate([x[:, 1:2], x, x[:, height - 2:height - 1]], axis=1)  # mirror one row each side
    x = B.concatenate([x[:, :, 1:2], x, x[:, :, width - 2:width - 1]], axis=2)

    def at(dy: int, dx: int) -> Any:
        return x[:, dy:dy + height, dx:dx + width]

    dy = (at(2, 0) + 2 * at(2, 1) + at(2, 2)) - (at(0, 0) + 2 * at(0, 1) + at(0, 2))
    dx = (at(0, 2) + 2 * at(1, 2) + at(2, 2)) - (at(0, 0) + 2 * at(1, 0) + at(2, 0))
    edges = B.stack([dy, dx], axis=-1)  # (batch, height, width, channels, 2)
    if channels_first:
        edges = B.transpose(edges, (0, 3, 1, 2, 4))
    return edges if batched else edges[0]


def _patches(x: Any, size: Sequence[int], strides: Sequence[int], dilation: Sequence[int], padding: str) -> Any:
    """Patches of (batch, *spatial, channels): (batch, *positions, prod(size) * channels), window-major."""
    B = backend.impl
    rank = len(size)
    spatial = [int(d) for d in x.shape[1:1 + rank]]
    if padding == "same":
        widths = []
        for n, k, s, d in zip(spatial, size, strides, dilation):
            total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
            widths.append((total // 2, total - total // 2))
        x = B.pad(x, ((0, 0), *widths, (0, 0)))
        spatial = [n + a + b for n, (a, b) in zip(spatial, widths)]
    counts = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(spatial, size, strides, dilation)]
    if min(counts) < 1:
        raise ValueError(f"extract_patches: a window of size {tuple(size)} (dilation {tuple(dilation)}) does not "
                         f"fit in images of spatial size {tuple(spatial)}.")
    pieces = []
    for offsets in np.ndindex(*size):
        index = tuple(slice(o * d, o * d + (c - 1) * s + 1, s)
                      for o, d, c, s in zip(offsets, dilation, counts, strides))
        pieces.append(x[(slice(None), *index)])
    patches = B.stack(pieces, axis=-2)  # (batch, *counts, window cells, channels)
    return B.reshape(patches, (int(x.shape[0]), *counts, -1))


def _patch_arguments(size: Any, strides: Any, dilation_rate: Any, padding: str, rank: int,
                     what: str) -> tuple[tuple[int, ...], ...]:
    _check_choice(padding, ("valid", "same"), f"{what} padding")

    def tuple_of(value: Any, name: str) -> tuple[int, ...]:
        value = (value,) * rank if isinstance(value, int) else tuple(int(v) for v in value)
        if len(value) != rank or min(value) < 1:
            raise ValueError(f"{what} {name} must be a positive int or {rank} of them, got {value!r}.")
        return value

    size = tuple_of(size, "size")
    return size, tuple_of(size if strides is None else strides, "strides"), tuple_of(dilation_rate, "dilation_rate")


def extract_patches(images: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                    data_format: str | None = None) -> Any:
    """Patches of size (height, width) as vectors on the channel axis, ordered (row, column, channel)."""
    size, strides, dilation = _patch_arguments(size, strides, dilation_rate, padding, 2, "extract_patches")
    x, batched, channels_first = as_batched_last(as_tensor(images), data_format, "extract_patches")
    return from_batched_last(_patches(x, size, strides, dilation, padding), batched, channels_first)


def extract_patches_3d(volumes: Any, size: Any, strides: Any = None, dilation_rate: Any = 1, padding: str = "valid",
                       data_format: str | None = None) -> Any:
    """Patches of size (depth, height, width) of volumes as vectors on the channel axis."""
    B = backend.impl
    size, strides, dilation = _patch_arguments(size, strides, dilation_rate, padding, 3, "extract_patches_3d")
    x = as_tensor(volumes)
    rank = len(x.shape)
    if rank not in (4, 5):
        raise ValueError(f"extract_patches_3d expects volumes of rank 4 or 5, got shape {tuple(x.shape)}.")
    batched = rank == 5
    x = x if batched else B.expand_dims(x, 0)
    channels_first = data_format_of(data_format) == "channels_first"
    if channels_first:
        x = B.transpose(x, (0, 2, 3, 4, 1))
    x = _patches(x, size, strides, dilation, padding)
    if channels_first:
        x = B.transpose(x, (0, 4, 1, 2, 3))
    return x if batched else x[0]


# --- colour ------------------------------------------------------------------------------------------

_GRAY = (0.2989, 0.5870, 0.1140)


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> Any:
    """Luma of RGB images, keeping a channel axis of size 1."""
    B = backend.impl
    x = as_tensor(images)
    axis = sampling.channel_axis(x, data_format, "rgb_to_grayscale")
    x, restore = _float_like(x)
    weights = B.convert_to_tensor(np.asarray(_GRAY, np.float32), B.dtype_of(x))
    shape = [1] * len(x.shape)
    shape[axis] = 3
    return restore(B.sum(x * B.reshape(weights, shape), axis=axis, keepdims=True))


def rgb_to_hsv(images: Any, data_format: str | None = None) -> Any:
    """RGB (floats in [0, 1]) to hue, saturation, value, each in [0, 1]."""
    B = backend.impl
    x = as_tensor(images)
    axis = sampling.channel_axis(x, data_format, "rgb_to_hsv")
    red, green, blue = (B.take(x, i, axis=axis) for i in range(3))
    value = B.maximum(B.maximum(red, green), blue)
    spread = value - B.minimum(B.minimum(red, green), blue)
    saturation = B.where(value > 0, spread / B.where(value > 0, value, 1.0), 0.0)
    safe = B.where(spread > 0, spread, 1.0)
    hue = B.where(value == red, (green - blue) / safe,
                  B.where(value == green, (blue - red) / safe + 2.0, (red - green) / safe + 4.0))
    hue = B.where(spread > 0, hue / 6.0, 0.0)
    hue = B.where(hue < 0, hue + 1.0, hue)
    return B.stack([hue, saturation, value], axis=axis)


def hsv_to_rgb(images: Any, data_format: str | None = None) -> Any:
    """Hue, saturation, value (each in [0, 1]) to RGB."""
    B = backend.impl
    x = as_tensor(images)
    axis = sampling.channel_axis(x, data_format, "hsv_to_rgb")
    hue, saturation, value = (B.take(x, i, axis=axis) for i in range(3))
    sector = hue * 6.0
    red = B.clip(B.abs(sector - 3.0) - 1.0, 0.0, 1.0)
    green = B.clip(2.0 - B.abs(sector - 2.0), 0.0, 1.0)
    blue = B.clip(2.0 - B.abs(sector - 4.0), 0.0, 1.0)
    return B.stack([((1.0 - saturation) + saturation * c) * value for c in (red, green, blue)], axis=axis)
