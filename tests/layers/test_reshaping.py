"""Reshaping layers through check_layer (both data formats where they have one), against NumPy references."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from check import check_layer
from lamina import backend
from lamina.layers import (Cropping1D, Cropping2D, Cropping3D, Flatten, Permute, RepeatVector, Reshape, UpSampling1D,
                           UpSampling2D, UpSampling3D, ZeroPadding1D, ZeroPadding2D, ZeroPadding3D)


def first(reference):  # noqa: ANN001, ANN201
    """A channels_last reference turned into a channels_first one."""
    return lambda x, w: np.moveaxis(reference(np.moveaxis(x, 1, -1), w), -1, 1)


def in_format(shape: tuple, reference: Any, data_format: str) -> tuple[tuple, Any]:
    """The input shape and reference for data_format, from the channels_last ones."""
    if data_format == "channels_last":
        return shape, reference
    return (shape[0], shape[-1], *shape[1:-1]), first(reference)


def test_permute() -> None:
    check_layer(lambda: Permute((3, 1, 2)), (2, 3, 4, 5), lambda x, w: x.transpose(0, 3, 1, 2),
                expected_output_shape=(2, 5, 3, 4))


def test_repeat_vector() -> None:
    check_layer(lambda: RepeatVector(3), (2, 4), lambda x, w: np.repeat(x[:, None, :], 3, axis=1),
                expected_output_shape=(2, 3, 4))


def test_flatten_and_reshape() -> None:
    check_layer(lambda: Flatten(data_format="channels_first"), (2, 3, 4, 2),
                lambda x, w: x.transpose(0, 2, 3, 1).reshape(2, -1), expected_output_shape=(2, 24))
    check_layer(lambda: Reshape((4, -1)), (2, 3, 4), lambda x, w: x.reshape(2, 4, 3), expected_output_shape=(2, 4, 3))


def test_cropping_1d() -> None:
    check_layer(lambda: Cropping1D((1, 2)), (2, 7, 3), lambda x, w: x[:, 1:-2], expected_output_shape=(2, 4, 3))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cropping_2d_3d(data_format: str) -> None:
    shape, reference = in_format((2, 6, 5, 3), lambda x, w: x[:, 1:-2, 0:-1], data_format)
    check_layer(lambda: Cropping2D(((1, 2), (0, 1)), data_format=data_format), shape, reference)
    shape, reference = in_format((1, 4, 4, 5, 2), lambda x, w: x[:, 1:-1, 1:-1, 2:-2], data_format)
    check_layer(lambda: Cropping3D((1, 1, 2), data_format=data_format), shape, reference, train=False)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding(data_format: str) -> None:
    shape, reference = in_format((2, 4, 3), lambda x, w: np.pad(x, [(0, 0), (2, 1), (0, 0)]), data_format)
    check_layer(lambda: ZeroPadding1D((2, 1), data_format=data_format), shape, reference)
    shape, reference = in_format((2, 3, 4, 2), lambda x, w: np.pad(x, [(0, 0), (1, 1), (0, 2), (0, 0)]), data_format)
    check_layer(lambda: ZeroPadding2D(((1, 1), (0, 2)), data_format=data_format), shape, reference)
    shape, reference = in_format((1, 2, 3, 2, 2), lambda x, w: np.pad(x, [(0, 0), (1, 1), (1, 1), (1, 1), (0, 0)]),
                                 data_format)
    check_layer(lambda: ZeroPadding3D(1, data_format=data_format), shape, reference, train=False)


def test_upsampling_1d() -> None:
    check_layer(lambda: UpSampling1D(3), (2, 4, 3), lambda x, w: np.repeat(x, 3, axis=1),
                expected_output_shape=(2, 12, 3))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling_nearest(data_format: str) -> None:
    shape, reference = in_format((2, 3, 4, 2), lambda x, w: np.repeat(np.repeat(x, 2, axis=1), 3, axis=2),
                                 data_format)
    check_layer(lambda: UpSampling2D((2, 3), data_format=data_format), shape, reference)
    shape, reference = in_format((1, 2, 3, 2, 2), lambda x, w: np.repeat(np.repeat(x, 2, axis=1), 2, axis=3),
                                 data_format)
    check_layer(lambda: UpSampling3D((2, 1, 2), data_format=data_format), shape, reference, train=False)


def bilinear_reference(x: np.ndarray, scale: tuple[int, int]) -> np.ndarray:
    """channels_last: output cell j samples the input at (j + 0.5) / scale - 0.5, clamped to the edge cells."""
    output = x
    for axis, factor in ((1, scale[0]), (2, scale[1])):
        size = output.shape[axis]
        rows = []
        for j in range(size * factor):
            position = min(max((j + 0.5) / factor - 0.5, 0.0), size - 1)
            low = int(np.floor(position))
            high = min(low + 1, size - 1)
            t = position - low
            rows.append((1 - t) * np.take(output, low, axis=axis) + t * np.take(output, high, axis=axis))
        output = np.stack(rows, axis=axis)
    return output


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_upsampling_bilinear(data_format: str) -> None:
    shape, reference = in_format((2, 3, 4, 2), lambda x, w: bilinear_reference(x, (2, 3)), data_format)
    check_layer(lambda: UpSampling2D((2, 3), data_format=data_format, interpolation="bilinear"), shape, reference)


def test_bilinear_matches_the_backends_image_resize() -> None:
    """The same values as torch's interpolate (half-pixel centres, no corner alignment)."""
    import torch

    x = np.random.default_rng(0).standard_normal((1, 2, 3, 5)).astype("float32")
    expected = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=(2, 3), mode="bilinear",
                                               align_corners=False).numpy()
    with backend.use("numpy"):
        actual = UpSampling2D((2, 3), data_format="channels_first", interpolation="bilinear")(x)
    np.testing.assert_allclose(np.asarray(actual), expected, atol=1e-5)


def test_configs_keep_keras_keys() -> None:
    assert Cropping1D((1, 2)).get_config()["cropping"] == (1, 2)
    assert Cropping2D(1).get_config()["cropping"] == ((1, 1), (1, 1))
    assert ZeroPadding2D((1, 2)).get_config()["padding"] == ((1, 1), (2, 2))
    assert ZeroPadding1D(2).get_config()["padding"] == (2, 2)
    config = UpSampling2D(2, interpolation="bilinear").get_config()
    assert (config["size"], config["interpolation"], config["data_format"]) == ((2, 2), "bilinear", "channels_last")
    assert UpSampling1D(4).get_config()["size"] == 4
    assert Permute((2, 1)).get_config()["dims"] == (2, 1) and RepeatVector(3).get_config()["n"] == 3


@pytest.mark.parametrize("make,message", [
    (lambda: Permute((1, 3)), "Permute dims must be a permutation"),
    (lambda: RepeatVector(0), "RepeatVector n must be a positive integer"),
    (lambda: Cropping2D(((1, 2, 3), (0, 0))), "Cropping2D cropping"),
    (lambda: ZeroPadding3D((1, 1)), "ZeroPadding3D padding"),
    (lambda: UpSampling2D(interpolation="bicubic"), "interpolation must be 'nearest' or 'bilinear'"),
    (lambda: UpSampling3D(data_format="NCDHW"), "data_format must be 'channels_last' or 'channels_first'"),
])
def test_bad_arguments_are_named(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_cropping_more_than_the_input_is_refused() -> None:
    with backend.use("numpy"):
        with pytest.raises(ValueError, match="crops 3 \\+ 3 cells"):
            Cropping1D(3)(np.zeros((1, 5, 2), "float32"))


# --- masks: in Keras 3 no reshaping layer supports masking: a mask reaching one warns and stops there ------


@pytest.mark.parametrize("make,shape", [
    (Flatten, (2, 3, 2)), (lambda: Reshape((2, 3)), (2, 3, 2)), (lambda: Permute((2, 1)), (2, 3, 2)),
    (lambda: RepeatVector(2), (2, 3)), (Cropping1D, (2, 4, 2)), (ZeroPadding1D, (2, 3, 2)), (UpSampling1D, (2, 3, 2)),
], ids=["Flatten", "Reshape", "Permute", "RepeatVector", "Cropping1D", "ZeroPadding1D", "UpSampling1D"])
def test_reshaping_layers_drop_the_mask_with_a_warning(make: Any, shape: tuple) -> None:
    mask = np.random.default_rng(2).uniform(size=shape[:2]) > 0.4
    with pytest.warns(UserWarning, match="does not support masking"):
        check_layer(make, shape, input_mask=mask, expected_mask=None, train=False)
