"""Pooling layers through check_layer (both data formats), against NumPy poolings written with explicit loops."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from check import check_layer
from lamina import backend
from lamina.layers import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D, AdaptiveAveragePooling3D,
                           AdaptiveMaxPooling1D, AdaptiveMaxPooling2D, AdaptiveMaxPooling3D, AveragePooling1D,
                           AveragePooling2D, AveragePooling3D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                           GlobalAveragePooling3D, GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPool2D, MaxPooling1D,
                           MaxPooling2D, MaxPooling3D)


def pool_reference(x: np.ndarray, pool_size: tuple, strides: tuple, padding: str, mode: str) -> np.ndarray:
    """channels_last pooling; with 'same', padded cells count neither in the max nor in the average."""
    spatial = x.shape[1:-1]
    if padding == "same":
        out_sizes = [math.ceil(n / s) for n, s in zip(spatial, strides)]
        starts = [max((o - 1) * s + p - n, 0) // 2 for o, s, p, n in zip(out_sizes, strides, pool_size, spatial)]
    else:
        out_sizes = [(n - p) // s + 1 for n, p, s in zip(spatial, pool_size, strides)]
        starts = [0] * len(spatial)
    output = np.zeros((x.shape[0], *out_sizes, x.shape[-1]))
    for position in np.ndindex(*out_sizes):
        cells = tuple(slice(max(o * s - start, 0), o * s - start + p)
                      for o, s, start, p in zip(position, strides, starts, pool_size))
        window = x[(slice(None), *cells)].reshape(x.shape[0], -1, x.shape[-1])
        output[(slice(None), *position)] = window.max(axis=1) if mode == "max" else window.mean(axis=1)
    return output


@pytest.mark.parametrize("layer_class,mode", [(MaxPooling1D, "max"), (AveragePooling1D, "average")])
@pytest.mark.parametrize("pool_size,strides,padding,expected_steps", [
    (2, None, "valid", 3), (3, 1, "valid", 5), (3, 2, "same", 4), (2, None, "same", 4)])
def test_pooling_1d(layer_class: type, mode: str, pool_size: int, strides: int | None, padding: str,
                    expected_steps: int) -> None:
    steps = strides or pool_size
    check_layer(lambda: layer_class(pool_size, strides, padding), (2, 7, 3),
                lambda x, w: pool_reference(x, (pool_size,), (steps,), padding, mode),
                expected_output_shape=(2, expected_steps, 3), train=padding == "same" and strides == 2)


@pytest.mark.parametrize("layer_class,mode", [(MaxPooling2D, "max"), (AveragePooling2D, "average")])
@pytest.mark.parametrize("padding,expected", [("valid", (2, 3)), ("same", (3, 3))])
def test_pooling_2d(layer_class: type, mode: str, padding: str, expected: tuple) -> None:
    check_layer(lambda: layer_class(padding=padding), (2, 5, 6, 2),
                lambda x, w: pool_reference(x, (2, 2), (2, 2), padding, mode),
                expected_output_shape=(2, *expected, 2))


@pytest.mark.parametrize("layer_class,mode", [(MaxPooling3D, "max"), (AveragePooling3D, "average")])
def test_pooling_3d(layer_class: type, mode: str) -> None:
    check_layer(lambda: layer_class((2, 2, 1), strides=1), (1, 3, 3, 2, 2),
                lambda x, w: pool_reference(x, (2, 2, 1), (1, 1, 1), "valid", mode),
                expected_output_shape=(1, 2, 2, 2, 2))


@pytest.mark.parametrize("layer_class,reduce", [
    (GlobalMaxPooling1D, np.max), (GlobalAveragePooling1D, np.mean)])
def test_global_pooling_1d(layer_class: type, reduce: np.ufunc) -> None:
    check_layer(layer_class, (2, 5, 3), lambda x, w: reduce(x, axis=1), expected_output_shape=(2, 3))


@pytest.mark.parametrize("layer_class,reduce", [
    (GlobalMaxPooling2D, np.max), (GlobalAveragePooling2D, np.mean)])
def test_global_pooling_2d_keepdims(layer_class: type, reduce: np.ufunc) -> None:
    check_layer(lambda: layer_class(keepdims=True), (2, 4, 3, 3), lambda x, w: reduce(x, axis=(1, 2), keepdims=True),
                expected_output_shape=(2, 1, 1, 3))


def test_short_alias_and_config() -> None:
    layer = MaxPool2D(pool_size=3, strides=(1, 2))
    assert isinstance(layer, MaxPooling2D)
    config = layer.get_config()
    assert (config["pool_size"], config["strides"], config["padding"]) == ((3, 3), (1, 2), "valid")
    assert MaxPooling2D().get_config()["strides"] == (2, 2)  # strides default to pool_size


@pytest.mark.parametrize("arguments,message", [
    ({"padding": "causal"}, "padding must be 'valid' or 'same'"),
    ({"pool_size": (2, 2, 2)}, "pool_size"),
    ({"strides": -1}, "strides"),
    ({"data_format": "NCHW"}, "data_format must be 'channels_last' or 'channels_first'"),
])
def test_bad_arguments_are_named(arguments: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MaxPooling2D(**arguments)


def test_global_average_pooling_1d_leaves_masked_steps_out(training_backend: str) -> None:
    B = backend.impl
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[True, True, False, True, False], [False, True, True, True, True]])
    outputs = B.convert_to_numpy(GlobalAveragePooling1D()(B.convert_to_tensor(x), mask=B.convert_to_tensor(mask)))
    expected = np.stack([x[i][mask[i]].mean(axis=0) for i in range(2)])
    np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def test_global_average_pooling_1d_drops_the_mask() -> None:
    mask = np.array([[True, False, True, True], [False, True, True, False]])
    check_layer(GlobalAveragePooling1D, (2, 4, 3), input_mask=mask, expected_mask=None, train=False)


@pytest.mark.parametrize("layer_class,shape", [(GlobalMaxPooling1D, (2, 5, 3)), (GlobalAveragePooling2D, (2, 5, 3, 2)),
                                               (MaxPooling1D, (2, 5, 3))])
def test_poolings_without_mask_support_warn_and_ignore_the_mask(training_backend: str, layer_class: type,
                                                                 shape: tuple) -> None:
    """As Keras 3: only GlobalAveragePooling1D supports masking; the others pool every step and drop the mask."""
    B = backend.impl
    x = B.convert_to_tensor(np.random.default_rng(0).standard_normal(shape).astype("float32"))
    mask = B.convert_to_tensor(np.random.default_rng(1).uniform(size=shape[:-1]) > 0.5)
    with pytest.warns(UserWarning, match="does not support masking"):
        masked = layer_class()(x, mask=mask)
    np.testing.assert_array_equal(B.convert_to_numpy(masked), B.convert_to_numpy(layer_class()(x)))


def first(reference):  # noqa: ANN001, ANN201
    """A channels_last reference turned into a channels_first one."""
    return lambda x, w: np.moveaxis(reference(np.moveaxis(x, 1, -1), w), -1, 1)


@pytest.mark.parametrize("layer_class,mode", [(MaxPooling2D, "max"), (AveragePooling2D, "average")])
@pytest.mark.parametrize("padding,expected", [("valid", (2, 2)), ("same", (3, 3))])
def test_pooling_2d_channels_first(layer_class: type, mode: str, padding: str, expected: tuple) -> None:
    check_layer(lambda: layer_class(3, 2, padding=padding, data_format="channels_first"), (2, 3, 5, 6),
                first(lambda x, w: pool_reference(x, (3, 3), (2, 2), padding, mode)),
                expected_output_shape=(2, 3, *expected))


@pytest.mark.parametrize("layer_class,mode", [(MaxPooling1D, "max"), (AveragePooling3D, "average")])
def test_pooling_1d_3d_channels_first(layer_class: type, mode: str) -> None:
    rank = 1 if layer_class is MaxPooling1D else 3
    shape = (2, 2, 7) if rank == 1 else (1, 2, 3, 4, 3)
    check_layer(lambda: layer_class(2, padding="same", data_format="channels_first"), shape,
                first(lambda x, w: pool_reference(x, (2,) * rank, (2,) * rank, "same", mode)))


@pytest.mark.parametrize("layer_class,reduce,keepdims", [(GlobalMaxPooling2D, np.max, False),
                                                         (GlobalAveragePooling3D, np.mean, True)])
def test_global_pooling_channels_first(layer_class: type, reduce: Any, keepdims: bool) -> None:
    shape = (2, 3, 4, 5) if layer_class is GlobalMaxPooling2D else (2, 3, 2, 3, 2)
    axes = tuple(range(2, len(shape)))
    check_layer(lambda: layer_class(data_format="channels_first", keepdims=keepdims), shape,
                lambda x, w: reduce(x, axis=axes, keepdims=keepdims))


def test_global_pooling_1d_channels_first_with_a_mask() -> None:
    with backend.use("torch") as B:
        x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype("float32")
        mask = np.array([[True, True, False, True, False], [False, True, True, True, True]])
        outputs = B.convert_to_numpy(GlobalAveragePooling1D(data_format="channels_first")(
            B.convert_to_tensor(x), mask=B.convert_to_tensor(mask)))
        expected = np.stack([x[i][:, mask[i]].mean(axis=1) for i in range(2)])
        np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def adaptive_reference(x: np.ndarray, output_size: tuple, mode: str) -> np.ndarray:
    """channels_last: output cell i of an axis of n cells pools input cells floor(i n / out) .. ceil((i+1) n / out)."""
    spatial = x.shape[1:-1]
    output = np.zeros((x.shape[0], *output_size, x.shape[-1]))
    for position in np.ndindex(*output_size):
        cells = tuple(slice(math.floor(i * n / o), math.ceil((i + 1) * n / o))
                      for i, n, o in zip(position, spatial, output_size))
        window = x[(slice(None), *cells)].reshape(x.shape[0], -1, x.shape[-1])
        output[(slice(None), *position)] = window.max(axis=1) if mode == "max" else window.mean(axis=1)
    return output


@pytest.mark.parametrize("layer_class,mode,shape,output_size,data_format", [
    (AdaptiveAveragePooling1D, "average", (2, 7, 3), 3, "channels_first"),
    (AdaptiveMaxPooling1D, "max", (2, 7, 3), 4, "channels_last"),
    (AdaptiveAveragePooling2D, "average", (2, 5, 7, 2), (3, 4), "channels_last"),
    (AdaptiveMaxPooling2D, "max", (2, 5, 6, 2), (2, 4), "channels_first"),
    (AdaptiveAveragePooling3D, "average", (1, 4, 3, 5, 2), (2, 2, 3), "channels_first"),
    (AdaptiveMaxPooling3D, "max", (1, 3, 4, 3, 2), 2, "channels_last")])
def test_adaptive_pooling(layer_class: type, mode: str, shape: tuple, output_size: Any, data_format: str) -> None:
    rank = len(shape) - 2
    sizes = (output_size,) * rank if isinstance(output_size, int) else output_size

    def reference(x: np.ndarray, w: list) -> np.ndarray:
        return adaptive_reference(x, sizes, mode)

    if data_format == "channels_first":
        shape, reference = (shape[0], shape[-1], *shape[1:-1]), first(reference)
    check_layer(lambda: layer_class(output_size, data_format=data_format), shape, reference)


def test_adaptive_pooling_config() -> None:
    layer = AdaptiveMaxPooling2D((3, 2), data_format="channels_first")
    config = layer.get_config()
    assert (config["output_size"], config["data_format"]) == ((3, 2), "channels_first")
    with pytest.raises(ValueError, match="output_size"):
        AdaptiveAveragePooling2D((3, 2, 1))
