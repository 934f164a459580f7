"""Affine resampling of image batches for ImageDataGenerator, in NumPy (SciPy for spline orders above 1).

Matrices map output pixel coordinates (row, column, 1) to input coordinates, as
`scipy.ndimage.affine_transform` reads them; fill modes are SciPy's: constant, nearest, reflect, wrap.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FILL_MODES", "affine_matrix", "apply_affine_batch", "apply_affine_transform", "apply_channel_shift",
           "flip_axis", "random_channel_shift", "random_rotation", "random_shear", "random_shift", "random_zoom"]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """x reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


def affine_matrix(theta: float, tx: float, ty: float, shear: float, zx: float, zy: float, height: int,
                  width: int, swap: bool = True) -> np.ndarray | None:
    """The 3x3 (row, column) matrix of Keras 2's rotation, shift, shear and zoom about the centre; None: identity.

    Angles are in degrees; tx shifts rows and ty columns (in pixels), zx and zy zoom rows and columns.
    """
    parts = []
    if theta != 0:
        angle = np.deg2rad(theta)
        parts.append(np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]]))
    if tx != 0 or ty != 0:
        parts.append(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]], dtype=float))
    if shear != 0:
        angle = np.deg2rad(shear)
        parts.append(np.array([[1, -np.sin(angle), 0], [0, np.cos(angle), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        parts.append(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]], dtype=float))
    if not parts:
        return None
    matrix = parts[0]
    for part in parts[1:]:
        matrix = matrix @ part
    # About the centre, built with the rows' centre first and the columns' second (as Keras 2 does) ...
    centre_a, centre_b = height / 2 - 0.5, width / 2 - 0.5
    to_centre = np.array([[1, 0, centre_a], [0, 1, centre_b], [0, 0, 1]])
    from_centre = np.array([[1, 0, -centre_a], [0, 1, -centre_b], [0, 0, 1]])
    matrix = to_centre @ matrix @ from_centre
    # ... then with the two spatial coordinates swapped, as Keras 2 does before resampling (when the column
    # axis follows the row axis, as it always does in an image).
    return matrix[[1, 0, 2]][:, [1, 0, 2]] if swap else matrix


def _fold(index: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Integer sample positions mapped into [0, size) by the fill mode (constant: clamped, masked later)."""
    if mode == "reflect":
        period = 2 * size
        index = np.mod(index, period)
        return np.where(index >= size, period - 1 - index, index)
    return np.clip(index, 0, size - 1)  # wrap: coordinates already folded


def _wrap(coords: np.ndarray, size: int) -> np.ndarray:
    """SciPy's 'wrap' mode: coordinates outside [0, size - 1] fold with period size - 1."""
    if size < 2:
        return np.zeros_like(coords)
    inside = (coords >= 0) & (coords <= size - 1)
    return np.where(inside, coords, np.mod(coords, size - 1))


def _numpy_affine(images: np.ndarray, matrices: np.ndarray, mode: str, cval: float, order: int) -> np.ndarray:
    count, height, width, _ = images.shape
    rows, cols = np.meshgrid(np.arange(height, dtype=float), np.arange(width, dtype=float), indexing="ij")
    grid = np.stack([rows, cols, np.ones_like(rows)])  # (3, H, W)
    source = np.einsum("nij,jhw->nihw", matrices[:, :2], grid)  # (N, 2, H, W)
    src_r, src_c = source[:, 0], source[:, 1]
    if mode == "wrap":
        src_r, src_c = _wrap(src_r, height), _wrap(src_c, width)
    batch = np.arange(count)[:, None, None]
    if order == 0:
        r = _fold(np.floor(src_r + 0.5).astype(int), height, mode)
        c = _fold(np.floor(src_c + 0.5).astype(int), width, mode)
        out = images[batch, r, c]
    else:
        r0, c0 = np.floor(src_r), np.floor(src_c)
        wr, wc = (src_r - r0)[..., None], (src_c - c0)[..., None]
        r0, c0 = r0.astype(int), c0.astype(int)
        ra, rb = _fold(r0, height, mode), _fold(r0 + 1, height, mode)
        ca, cb = _fold(c0, width, mode), _fold(c0 + 1, width, mode)
        top = images[batch, ra, ca] * (1 - wc) + images[batch, ra, cb] * wc
        bottom = images[batch, rb, ca] * (1 - wc) + images[batch, rb, cb] * wc
        out = top * (1 - wr) + bottom * wr
    if mode == "constant":
        tolerance = 1e-6
        outside = ((src_r < -tolerance) | (src_r > height - 1 + tolerance) | (src_c < -tolerance)
                   | (src_c > width - 1 + tolerance))
        out = np.where(outside[..., None], cval, out)
    return out.astype(images.dtype)


def apply_affine_batch(images: np.ndarray, matrices: np.ndarray, fill_mode: str = "nearest", cval: float = 0.0,
                       order: int = 1) -> np.ndarray:
    """Resample (N, H, W, C) images, each with its (3, 3) matrix.

    Orders 0 (nearest) and 1 (linear) run in NumPy over the whole batch (the same values as SciPy's);
    higher spline orders need SciPy.
    """
    if order in (0, 1):
        return _numpy_affine(images, matrices, fill_mode, cval, order)
    try:
        from scipy import ndimage
    except ImportError as error:
        raise ImportError(f"interpolation_order={order} needs SciPy (`pip install scipy`); orders 0 and 1 "
                          "work without it.") from error
    out = np.empty_like(images)
    for i, (image, matrix) in enumerate(zip(images, matrices)):
        # One call per image: the channel axis is mapped to itself.
        full = np.eye(3)
        full[:2, :2] = matrix[:2, :2]
        offset = np.array([matrix[0, 2], matrix[1, 2], 0.0])
        out[i] = ndimage.affine_transform(image, full, offset, order=order, mode=fill_mode, cval=cval)
    return out


# --- Keras 2's single-image functions (their axes default to channels first: channel 0, rows 1, columns 2) ---


def apply_affine_transform(x: np.ndarray, theta: float = 0, tx: float = 0, ty: float = 0, shear: float = 0,
                           zx: float = 1, zy: float = 1, row_axis: int = 1, col_axis: int = 2, channel_axis: int = 0,
                           fill_mode: str = "nearest", cval: float = 0.0, order: int = 1) -> np.ndarray:
    """One rank-3 image rotated (degrees), shifted, sheared and zoomed about its centre."""
    x = np.asarray(x)
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError("row_axis, col_axis and channel_axis must be 0, 1 and 2 in some order, got "
                         f"{row_axis}, {col_axis} and {channel_axis}.")
    if x.ndim != 3:
        raise ValueError(f"apply_affine_transform takes one image of rank 3, got shape {x.shape}.")
    if channel_axis not in (0, 2):
        raise ValueError(f"channel_axis must be the first (0) or last (2) axis, got {channel_axis}.")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"fill_mode must be one of {FILL_MODES}, got {fill_mode!r}.")
    height, width = x.shape[row_axis], x.shape[col_axis]
    matrix = affine_matrix(theta, tx, ty, shear, zx, zy, height, width, swap=col_axis > row_axis)
    if matrix is None:
        return x
    image = np.transpose(x, (row_axis, col_axis, channel_axis))
    out = apply_affine_batch(image[None], matrix[None], fill_mode, cval, order)[0]
    return np.transpose(out, np.argsort((row_axis, col_axis, channel_axis)))


def apply_channel_shift(x: np.ndarray, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """Every channel shifted by `intensity`, clipped to the image's own range."""
    x = np.asarray(x)
    return np.clip(x + intensity, np.min(x), np.max(x))


def random_channel_shift(x: np.ndarray, intensity_range: float, channel_axis: int = 0) -> np.ndarray:
    return apply_channel_shift(x, np.random.uniform(-intensity_range, intensity_range), channel_axis)


def _random_affine(x: np.ndarray, row_axis: int, col_axis: int, channel_axis: int, fill_mode: str, cval: float,
                   interpolation_order: int, **parameters: float) -> np.ndarray:
    return apply_affine_transform(x, row_axis=row_axis, col_axis=col_axis, channel_axis=channel_axis,
                                  fill_mode=fill_mode, cval=cval, order=interpolation_order, **parameters)


def random_rotation(x: np.ndarray, rg: float, row_axis: int = 1, col_axis: int = 2, channel_axis: int = 0,
                    fill_mode: str = "nearest", cval: float = 0.0, interpolation_order: int = 1) -> np.ndarray:
    """Rotated by an angle drawn uniformly in [-rg, rg] degrees."""
    return _random_affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                          theta=np.random.uniform(-rg, rg))


def random_shift(x: np.ndarray, wrg: float, hrg: float, row_axis: int = 1, col_axis: int = 2, channel_axis: int = 0,
                 fill_mode: str = "nearest", cval: float = 0.0, interpolation_order: int = 1) -> np.ndarray:
    """Shifted by fractions drawn uniformly in [-hrg, hrg] of the height and [-wrg, wrg] of the width."""
    tx = np.random.uniform(-hrg, hrg) * x.shape[row_axis]
    ty = np.random.uniform(-wrg, wrg) * x.shape[col_axis]
    return _random_affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, tx=tx, ty=ty)


def random_shear(x: np.ndarray, intensity: float, row_axis: int = 1, col_axis: int = 2, channel_axis: int = 0,
                 fill_mode: str = "nearest", cval: float = 0.0, interpolation_order: int = 1) -> np.ndarray:
    """Sheared by an angle drawn uniformly in [-intensity, intensity] degrees."""
    return _random_affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order,
                          shear=np.random.uniform(-intensity, intensity))


def random_zoom(x: np.ndarray, zoom_range: tuple[float, float], row_axis: int = 1, col_axis: int = 2,
                channel_axis: int = 0, fill_mode: str = "nearest", cval: float = 0.0,
                interpolation_order: int = 1) -> np.ndarray:
    """Zoomed by factors drawn uniformly in zoom_range, one for rows and one for columns."""
    if len(zoom_range) != 2:
        raise ValueError(f"zoom_range must be a pair of floats, got {zoom_range!r}.")
    zx, zy = (1, 1) if zoom_range[0] == 1 and zoom_range[1] == 1 else np.random.uniform(*zoom_range, 2)
    return _random_affine(x, row_axis, col_axis, channel_axis, fill_mode, cval, interpolation_order, zx=zx, zy=zy)
