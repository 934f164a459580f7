"""load_img, img_to_array, array_to_img and save_img against Pillow and NumPy."""

from __future__ import annotations

import io
import pathlib

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")

from lamina.utils import array_to_img, img_to_array, load_img, save_img  # noqa: E402


def pixels(height: int = 6, width: int = 8, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, (height, width, channels)).astype("uint8")


def test_img_to_array_is_float32_with_a_channel_axis_in_either_format() -> None:
    rgb, gray = Image.fromarray(pixels()), Image.fromarray(pixels()[:, :, 0], "L")
    x = img_to_array(rgb)
    assert x.dtype == np.float32 and x.shape == (6, 8, 3)
    np.testing.assert_array_equal(x, pixels())
    assert img_to_array(rgb, data_format="channels_first").shape == (3, 6, 8)
    assert img_to_array(gray).shape == (6, 8, 1) and img_to_array(gray, "channels_first").shape == (1, 6, 8)
    assert img_to_array(rgb, dtype="uint8").dtype == np.uint8


def test_array_to_img_scales_to_0_255_unless_told_not_to() -> None:
    x = np.linspace(-1.0, 3.0, 6 * 8 * 3).reshape(6, 8, 3)
    img = array_to_img(x)
    assert img.mode == "RGB" and img.size == (8, 6)
    expected = ((x - x.min()) / (x.max() - x.min()) * 255).astype("float32").astype("uint8")
    np.testing.assert_array_equal(np.asarray(img), expected)
    np.testing.assert_array_equal(np.asarray(array_to_img(pixels(), scale=False)), pixels())
    assert array_to_img(pixels(channels=4), scale=False).mode == "RGBA"
    assert array_to_img(pixels(channels=1), scale=False).mode == "L"
    assert array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    channels_first = array_to_img(pixels().transpose(2, 0, 1), data_format="channels_first", scale=False)
    np.testing.assert_array_equal(np.asarray(channels_first), pixels())


@pytest.mark.parametrize("x, match", [(np.zeros((4, 4)), "rank 3"), (np.zeros((4, 4, 2)), "channels")])
def test_array_to_img_rejects_bad_shapes(x: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        array_to_img(x)


def test_save_and_load_round_trip(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "a.png"
    save_img(path, pixels(), scale=False)
    img = load_img(path)
    assert img.mode == "RGB" and img.size == (8, 6)
    np.testing.assert_array_equal(img_to_array(img), pixels())
    gray = load_img(str(path), color_mode="grayscale")
    np.testing.assert_array_equal(np.asarray(gray), np.asarray(Image.fromarray(pixels()).convert("L")))
    assert load_img(path, color_mode="rgba").mode == "RGBA"
    buffer = io.BytesIO(path.read_bytes())
    np.testing.assert_array_equal(np.asarray(load_img(buffer)), pixels())


def test_save_img_jpg_extension_and_rgba_warning(tmp_path: pathlib.Path) -> None:
    with pytest.warns(UserWarning, match="RGBA"):
        save_img(tmp_path / "b.jpg", pixels(channels=4), scale=False)
    assert Image.open(tmp_path / "b.jpg").format == "JPEG"
    buffer = io.BytesIO()
    save_img(buffer, pixels(), file_format="png", scale=False)
    assert Image.open(buffer).format == "PNG"


def test_load_img_resizes_with_the_chosen_filter_and_keeps_aspect_ratio(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "c.png"
    Image.fromarray(pixels(10, 20)).save(path)
    resized = load_img(path, target_size=(5, 7), interpolation="bilinear")
    expected = Image.fromarray(pixels(10, 20)).resize((7, 5), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(np.asarray(resized), np.asarray(expected))
    # keep_aspect_ratio: the centred 10x10 crop of the 10x20 image, resized to 5x5 (nearest takes every 2nd pixel)
    square = load_img(path, target_size=(5, 5), keep_aspect_ratio=True)
    np.testing.assert_array_equal(np.asarray(square), pixels(10, 20)[1::2, 6:16:2])


@pytest.mark.parametrize("kwargs, error, match", [({"color_mode": "cmyk"}, ValueError, "color_mode"),
                                                  ({"target_size": (3, 3), "interpolation": "cubic"}, ValueError,
                                                   "interpolation")])
def test_load_img_bad_arguments_are_named(tmp_path: pathlib.Path, kwargs: dict, error: type, match: str) -> None:
    path = tmp_path / "d.png"
    Image.fromarray(pixels()).save(path)
    with pytest.raises(error, match=match):
        load_img(path, **kwargs)
    with pytest.raises(TypeError, match="path"):
        load_img(3)
