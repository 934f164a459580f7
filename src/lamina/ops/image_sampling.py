"""Building blocks of the image ops: layouts, interpolation weights, and sampling at arbitrary points."""

from __future__ import annotations

import itertools
import math
from typing import Any, Sequence

from lamina import backend

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def data_format_of(data_format: str | None) -> str:
    """The data format to use: the configured image_data_format unless given."""
    if data_format is None:
        from lamina.config import image_data_format

        return image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}.")
    return data_format


def check_fill_mode(fill_mode: str) -> None:
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {', '.join(map(repr, FILL_MODES))}, got {fill_mode!r}.")


def as_batched_last(images: Any, data_format: str | None, what: str) -> tuple[Any, bool, bool]:
    """Images of rank 3 or 4 as (batch, height, width, channels), with whether they were batched and
    channels_first."""
    B = backend.impl
    channels_first = data_format_of(data_format) == "channels_first"
    rank = len(images.shape)
    if rank not in (3, 4):
        raise ValueError(f"{what} expects images of rank 3 (unbatched) or 4 (batched), got shape "
                         f"{tuple(images.shape)}.")
    x = images if rank == 4 else B.expand_dims(images, 0)
    if channels_first:
        x = B.transpose(x, (0, 2, 3, 1))
    return x, rank == 4, channels_first


def from_batched_last(x: Any, batched: bool, channels_first: bool) -> Any:
    """Undo as_batched_last."""
    if channels_first:
        x = backend.impl.transpose(x, (0, 3, 1, 2))
    return x if batched else x[0]


def channel_axis(x: Any, data_format: str | None, what: str) -> int:
    """The channel axis of images of any rank >= 3, checked to hold 3 channels."""
    rank = len(x.shape)
    if rank < 3:
        raise ValueError(f"{what} expects images of rank 3 or more, got shape {tuple(x.shape)}.")
    axis = rank - 3 if data_format_of(data_format) == "channels_first" else rank - 1
    if int(x.shape[axis]) != 3:
        raise ValueError(f"{what} expects 3 (RGB) channels on axis {axis}, got shape {tuple(x.shape)}.")
    return axis


# --- resizing weights ----------------------------------------------------------------------------------


def nearest_indices(in_size: int, out_size: int) -> Any:
    """The input index each output index copies: the pixel holding the output pixel's centre."""
    B = backend.impl
    centres = (B.arange(out_size, dtype="float32") + 0.5) * (in_size / out_size)
    return B.cast(B.clip(B.floor(centres), 0, in_size - 1), "int32")


def _kernel(name: str, distance: Any) -> Any:
    """Interpolation kernel at (non-negative) distances, in units of the input grid."""
    B = backend.impl
    if name == "linear":
        return B.maximum(1.0 - distance, 0.0)
    if name == "cubic":  # Keys' cubic with a = -0.5
        near = ((1.5 * distance - 2.5) * distance) * distance + 1.0
        far = ((-0.5 * distance + 2.5) * distance - 4.0) * distance + 2.0
        return B.where(distance <= 1.0, near, B.where(distance < 2.0, far, 0.0))
    radius = 3.0 if name == "lanczos3" else 5.0
    safe = B.where(distance > 0, distance, 1.0)
    sinc = B.sin(math.pi * safe) * B.sin(math.pi * safe / radius) * radius / (math.pi * math.pi * safe * safe)
    return B.where(distance < radius, B.where(distance > 0, sinc, 1.0), 0.0)


def resize_weights(in_size: int, out_size: int, scale: Any, translation: Any, kernel: str, antialias: bool,
                   dtype: Any) -> Any:
    """(in_size, out_size) weights: output i is the weighted sum of the inputs at its sample point
    (i + 0.5 - translation) / scale - 0.5, each column normalised to sum 1 over the inputs in range."""
    B = backend.impl
    positions = (B.arange(out_size, dtype=dtype) + 0.5 - translation) / scale - 0.5  # (out,)
    inputs = B.reshape(B.arange(in_size, dtype=dtype), (in_size, 1))
    # The footprint of one output pixel on the input grid (wider than one cell when downscaling).
    footprint = max(1.0 / scale, 1.0) if isinstance(scale, (int, float)) else B.maximum(1.0 / scale, 1.0)
    offsets = inputs - B.reshape(positions, (1, out_size))
    if kernel == "area":  # the overlap of each input cell with the footprint
        half = footprint / 2.0
        weights = B.maximum(B.minimum(offsets + 0.5, half) - B.maximum(offsets - 0.5, -half), 0.0)
    else:  # antialiasing stretches the kernel over the footprint
        weights = _kernel(kernel, B.abs(offsets) / (footprint if antialias else 1.0))
    total = B.sum(weights, axis=0, keepdims=True)
    weights = B.where(B.abs(total) > 1e-6, weights / B.where(B.abs(total) > 1e-6, total, 1.0), 0.0)
    inside = B.logical_and(positions >= -0.5, positions <= in_size - 0.5)
    return B.where(B.reshape(inside, (1, out_size)), weights, 0.0)


def gaussian_kernel_1d(size: int, sigma: Any, dtype: Any) -> Any:
    """A normalised Gaussian window of `size` taps."""
    B = backend.impl
    offsets = B.arange(size, dtype=dtype) - (size - 1) / 2.0
    weights = B.exp(-(offsets * offsets) / (2.0 * sigma * sigma))
    return weights / B.sum(weights)


# --- sampling ------------------------------------------------------------------------------------------


def _fold(index: Any, size: int, mode: str) -> tuple[Any, Any]:
    """Integer-valued float positions folded into [0, size) by the fill mode; and, for "constant", which
    positions were inside (None otherwise)."""
    B = backend.impl
    if mode == "constant":
        inside = B.logical_and(index >= 0, index <= size - 1)
        return B.clip(index, 0, size - 1), inside
    if mode == "nearest":
        return B.clip(index, 0, size - 1), None
    if mode == "wrap":
        return index - B.floor(index / size) * size, None
    if mode == "reflect":  # d c b a | a b c d | d c b a
        period = 2 * size
        folded = index - B.floor(index / period) * period
        return B.where(folded >= size, period - 1 - folded, folded), None
    if size == 1:  # mirror: d c b | a b c d | c b a
        return index * 0, None
    period = 2 * (size - 1)
    folded = index - B.floor(index / period) * period
    return B.where(folded >= size, period - folded, folded), None


def sample(x: Any, coordinates: Sequence[Any], exact: Sequence[bool], order: int, mode: str,
           fill_value: float) -> Any:
    """x (*sizes, *features) read at the points `coordinates` (one float array per leading axis of x, all
    broadcastable to one shape S): (*S, *features). Order 0 takes the nearest cell, order 1 interpolates
    linearly between the 2^d corners; `exact` marks axes whose coordinates are already integers."""
    B = backend.impl
    dims = len(coordinates)
    sizes = [int(n) for n in x.shape[:dims]]
    features = tuple(int(n) for n in x.shape[dims:])
    flat = B.reshape(x, (-1, *features))
    # Per axis: the corner positions and their weights (None: weight 1).
    corners: list[list[tuple[Any, Any]]] = []
    for c, is_exact in zip(coordinates, exact):
        if is_exact:
            corners.append([(c, None)])
        elif order == 0:
            corners.append([(B.floor(c + 0.5), None)])
        else:
            low = B.floor(c)
            fraction = c - low
            corners.append([(low, 1.0 - fraction), (low + 1.0, fraction)])
    result = None
    for choice in itertools.product(*corners):
        index, weight, inside = None, None, None
        for (position, axis_weight), size, stride in zip(choice, sizes, _strides(sizes)):
            folded, axis_inside = _fold(position, size, mode)
            term = folded * stride
            index = term if index is None else index + term
            if axis_weight is not None:
                weight = axis_weight if weight is None else weight * axis_weight
            if axis_inside is not None:
                inside = axis_inside if inside is None else B.logical_and(inside, axis_inside)
        values = B.take(flat, B.cast(index, "int32"), axis=0)  # (*S, *features)
        if inside is not None:
            values = B.where(_expand(inside, len(features)), values, fill_value)
        if weight is not None:
            values = values * _expand(weight, len(features))
        result = values if result is None else result + values
    return result


def _strides(sizes: Sequence[int]) -> list[int]:
    strides, step = [], 1
    for size in reversed(sizes):
        strides.append(step)
        step *= size
    return strides[::-1]


def _expand(x: Any, count: int) -> Any:
    """x with `count` trailing axes of size 1 (to broadcast over the feature axes)."""
    return backend.impl.reshape(x, (*x.shape, *(1,) * count)) if count else x


def sample_images(x: Any, rows: Any, columns: Any, order: int, mode: str, fill_value: float) -> Any:
    """(batch, height, width, channels) images read at float positions rows, columns (batch, out_h, out_w)."""
    B = backend.impl
    batch = B.reshape(B.arange(int(x.shape[0]), dtype=B.dtype_of(rows)), (-1, 1, 1))
    shape = tuple(int(d) for d in B.shape(rows + columns + batch))
    rows, columns, batch = (B.broadcast_to(t, shape) for t in (rows, columns, batch))
    return sample(x, [batch, rows, columns], [True, False, False], order, mode, fill_value)


def transformed_grid(transform: Any, height: int, width: int) -> tuple[Any, Any]:
    """The input positions (rows, columns), each (batch, height, width), that the output pixels of
    projective transforms (batch, 8) read."""
    B = backend.impl
    dtype = B.dtype_of(transform)
    ys = B.reshape(B.arange(height, dtype=dtype), (1, height, 1))
    xs = B.reshape(B.arange(width, dtype=dtype), (1, 1, width))
    a0, a1, a2, b0, b1, b2, c0, c1 = (B.reshape(transform[:, i], (-1, 1, 1)) for i in range(8))
    k = c0 * xs + c1 * ys + 1.0
    return (b0 * xs + b1 * ys + b2) / k, (a0 * xs + a1 * ys + a2) / k


# --- homographies --------------------------------------------------------------------------------------


def _square_to_quad(points: Any) -> list[Any]:
    """The 3x3 projective maps (9 arrays of shape (batch,)) taking the unit square's corners
    (0, 0), (1, 0), (1, 1), (0, 1) to the four points (batch, 4, 2)."""
    x0, x1, x2, x3 = (points[:, i, 0] for i in range(4))
    y0, y1, y2, y3 = (points[:, i, 1] for i in range(4))
    sx, sy = x0 - x1 + x2 - x3, y0 - y1 + y2 - y3
    dx1, dx2, dy1, dy2 = x1 - x2, x3 - x2, y1 - y2, y3 - y2
    denominator = dx1 * dy2 - dx2 * dy1
    g = (sx * dy2 - dx2 * sy) / denominator
    h = (dx1 * sy - sx * dy1) / denominator
    one = g * 0 + 1.0
    return [x1 - x0 + g * x1, x3 - x0 + h * x3, x0, y1 - y0 + g * y1, y3 - y0 + h * y3, y0, g, h, one]


def _inverse(m: list[Any]) -> list[Any]:
    """The adjugate of a 3x3 matrix (a scalar multiple of its inverse, enough for a projective map)."""
    a, b, c, d, e, f, g, h, i = m
    return [e * i - f * h, c * h - b * i, b * f - c * e,
            f * g - d * i, a * i - c * g, c * d - a * f,
            d * h - e * g, b * g - a * h, a * e - b * d]


def _product(p: list[Any], q: list[Any]) -> list[Any]:
    return [sum(p[3 * r + k] * q[3 * k + c] for k in range(3)) for r in range(3) for c in range(3)]


def homography(source: Any, target: Any) -> Any:
    """Transforms (batch, 8) in affine_transform's layout mapping each source quad (batch, 4, 2) onto the
    target quad."""
    m = _product(_square_to_quad(target), _inverse(_square_to_quad(source)))
    return backend.impl.stack([m[k] / m[8] for k in range(8)], axis=-1)
