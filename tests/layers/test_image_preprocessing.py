"""Image preprocessing layers: deterministic ones through check_layer against NumPy; random ones are the
identity at inference, and while training change the images within their shape, dtype and range,
reproducibly for a seed; a small CNN behind RandomFlip and RandomRotation trains."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lamina
from check import check_layer
from lamina import backend
from lamina.layers import preprocessing
from lamina.layers.preprocessing import image as layers

RNG = np.random.default_rng(0)
IMAGES = (RNG.random((2, 8, 10, 3)) * 255).astype("float32")


def bilinear(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """Half-pixel-centre bilinear resize of (batch, h, w, c), as separable interpolation matrices."""

    def matrix(n_in: int, n_out: int) -> np.ndarray:
        weights = np.zeros((n_out, n_in))
        for i in range(n_out):
            position = min(max((i + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1)
            low = int(np.floor(position))
            weights[i, low] += 1 - (position - low)
            weights[i, min(low + 1, n_in - 1)] += position - low
        return weights

    return np.einsum("oh,nhwc,pw->nopc", matrix(x.shape[1], height), x, matrix(x.shape[2], width))


# --- deterministic layers ---------------------------------------------------------------------------


def test_rescaling():
    check_layer(lambda: layers.Rescaling(1 / 255.0, offset=-0.5), (2, 4, 5, 3),
                lambda x, w: x / 255.0 - 0.5)
    check_layer(lambda: layers.Rescaling([1.0, 2.0, 3.0], offset=[0.0, 1.0, 0.0]), (2, 4, 3),
                lambda x, w: x * [1.0, 2.0, 3.0] + [0.0, 1.0, 0.0], train=False)


def test_resizing_bilinear_and_channels_first():
    check_layer(lambda: layers.Resizing(5, 7), (2, 8, 10, 3), lambda x, w: bilinear(x, 5, 7))
    check_layer(lambda: layers.Resizing(5, 7, data_format="channels_first"), (2, 3, 8, 10),
                lambda x, w: bilinear(x.transpose(0, 2, 3, 1), 5, 7).transpose(0, 3, 1, 2), train=False)


def test_resizing_crop_and_pad_to_aspect_ratio_and_unbatched():
    with backend.use("numpy"):
        cropped = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(IMAGES[0])
        padded = layers.Resizing(10, 10, pad_to_aspect_ratio=True, fill_value=-1.0, interpolation="nearest")(IMAGES)
    np.testing.assert_allclose(cropped, bilinear(IMAGES[:1, :, 1:9], 4, 4)[0], rtol=1e-5)
    np.testing.assert_array_equal(padded[:, 1:9], IMAGES)
    np.testing.assert_array_equal(padded[:, 0], -1.0)
    with pytest.raises(ValueError, match="interpolation"):
        layers.Resizing(2, 2, interpolation="linear")


def test_center_crop():
    check_layer(lambda: layers.CenterCrop(4, 6), (2, 8, 10, 3), lambda x, w: x[:, 2:6, 2:8])
    with backend.use("numpy"):  # smaller than the target: resized to cover it, then cropped
        grown = layers.CenterCrop(12, 12)(IMAGES)
    np.testing.assert_allclose(grown, bilinear(IMAGES[:, :, 1:9], 12, 12), rtol=1e-5)


def test_auto_contrast_and_equalization_span_the_value_range():
    x = RNG.uniform(50, 100, (2, 6, 6, 3)).astype("float32")

    def stretched(x: np.ndarray, w: list) -> np.ndarray:
        low, high = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
        return (x - low) / (high - low) * 255.0

    check_layer(lambda: layers.AutoContrast(), x.shape, None, train=False)
    with backend.use("numpy"):
        np.testing.assert_allclose(layers.AutoContrast()(x), stretched(x, []), rtol=1e-5, atol=1e-3)
        equalized = np.asarray(layers.Equalization()(x))
    assert equalized.min() == 0 and equalized.max() == 255
    # Equalized values follow the rank of each pixel within its channel.
    order = np.argsort(x[0, :, :, 0], axis=None)
    assert np.all(np.diff(equalized[0, :, :, 0].reshape(-1)[order]) >= 0)


def test_clahe_with_one_unclipped_tile_is_the_histogram_cdf_and_tiles_agree_across_backends():
    x = RNG.uniform(60, 120, (2, 12, 10, 3)).astype("float32")
    check_layer(lambda: layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(3, 2)), x.shape, None,
                train=False, atol=1e-3)
    with backend.use("numpy"):
        y = np.asarray(layers.ContrastLimitedAdaptiveHistogramEqualization(clip_limit=1e6, tile_grid_size=(1, 1))(x))
    bins = np.clip(np.floor(x / 255 * 256), 0, 255).astype(int)
    for c in range(3):
        cdf = np.cumsum(np.bincount(bins[0, :, :, c].ravel(), minlength=256)) / bins[0, :, :, c].size
        np.testing.assert_allclose(y[0, :, :, c], cdf[bins[0, :, :, c]] * 255, atol=1e-3)


# --- random layers ------------------------------------------------------------------------------------

RANDOM_LAYERS = {
    "RandomFlip": dict(),
    "RandomRotation": dict(factor=0.2),
    "RandomZoom": dict(height_factor=(-0.3, -0.2)),
    "RandomTranslation": dict(height_factor=0.3, width_factor=0.3),
    "RandomContrast": dict(factor=0.5),
    "RandomBrightness": dict(factor=0.5),
    "RandomCrop": dict(height=5, width=6),
    "RandomShear": dict(x_factor=0.3, y_factor=0.3),
    "RandomPerspective": dict(scale=0.5),
    "RandomElasticTransform": dict(),
    "RandomGrayscale": dict(factor=1.0),
    "RandomHue": dict(factor=0.8),
    "RandomSaturation": dict(factor=(0.1, 0.3)),
    "RandomColorDegeneration": dict(factor=(0.5, 1.0)),
    "RandomInvert": dict(factor=1.0),
    "RandomPosterization": dict(factor=(2, 3)),
    "RandomSharpness": dict(factor=(0.8, 1.0)),
    "RandomGaussianBlur": dict(sigma=2.0),
    "Solarization": dict(addition_factor=0.2, threshold_factor=(0.4, 0.6)),
    "RandomErasing": dict(scale=(0.2, 0.4)),
    "RandomColorJitter": dict(brightness_factor=0.2, contrast_factor=0.3, saturation_factor=(0.3, 0.7), hue_factor=0.2),
    "RandAugment": dict(),
    "AugMix": dict(),
}


def make(name: str, seed: int | None = 7, **extra) -> lamina.layers.Layer:
    return getattr(layers, name)(**RANDOM_LAYERS[name], seed=seed, **extra)


@pytest.mark.parametrize("name", ["RandomFlip", "RandomRotation", "RandomContrast", "RandomCrop"])
def test_random_layers_pass_check_layer_at_inference(name):
    shape = (2, 5, 6, 3) if name == "RandomCrop" else (2, 6, 7, 3)
    check_layer(lambda: make(name), shape, (lambda x, w: x) if name != "RandomCrop" else None,
                call_kwargs={"training": False})


@pytest.mark.parametrize("name", sorted(RANDOM_LAYERS))
def test_random_layers_change_images_in_training_only(name):
    with backend.use("numpy"):  # the fastest eager backend; the draws' plumbing is checked on jax and torch below
        # Seed 7 happens to flip neither of the two images (a 1-in-16 draw); seed 1 flips.
        layer = make(name, seed=1 if name == "RandomFlip" else 7)
        trained = np.asarray(layer(IMAGES, training=True))
        inferred = np.asarray(layer(IMAGES, training=False))
        unbatched = np.asarray(layer(IMAGES[0], training=True))
    size = (5, 6) if name == "RandomCrop" else IMAGES.shape[1:3]
    assert trained.shape == (2, *size, 3) and trained.dtype == np.float32
    assert unbatched.shape == (*size, 3)
    assert trained.min() >= -1e-3 and trained.max() <= 255 + 1e-3, (trained.min(), trained.max())
    if name == "RandomCrop":
        np.testing.assert_allclose(inferred, bilinear(IMAGES[:, :, 0:9], 5, 6), rtol=1e-4, atol=1e-3)
        windows = [IMAGES[0, i:i + 5, j:j + 6] for i in range(4) for j in range(5)]
        assert any(np.array_equal(trained[0], window) for window in windows)
    else:
        np.testing.assert_array_equal(inferred, IMAGES)
        assert not np.allclose(trained, IMAGES, atol=1e-2)


@pytest.mark.parametrize("name", ["RandomRotation", "RandomBrightness"])
def test_a_seed_makes_random_layers_repeatable_on_each_backend(name):
    for backend_name in ("jax", "torch"):
        outputs = []
        for seed in (7, 7, 8):
            with backend.use(backend_name):
                lamina.set_random_seed(seed)  # torch layers draw from torch's generator
                outputs.append(np.asarray(backend.impl.convert_to_numpy(make(name, seed=seed)(IMAGES, training=True))))
        np.testing.assert_array_equal(outputs[0], outputs[1], err_msg=backend_name)
        assert not np.array_equal(outputs[0], outputs[2]), backend_name


def test_mixup_and_cutmix_mix_images_and_labels_alike():
    images = np.stack([np.full((6, 6, 3), v, "float32") for v in (0.0, 100.0, 200.0, 250.0)])
    labels = np.eye(4, dtype="float32")
    for backend_name in ("torch", "numpy"):  # jax's draws run through the seeded and the fit tests
        with backend.use(backend_name):
            for layer in (layers.MixUp(alpha=0.5, seed=1), layers.CutMix(seed=1)):
                out = layer({"images": images, "labels": labels}, training=True)
                mixed = np.asarray(backend.impl.convert_to_numpy(out["images"]))
                mixed_labels = np.asarray(backend.impl.convert_to_numpy(out["labels"]))
                np.testing.assert_allclose(mixed_labels.sum(axis=1), 1.0, rtol=1e-5)
                # each image's mean is its labels' mix of the constant values
                np.testing.assert_allclose(mixed.mean(axis=(1, 2, 3)), mixed_labels @ [0.0, 100.0, 200.0, 250.0],
                                           rtol=1e-4, atol=1e-3)
                assert not np.allclose(mixed_labels, labels)
                same = layer({"images": images, "labels": labels}, training=False)
                np.testing.assert_array_equal(np.asarray(backend.impl.convert_to_numpy(same["images"])), images)


def test_pipeline_applies_its_layers_in_order_and_round_trips():
    with backend.use("numpy"):
        pipeline = layers.Pipeline([layers.Rescaling(2.0), layers.CenterCrop(4, 4), layers.RandomFlip(seed=1)])
        np.testing.assert_array_equal(pipeline(IMAGES, training=False), IMAGES[:, 2:6, 3:7] * 2.0)
        clone = layers.Pipeline.from_config(json.loads(json.dumps(pipeline.get_config())))
        assert [type(layer) for layer in clone.layers] == [type(layer) for layer in pipeline.layers]
        np.testing.assert_array_equal(clone(IMAGES, training=False), IMAGES[:, 2:6, 3:7] * 2.0)


def test_max_num_bounding_boxes_pads_and_cuts():
    boxes = {"boxes": np.ones((2, 3, 4), "float32"), "labels": np.array([[1, 2, 3], [4, 5, 6]], "int32")}
    with backend.use("numpy"):
        padded = layers.MaxNumBoundingBoxes(5)({"images": IMAGES, "bounding_boxes": boxes})["bounding_boxes"]
        cut = layers.MaxNumBoundingBoxes(2, fill_value=0)({"images": IMAGES, "bounding_boxes": boxes})["bounding_boxes"]
    assert padded["boxes"].shape == (2, 5, 4) and np.all(padded["boxes"][:, 3:] == -1)
    np.testing.assert_array_equal(padded["labels"], [[1, 2, 3, -1, -1], [4, 5, 6, -1, -1]])
    np.testing.assert_array_equal(cut["labels"], [[1, 2], [4, 5]])
    assert layers.MaxNumBoundingBoxes(5).get_config()["max_number"] == 5


def test_channels_first_augments_the_same_way_as_channels_last():
    with backend.use("torch"):
        lamina.set_random_seed(3)
        last = make("RandomRotation")(IMAGES, training=True).numpy()
        lamina.set_random_seed(3)
        first = make("RandomRotation", data_format="channels_first")(IMAGES.transpose(0, 3, 1, 2), training=True).numpy()
    np.testing.assert_allclose(first.transpose(0, 2, 3, 1), last, atol=1e-3)


def test_random_flip_flips_whole_images():
    with backend.use("torch"):
        flipped = np.asarray(backend.impl.convert_to_numpy(
            layers.RandomFlip("horizontal")(np.repeat(IMAGES[:1], 16, axis=0), training=True)))
    same = [np.array_equal(image, IMAGES[0]) for image in flipped]
    mirrored = [np.array_equal(image, IMAGES[0, :, ::-1]) for image in flipped]
    assert all(s or m for s, m in zip(same, mirrored)) and any(same) and any(mirrored)


def test_configs_round_trip_with_keras_keys():
    layer = layers.RandomRotation(0.1, fill_mode="constant", interpolation="nearest", seed=3, fill_value=1.0)
    config = json.loads(json.dumps(layer.get_config()))
    assert {k: config[k] for k in ("factor", "fill_mode", "interpolation", "seed", "fill_value", "data_format")} == \
        {"factor": 0.1, "fill_mode": "constant", "interpolation": "nearest", "seed": 3, "fill_value": 1.0,
         "data_format": "channels_last"}
    assert type(layer).from_config(config).get_config() == config
    for name in RANDOM_LAYERS:
        layer = make(name)
        assert type(layer).from_config(json.loads(json.dumps(layer.get_config()))).get_config() == layer.get_config()
    assert layers.RandomContrast(0.2).get_config()["value_range"] == [0, 255]
    assert "data_format" not in layers.RandomContrast(0.2).get_config()


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(ValueError, match="RandomFlip mode"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="RandomBrightness factor"):
        layers.RandomBrightness(1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomZoom(0.1, fill_mode="edge")
    with pytest.raises(ValueError, match="rank 3"):
        layers.RandomFlip()(np.zeros((4, 4), "float32"), training=True)


def test_layers_are_exported():
    assert set(layers.__all__) <= set(preprocessing.__all__)
    assert lamina.layers.RandomFlip is layers.RandomFlip


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_a_cnn_behind_random_flip_and_rotation_fits(backend_name):
    from lamina.layers import Conv2D, Dense, GlobalAveragePooling2D
    from lamina.models import Sequential

    rng = np.random.default_rng(1)
    x = rng.random((64, 8, 8, 1)).astype("float32")
    x[:32, 2:6, 2:6] += 2.0  # class 1: a bright centre, unchanged by flips and rotations
    y = np.array([1] * 32 + [0] * 32, "float32")[:, None]
    with backend.use(backend_name):
        lamina.set_random_seed(0)
        model = Sequential([lamina.Input((8, 8, 1)), layers.RandomFlip(seed=1), layers.RandomRotation(0.1, seed=2),
                            Conv2D(4, 3, activation="relu"), GlobalAveragePooling2D(), Dense(1, activation="sigmoid")])
        model.compile(optimizer=lamina.optimizers.Adam(learning_rate=0.03), loss="binary_crossentropy")
        history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
        predictions = model.predict(x[:4], verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0] * 0.7, losses
    assert np.asarray(predictions).shape == (4, 1)


def test_rescaling_passes_the_mask_on_and_other_image_layers_drop_it() -> None:
    """As Keras 3: Rescaling supports masking; the image preprocessing layers do not (a warning, no mask)."""
    mask = np.array([[True, False, True], [False, True, True]])
    check_layer(lambda: layers.Rescaling(0.5), (2, 3, 4), input_mask=mask, expected_mask=mask, train=False)
    with pytest.warns(UserWarning, match="does not support masking"):
        layers.CenterCrop(2, 2)(backend.impl.ones((2, 3, 3, 1)), mask=backend.impl.ones((2, 3, 3), "bool"))
