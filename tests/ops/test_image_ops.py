"""keras.ops.image: values against NumPy references and jax's own image functions, the same on every backend."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from lamina import backend
from lamina.ops import image

BACKENDS = ("torch", "jax", "numpy")
RNG = np.random.default_rng(0)
IMAGES = RNG.random((2, 7, 9, 3)).astype("float32")


def on_every_backend(function, *args, backends=BACKENDS, **kwargs) -> np.ndarray:
    """function's result on each backend, checked equal across them; returned as NumPy."""
    results = []
    for name in backends:
        with backend.use(name):
            if name == "jax":  # one compilation instead of one per op
                import jax

                result = jax.jit(lambda first: function(first, *args[1:], **kwargs))(args[0])
            else:
                result = function(*args, **kwargs)
            results.append(np.asarray(backend.impl.convert_to_numpy(result)))
    for name, result in zip(backends[1:], results[1:]):
        np.testing.assert_allclose(result, results[0], atol=2e-5, err_msg=f"{name} against torch")
    return results[0]


def on_numpy(function, *args, **kwargs) -> np.ndarray:
    """function's result on the numpy backend (the other backends compute the same: see the tests above)."""
    return on_every_backend(function, *args, backends=("numpy",), **kwargs)


def test_the_backends_agree_on_every_interpolation_and_fill_mode():
    for interpolation in ("nearest", "bicubic", "lanczos3", "area"):
        on_every_backend(image.resize, IMAGES, (4, 11), interpolation=interpolation, antialias=True)
    transform = np.array([[1.1, 0.2, -1.0, -0.1, 0.9, 0.5, 0.01, 0.02]] * 2, "float32")
    for fill_mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
        on_every_backend(image.affine_transform, IMAGES, transform, fill_mode=fill_mode, fill_value=0.3)


def bilinear_reference(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Half-pixel-centre bilinear resize, written per output pixel."""
    batch, in_height, in_width, channels = x.shape
    out = np.zeros((batch, height, width, channels))
    for i in range(height):
        for j in range(width):
            y = min(max((i + 0.5) * in_height / height - 0.5, 0.0), in_height - 1)
            xx = min(max((j + 0.5) * in_width / width - 0.5, 0.0), in_width - 1)
            y0, x0 = int(np.floor(y)), int(np.floor(xx))
            y1, x1 = min(y0 + 1, in_height - 1), min(x0 + 1, in_width - 1)
            dy, dx = y - y0, xx - x0
            out[:, i, j] = ((1 - dy) * (1 - dx) * x[:, y0, x0] + (1 - dy) * dx * x[:, y0, x1]
                            + dy * (1 - dx) * x[:, y1, x0] + dy * dx * x[:, y1, x1])
    return out


@pytest.mark.parametrize("size", [(13, 17), (4, 5), (7, 3)])
def test_bilinear_resize_matches_the_numpy_reference(size):
    np.testing.assert_allclose(on_every_backend(image.resize, IMAGES, size), bilinear_reference(IMAGES, *size),
                               atol=1e-5)


@pytest.mark.parametrize("interpolation,method", [("nearest", "nearest"), ("bicubic", "cubic"),
                                                  ("lanczos3", "lanczos3"), ("lanczos5", "lanczos5")])
@pytest.mark.parametrize("antialias", [False, True])
def test_resize_interpolations_match_jax_image_resize(interpolation, method, antialias):
    import jax

    for size in ((4, 5), (11, 14)):
        expected = np.asarray(jax.image.resize(IMAGES, (2, *size, 3), method=method, antialias=antialias))
        actual = on_numpy(image.resize, IMAGES, size, interpolation=interpolation, antialias=antialias)
        np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_area_resize_averages_blocks_and_channels_first_and_unbatched_agree():
    x = RNG.random((1, 6, 8, 2)).astype("float32")
    expected = x.reshape(1, 3, 2, 4, 2, 2).mean(axis=(2, 4))
    np.testing.assert_allclose(on_every_backend(image.resize, x, (3, 4), interpolation="area"), expected, atol=1e-6)
    first = on_every_backend(image.resize, x.transpose(0, 3, 1, 2), (5, 3), data_format="channels_first")
    last = on_every_backend(image.resize, x[0], (5, 3))
    np.testing.assert_allclose(first[0].transpose(1, 2, 0), last, atol=1e-6)


def test_resize_crop_and_pad_to_aspect_ratio():
    x = np.arange(4 * 8, dtype="float32").reshape(1, 4, 8, 1)
    cropped = on_every_backend(image.resize, x, (4, 4), crop_to_aspect_ratio=True)
    np.testing.assert_array_equal(cropped, x[:, :, 2:6])  # the centred square, no resampling needed
    padded = on_every_backend(image.resize, x, (8, 8), pad_to_aspect_ratio=True, fill_value=-1.0,
                              interpolation="nearest")
    np.testing.assert_array_equal(padded[0, :2, :, 0], -1.0)
    np.testing.assert_array_equal(padded[0, 2:6], x[0])
    with pytest.raises(ValueError, match="interpolation"):
        image.resize(x, (2, 2), interpolation="cubic")


def test_crop_and_pad_images():
    cropped = on_every_backend(image.crop_images, IMAGES, top_cropping=1, left_cropping=2, target_height=4,
                               target_width=5)
    np.testing.assert_array_equal(cropped, IMAGES[:, 1:5, 2:7])
    padded = on_every_backend(image.pad_images, IMAGES, 1, 2, bottom_padding=3, right_padding=0)
    np.testing.assert_array_equal(padded, np.pad(IMAGES, ((0, 0), (1, 3), (2, 0), (0, 0))))
    with pytest.raises(ValueError, match="target"):
        image.pad_images(IMAGES, target_height=3)


def test_affine_transform_translation_and_fill_modes():
    x = np.arange(5 * 6, dtype="float32").reshape(1, 5, 6, 1)
    shift = np.array([1, 0, 2, 0, 1, 1, 0, 0], "float32")  # output (x, y) reads input (x + 2, y + 1)
    constant = on_every_backend(image.affine_transform, x, shift, fill_value=-1.0)
    expected = np.full_like(x, -1.0)
    expected[0, :4, :4] = x[0, 1:, 2:]
    np.testing.assert_array_equal(constant, expected)
    nearest = on_every_backend(image.affine_transform, x, shift, interpolation="nearest", fill_mode="nearest")
    rows, columns = np.minimum(np.arange(5) + 1, 4), np.minimum(np.arange(6) + 2, 5)
    np.testing.assert_array_equal(nearest[0, :, :, 0], x[0, :, :, 0][rows][:, columns])
    wrapped = on_every_backend(image.affine_transform, x, shift, fill_mode="wrap")
    np.testing.assert_array_equal(wrapped[0, :, :, 0], np.roll(x[0, :, :, 0], (-1, -2), axis=(0, 1)))


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_matches_jax_scipy(fill_mode, order):
    from jax.scipy.ndimage import map_coordinates

    grid = IMAGES[0, :, :, 0]
    coordinates = [RNG.uniform(-4, 11, (3, 4)).astype("float32") for _ in range(2)]
    expected = np.asarray(map_coordinates(grid, coordinates, order, fill_mode, cval=0.5))
    actual = on_numpy(image.map_coordinates, grid, coordinates, order, fill_mode, 0.5)
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_perspective_transform_moves_corners_and_identity_keeps_images():
    corners = np.array([[0, 0], [8, 0], [8, 6], [0, 6]], "float32")
    np.testing.assert_allclose(on_every_backend(image.perspective_transform, IMAGES, corners, corners), IMAGES,
                               atol=1e-5)
    shifted = corners + np.array([1.0, 0.0], "float32")  # the corners move right by one: a translation
    moved = on_every_backend(image.perspective_transform, IMAGES, corners, shifted)
    np.testing.assert_allclose(moved[:, :, 1:], IMAGES[:, :, :-1], atol=1e-5)
    np.testing.assert_array_equal(moved[:, :, 0], 0.0)


def test_extract_patches_matches_a_loop():
    size, strides = (2, 3), (2, 2)
    patches = on_every_backend(image.extract_patches, IMAGES, size, strides)
    assert patches.shape == (2, 3, 4, 18)
    for i in range(3):
        for j in range(4):
            window = IMAGES[:, 2 * i:2 * i + 2, 2 * j:2 * j + 3]
            np.testing.assert_array_equal(patches[:, i, j], window.reshape(2, -1))
    same = on_every_backend(image.extract_patches, IMAGES, 3, 1, padding="same")
    np.testing.assert_array_equal(same[:, 1:-1, 1:-1], on_every_backend(image.extract_patches, IMAGES, 3, 1))
    volumes = RNG.random((1, 4, 4, 4, 2)).astype("float32")
    assert on_every_backend(image.extract_patches_3d, volumes, 2).shape == (1, 2, 2, 2, 16)


def test_colour_conversions_match_colorsys():
    hsv = on_every_backend(image.rgb_to_hsv, IMAGES)
    expected = np.array([colorsys.rgb_to_hsv(*pixel) for pixel in IMAGES.reshape(-1, 3)]).reshape(IMAGES.shape)
    np.testing.assert_allclose(hsv, expected, atol=1e-5)
    np.testing.assert_allclose(on_every_backend(image.hsv_to_rgb, hsv), IMAGES, atol=1e-5)
    gray = on_every_backend(image.rgb_to_grayscale, IMAGES.transpose(0, 3, 1, 2), data_format="channels_first")
    np.testing.assert_allclose(gray[:, 0], IMAGES @ np.array([0.2989, 0.5870, 0.1140]), atol=1e-5)
    with pytest.raises(ValueError, match="3 \\(RGB\\) channels"):
        image.rgb_to_hsv(IMAGES[..., :2])


def test_gaussian_blur_and_sobel_edges_match_numpy_convolutions():
    from scipy.ndimage import correlate

    taps_y = np.exp(-((np.arange(3) - 1.0) ** 2) / (2 * 1.0 ** 2))
    taps_x = np.exp(-((np.arange(5) - 2.0) ** 2) / (2 * 2.0 ** 2))
    kernel = np.outer(taps_y / taps_y.sum(), taps_x / taps_x.sum())
    expected = np.stack([correlate(IMAGES[0, :, :, c], kernel, mode="constant") for c in range(3)], axis=-1)
    blurred = on_every_backend(image.gaussian_blur, IMAGES, (3, 5), (1.0, 2.0))
    np.testing.assert_allclose(blurred[0], expected, atol=1e-5)
    edges = on_every_backend(image.sobel_edges, IMAGES)
    sobel_y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], "float64")
    dy = correlate(IMAGES[1, :, :, 2], sobel_y, mode="mirror")
    dx = correlate(IMAGES[1, :, :, 2], sobel_y.T, mode="mirror")
    np.testing.assert_allclose(edges[1, :, :, 2], np.stack([dy, dx], -1), atol=1e-5)


def test_ssim_matches_a_numpy_reference():
    from scipy.ndimage import correlate

    other = np.clip(IMAGES + 0.1 * RNG.standard_normal(IMAGES.shape), 0, 1).astype("float32")
    taps = np.exp(-((np.arange(5) - 2.0) ** 2) / (2 * 1.5 ** 2))
    window = np.outer(taps, taps) / np.outer(taps, taps).sum()

    def local_mean(z: np.ndarray) -> np.ndarray:  # valid positions only
        return np.stack([correlate(z[:, :, c], window, mode="constant")[2:-2, 2:-2] for c in range(3)], -1)

    expected = []
    for x, y in zip(IMAGES.astype("float64"), other.astype("float64")):
        mx, my = local_mean(x), local_mean(y)
        vx, vy, cxy = local_mean(x * x) - mx ** 2, local_mean(y * y) - my ** 2, local_mean(x * y) - mx * my
        c1, c2 = 0.01 ** 2, 0.03 ** 2
        expected.append(np.mean((2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))))
    np.testing.assert_allclose(on_every_backend(image.ssim, IMAGES, other, 1.0, filter_size=5), expected, atol=1e-5)
    np.testing.assert_allclose(on_numpy(image.ssim, IMAGES, IMAGES, 1.0, filter_size=5), 1.0, atol=1e-5)


def test_elastic_transform_is_seeded_and_keeps_shape():
    with backend.use("jax"):
        first = np.asarray(image.elastic_transform(IMAGES, 5.0, 2.0, seed=3))
        again = np.asarray(image.elastic_transform(IMAGES, 5.0, 2.0, seed=3))
    np.testing.assert_array_equal(first, again)
    assert first.shape == IMAGES.shape and not np.allclose(first, IMAGES)
    assert first.min() >= IMAGES.min() - 1e-6 and first.max() <= IMAGES.max() + 1e-6  # reflect: no new values


def test_scale_and_translate_equals_resize():
    expected = on_every_backend(image.resize, IMAGES, (5, 12))
    actual = on_every_backend(image.scale_and_translate, IMAGES, (2, 5, 12, 3), np.array([5 / 7, 12 / 9]),
                              np.zeros(2), (1, 2), "linear", antialias=False)
    np.testing.assert_allclose(actual, expected, atol=1e-6)


def test_gradients_flow_through_warps():
    import jax
    import jax.numpy as jnp

    with backend.use("jax"):
        transform = jnp.array([1.0, 0.1, 0.3, -0.1, 1.0, 0.2, 0.0, 0.0])
        gradient = jax.grad(lambda x: jnp.sum(image.affine_transform(x, transform) ** 2))(jnp.asarray(IMAGES))
    assert np.all(np.isfinite(gradient)) and np.any(gradient != 0)
