"""Images as Pillow objects and NumPy arrays: load_img, img_to_array, array_to_img, save_img."""

from __future__ import annotations

import io
import pathlib
import warnings
from typing import Any

import numpy as np

from lamina import backend
from lamina.config import standardize_data_format

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

COLOR_MODES = ("grayscale", "rgb", "rgba")


def require_pillow(caller: str) -> Any:
    """The PIL.Image module, or an ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(f"{caller} requires Pillow: install it with `pip install pillow` "
                          "(or the `image` extra of lamina).") from error
    return Image


def resampling_methods() -> dict[str, int]:
    """Pillow's resampling filters by the names load_img accepts."""
    image = require_pillow("load_img")
    filters = image.Resampling
    return {"nearest": filters.NEAREST, "bilinear": filters.BILINEAR, "bicubic": filters.BICUBIC,
            "hamming": filters.HAMMING, "box": filters.BOX, "lanczos": filters.LANCZOS}


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True, dtype: str | None = None) -> Any:
    """A PIL image from a (height, width, channels) array (channels first with data_format="channels_first").

    With `scale`, values are shifted and stretched so that the smallest is 0 and the largest 255.
    """
    data_format = standardize_data_format(data_format)
    image = require_pillow("array_to_img")
    x = np.array(x, dtype=dtype or backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: x must be a single image of rank 3, got an array of shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        peak = np.max(x)
        if peak != 0:
            x = x / peak
        x = x * 255
    channels = x.shape[2]
    if channels in (3, 4):
        return image.fromarray(x.astype("uint8"), "RGB" if channels == 3 else "RGBA")
    if channels == 1:
        if np.max(x) > 255:  # wider than 8 bits: Pillow's 32-bit integer mode
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: the image must have 1, 3 or 4 channels, got {channels} (shape {x.shape}).")


def img_to_array(img: Any, data_format: str | None = None, dtype: str | None = None) -> np.ndarray:
    """A PIL image as a (height, width, channels) array (channels first with data_format="channels_first")."""
    data_format = standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[:, :, None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"img_to_array: expected an image of rank 2 or 3, got shape {x.shape}.")
    return x


def save_img(path: Any, x: Any, data_format: str | None = None, file_format: str | None = None,
             scale: bool = True, **kwargs: Any) -> None:
    """Write an image array to `path` (format from the file's extension unless `file_format` is given)."""
    data_format = standardize_data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower() or None
    if file_format is not None and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("save_img: JPEG has no alpha channel; the RGBA image is converted to RGB.", UserWarning,
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def _open(path: Any, image: Any) -> Any:
    if isinstance(path, io.BytesIO):
        return image.open(path)
    if isinstance(path, pathlib.Path):
        path = str(path.resolve())
    if isinstance(path, (str, bytes)):
        with open(path, "rb") as file:
            return image.open(io.BytesIO(file.read()))
    raise TypeError(f"load_img: path must be a path (str, bytes, pathlib.Path) or an io.BytesIO, "
                    f"got {type(path).__name__}.")


def _convert(img: Any, color_mode: str) -> Any:
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    wanted = color_mode.upper()
    return img if img.mode == wanted else img.convert(wanted)


def center_crop_box(width: int, height: int, target_width: int, target_height: int) -> tuple[int, int, int, int]:
    """The largest centred (left, top, right, bottom) box with the target's aspect ratio."""
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    return left, top, left + crop_width, top + crop_height


def load_img(path: Any, color_mode: str = "rgb", target_size: tuple[int, int] | None = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False) -> Any:
    """Read an image file into a PIL image, converted to `color_mode` and resized to (height, width) if given.

    With `keep_aspect_ratio`, the largest centred crop with the target's aspect ratio is resized instead.
    """
    image = require_pillow("load_img")
    if color_mode not in COLOR_MODES:
        raise ValueError(f"load_img: color_mode must be one of {COLOR_MODES}, got {color_mode!r}.")
    img = _convert(_open(path, image), color_mode)
    if target_size is None:
        return img
    size = (int(target_size[1]), int(target_size[0]))
    if img.size == size:
        return img
    methods = resampling_methods()
    if interpolation not in methods:
        raise ValueError(f"load_img: interpolation must be one of {', '.join(methods)}, got {interpolation!r}.")
    box = center_crop_box(*img.size, *size) if keep_aspect_ratio else None
    return img.resize(size, methods[interpolation], box=box)
