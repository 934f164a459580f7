"""Input preprocessing for ImageNet models and decoding their predictions into class names."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from lamina import backend, ops

CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
_CLASS_INDEX: dict[str, list[str]] | None = None

_CAFFE_MEAN = (103.939, 116.779, 123.68)  # BGR
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
MODES = ("caffe", "tf", "torch")


def preprocess_input(x: Any, data_format: str | None = None, mode: str = "caffe") -> Any:
    """Scale a batch of RGB images in [0, 255] as an ImageNet model expects.

    mode="caffe": RGB to BGR and each channel centred on ImageNet's mean, unscaled; "tf": scaled to [-1, 1];
    "torch": scaled to [0, 1], then normalized by ImageNet's mean and standard deviation per channel.
    NumPy float arrays are changed in place (as in Keras); tensors give a new tensor.
    """
    if mode not in MODES:
        raise ValueError(f"`mode` must be one of 'caffe', 'tf' or 'torch'. Received: mode={mode!r}")
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError("`data_format` must be 'channels_first' or 'channels_last'. "
                         f"Received: data_format={data_format!r}")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy(x, data_format, mode)
    return _preprocess_tensor(x, data_format, mode)


def _channel_shape(ndim: int, data_format: str) -> tuple[int, ...]:
    """Shape that broadcasts a per-channel vector against an image (3D) or a batch (4D or more)."""
    if data_format == "channels_last":
        return (1,) * (ndim - 1) + (3,)
    if ndim == 3:
        return (3, 1, 1)
    return (1, 3) + (1,) * (ndim - 2)


def _flip_channels(x: Any, data_format: str, take: Any) -> Any:
    if data_format == "channels_last":
        return take(x, -1)
    return take(x, 0 if len(x.shape) == 3 else 1)


def _preprocess_numpy(x: np.ndarray, data_format: str, mode: str) -> np.ndarray:
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = _flip_channels(x, data_format, lambda a, axis: np.flip(a, axis=axis))
        mean, std = _CAFFE_MEAN, None
    shape = _channel_shape(x.ndim, data_format)
    x -= np.reshape(np.asarray(mean, dtype=x.dtype), shape)
    if std is not None:
        x /= np.reshape(np.asarray(std, dtype=x.dtype), shape)
    return x


def _preprocess_tensor(x: Any, data_format: str, mode: str) -> Any:
    x = ops.convert_to_tensor(x)
    if not backend.standardize_dtype(x.dtype).startswith(("float", "bfloat")):
        x = ops.cast(x, backend.floatx())
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0
        mean, std = _TORCH_MEAN, _TORCH_STD
    else:
        x = _flip_channels(x, data_format, lambda a, axis: ops.flip(a, axis=axis))
        mean, std = _CAFFE_MEAN, None
    shape = _channel_shape(len(x.shape), data_format)
    x = x - ops.reshape(ops.convert_to_tensor(np.asarray(mean), dtype=x.dtype), shape)
    if std is not None:
        x = x / ops.reshape(ops.convert_to_tensor(np.asarray(std), dtype=x.dtype), shape)
    return x


def _class_index() -> dict[str, list[str]]:
    global _CLASS_INDEX
    if _CLASS_INDEX is None:
        from lamina.applications import _common

        path = _common.fetch("imagenet_class_index.json", CLASS_INDEX_PATH, CLASS_INDEX_HASH)
        with open(path, encoding="utf-8") as file:
            _CLASS_INDEX = json.load(file)
    return _CLASS_INDEX


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The `top` classes of each prediction, as (class id, class name, score), best first."""
    preds = np.asarray(ops.convert_to_numpy(preds))
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (a 2D array of shape "
                         f"(samples, 1000)). Received an array of shape {preds.shape}")
    index = _class_index()
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[-top:][::-1]
        rows = [(*index[str(i)], pred[i]) for i in best]
        rows.sort(key=lambda row: row[2], reverse=True)
        results.append([tuple(row) for row in rows])
    return results
