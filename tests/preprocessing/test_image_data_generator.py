"""ImageDataGenerator: transforms against NumPy references, flow / flow_from_directory batches, and fit."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")

import lamina  # noqa: E402
from lamina import backend, layers  # noqa: E402
from lamina.preprocessing import image_transforms  # noqa: E402
from lamina.preprocessing.image import DirectoryIterator, ImageDataGenerator, NumpyArrayIterator  # noqa: E402
from lamina.utils import PyDataset  # noqa: E402


def images(count: int = 10, height: int = 6, width: int = 8, channels: int = 3, seed: int = 0) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, (count, height, width, channels)).astype("float32")


def test_flips_are_exact_and_rescale_is_exact() -> None:
    x = images(1)[0]
    generator = ImageDataGenerator()
    np.testing.assert_array_equal(generator.apply_transform(x, {"flip_horizontal": True}), x[:, ::-1])
    np.testing.assert_array_equal(generator.apply_transform(x, {"flip_vertical": True}), x[::-1])
    batch = ImageDataGenerator(rescale=1 / 255).flow(images(), batch_size=4, shuffle=False)[0]
    np.testing.assert_array_equal(batch, images()[:4] * np.float32(1 / 255))


def test_rotation_and_shift_move_known_points() -> None:
    x = np.arange(16, dtype="float32").reshape(4, 4, 1)
    generator = ImageDataGenerator()  # fill_mode="nearest"
    np.testing.assert_allclose(generator.apply_transform(x, {"theta": 90})[:, :, 0], np.rot90(x[:, :, 0]),
                               atol=1e-5)
    # Keras 2's matrices swap their axes before resampling: tx moves columns and ty rows.
    np.testing.assert_array_equal(generator.apply_transform(x, {"tx": 1})[:, :, 0],
                                  np.concatenate([x[:, 1:, 0], x[:, 3:, 0]], axis=1))
    shifted = ImageDataGenerator(fill_mode="constant", cval=-1).apply_transform(x, {"ty": 2})[:, :, 0]
    np.testing.assert_array_equal(shifted, np.concatenate([x[2:, :, 0], np.full((2, 4), -1)]))


def test_random_transforms_keep_shapes_and_are_seeded() -> None:
    generator = ImageDataGenerator(rotation_range=30, width_shift_range=0.2, height_shift_range=2, shear_range=10,
                                   zoom_range=0.2, channel_shift_range=5, brightness_range=(0.8, 1.2),
                                   horizontal_flip=True, vertical_flip=True, fill_mode="reflect")
    first = generator.flow(images(), batch_size=4, seed=7)[0]
    again = generator.flow(images(), batch_size=4, seed=7)[0]
    assert first.shape == (4, 6, 8, 3) and first.dtype == np.float32
    np.testing.assert_array_equal(first, again)
    assert generator.random_transform(images(1)[0], seed=3).shape == (6, 8, 3)
    params = generator.get_random_transform((6, 8, 3), seed=3)
    assert set(params) == {"theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
                           "channel_shift_intensity", "brightness"}
    assert abs(params["theta"]) <= 30 and abs(params["ty"]) <= 0.2 * 8 and params["tx"] in (-1, 0, 1)


@pytest.mark.parametrize("mode", image_transforms.FILL_MODES)
@pytest.mark.parametrize("order", [0, 1])
def test_numpy_resampling_matches_scipy(mode: str, order: int) -> None:
    ndimage = pytest.importorskip("scipy.ndimage")
    x = np.random.RandomState(0).rand(3, 7, 9, 2).astype("float32")
    matrices = np.stack([image_transforms.affine_matrix(30 * i + 10, 1.3, -2.2, 5, 0.9, 1.2, 7, 9)
                         for i in range(3)])
    ours = image_transforms.apply_affine_batch(x, matrices, mode, 0.5, order)
    for image, matrix, mine in zip(x, matrices, ours):
        full = np.eye(3)
        full[:2, :2] = matrix[:2, :2]
        expected = ndimage.affine_transform(image, full, [matrix[0, 2], matrix[1, 2], 0], order=order, mode=mode,
                                            cval=0.5)
        np.testing.assert_allclose(mine, expected, atol=1e-5)


def test_featurewise_and_samplewise_normalization() -> None:
    x = images(20)
    generator = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True)
    generator.fit(x)
    np.testing.assert_allclose(generator.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(generator.std.ravel(), x.std(axis=(0, 1, 2)), rtol=1e-4)
    batch = generator.flow(x, batch_size=20, shuffle=False)[0]
    np.testing.assert_allclose(batch.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(batch.std(axis=(0, 1, 2)), 1, atol=1e-4)
    with pytest.warns(UserWarning, match="samplewise_center"):
        samplewise = ImageDataGenerator(samplewise_std_normalization=True)
    batch = samplewise.flow(x, batch_size=5, shuffle=False)[0]
    np.testing.assert_allclose(batch.mean(axis=(1, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(batch.std(axis=(1, 2, 3)), 1, atol=1e-3)
    doubled = ImageDataGenerator(preprocessing_function=lambda image: image * 2, rescale=0.5)
    np.testing.assert_allclose(doubled.flow(x, batch_size=3, shuffle=False)[0], x[:3])


def test_flow_labels_weights_subsets_and_next() -> None:
    x, y, w = images(10), np.arange(10) % 2, np.linspace(0, 1, 10)
    generator = ImageDataGenerator(validation_split=0.2)
    iterator = generator.flow(x, y, sample_weight=w, batch_size=4, shuffle=False)
    assert isinstance(iterator, (NumpyArrayIterator, PyDataset)) and len(iterator) == 3
    bx, by, bw = iterator[2]
    np.testing.assert_array_equal(bx, x[8:])
    np.testing.assert_array_equal(by, y[8:])
    np.testing.assert_array_equal(bw, w[8:])
    validation = generator.flow(x, y, batch_size=10, shuffle=False, subset="validation")
    training = generator.flow(x, y, batch_size=10, shuffle=False, subset="training")
    np.testing.assert_array_equal(validation[0][0], x[:2])  # Keras 2 validates on the first part
    np.testing.assert_array_equal(training[0][1], y[2:])
    shuffled = generator.flow(x, y, batch_size=4, seed=1)
    seen = np.concatenate([shuffled.next()[1] for _ in range(3)])
    assert sorted(seen) == sorted(y) and len(shuffled.next()[1]) == 4  # a new epoch starts
    assert sum(len(batch_y) for _, batch_y in shuffled) == 10  # iterating: one pass
    with pytest.raises(ValueError, match="different classes"):
        generator.flow(x, np.array([0] * 5 + [1] * 5), subset="training")


@pytest.fixture
def class_folders(tmp_path: pathlib.Path) -> pathlib.Path:
    for c, name in enumerate(("a", "b")):
        (tmp_path / name).mkdir()
        for i in range(5):
            array = np.full((12, 10, 3), 40 * c + 10 * i, "uint8")
            Image.fromarray(array).save(tmp_path / name / f"{i}.png")
    (tmp_path / "b" / "readme.txt").write_text("skip me")
    return tmp_path


def test_flow_from_directory_reads_classes_and_splits_each_class(class_folders: pathlib.Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    generator = ImageDataGenerator(rescale=1 / 10, validation_split=0.4)
    iterator = generator.flow_from_directory(str(class_folders), target_size=(6, 5), batch_size=10, shuffle=False)
    assert capsys.readouterr().out == "Found 10 images belonging to 2 classes.\n"
    assert isinstance(iterator, DirectoryIterator) and iterator.class_indices == {"a": 0, "b": 1}
    x, y = iterator[0]
    assert x.shape == (10, 6, 5, 3)
    np.testing.assert_allclose(x[:, 0, 0, 0], [0, 1, 2, 3, 4, 4, 5, 6, 7, 8])
    np.testing.assert_array_equal(y, np.eye(2)[[0] * 5 + [1] * 5])
    validation = generator.flow_from_directory(str(class_folders), target_size=(6, 5), subset="validation",
                                               class_mode="sparse", shuffle=False)
    assert validation.filenames == ["a/0.png", "a/1.png", "b/0.png", "b/1.png"]
    np.testing.assert_array_equal(validation[0][1], [0, 0, 1, 1])
    training = generator.flow_from_directory(str(class_folders), target_size=(6, 5), subset="training",
                                             class_mode="binary", color_mode="grayscale", classes=["b", "a"])
    assert training.samples == 6 and training[0][0].shape[-1] == 1 and training.class_indices == {"b": 0, "a": 1}
    assert generator.flow_from_directory(str(class_folders), class_mode=None, target_size=(6, 5))[0].shape[0] == 10


def test_flow_from_dataframe(class_folders: pathlib.Path) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"filename": ["a/0.png", "b/1.png", "b/missing.png"], "class": ["a", "b", "b"],
                              "score": [0.5, 1.5, 2.5]})
    iterator = ImageDataGenerator().flow_from_dataframe(frame, str(class_folders), target_size=(4, 4),
                                                        shuffle=False)
    x, y = iterator[0]
    assert x.shape == (2, 4, 4, 3) and iterator.filenames == ["a/0.png", "b/1.png"]
    np.testing.assert_array_equal(y, np.eye(2))
    raw = ImageDataGenerator().flow_from_dataframe(frame, str(class_folders), y_col="score", class_mode="raw",
                                                   target_size=(4, 4), shuffle=False)
    np.testing.assert_array_equal(raw[0][1], [0.5, 1.5])


@pytest.mark.parametrize("kwargs, match", [({"fill_mode": "mirror"}, "fill_mode"),
                                           ({"validation_split": 1.5}, "validation_split"),
                                           ({"zoom_range": "big"}, "zoom_range"),
                                           ({"brightness_range": 0.5}, "brightness_range")])
def test_bad_generator_arguments_are_named(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        ImageDataGenerator(**kwargs)


def test_bad_flow_arguments_are_named(class_folders: pathlib.Path) -> None:
    generator = ImageDataGenerator()
    with pytest.raises(ValueError, match="rank 4"):
        generator.flow(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="same length"):
        generator.flow(images(), np.zeros(3))
    with pytest.raises(ValueError, match="class_mode"):
        generator.flow_from_directory(str(class_folders), class_mode="onehot")
    with pytest.raises(ValueError, match="color_mode"):
        generator.flow_from_directory(str(class_folders), color_mode="cmyk")


def test_fit_and_fit_generator_train_on_the_iterators(class_folders: pathlib.Path) -> None:
    with backend.use("torch"):
        lamina.set_random_seed(0)
        model = lamina.Sequential([layers.Input((8, 8, 3)), layers.Conv2D(4, 3, activation="relu"),
                                   layers.GlobalAveragePooling2D(), layers.Dense(2, activation="softmax")])
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        generator = ImageDataGenerator(rescale=1 / 255, rotation_range=10, horizontal_flip=True,
                                       validation_split=0.4)
        train = generator.flow_from_directory(str(class_folders), target_size=(8, 8), batch_size=4, seed=1,
                                              subset="training")
        validation = generator.flow_from_directory(str(class_folders), target_size=(8, 8), batch_size=4,
                                                   subset="validation")
        history = model.fit(train, validation_data=validation, epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
        x, y = images(8, 8, 8), np.eye(2)[np.arange(8) % 2]
        history = model.fit_generator(generator.flow(x, y, batch_size=4, seed=2), epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def test_channels_first_gives_the_transposed_batches() -> None:
    x = images(4)
    settings = dict(rotation_range=20, zoom_range=0.1, horizontal_flip=True, rescale=0.5)
    last = ImageDataGenerator(**settings).flow(x, batch_size=4, seed=3)[0]
    first = ImageDataGenerator(data_format="channels_first", **settings).flow(x.transpose(0, 3, 1, 2),
                                                                              batch_size=4, seed=3)[0]
    np.testing.assert_allclose(first, last.transpose(0, 3, 1, 2), atol=1e-4)


def test_keras_2_single_image_functions() -> None:
    from lamina.preprocessing import image

    x = np.arange(2 * 4 * 4, dtype="float32").reshape(2, 4, 4)  # channels first, Keras 2's default axes
    rotated = image.apply_affine_transform(x, theta=90)
    np.testing.assert_allclose(rotated, np.rot90(x, axes=(1, 2)), atol=1e-5)
    last = image.apply_affine_transform(x.transpose(1, 2, 0), theta=90, row_axis=0, col_axis=1, channel_axis=2)
    np.testing.assert_allclose(last, rotated.transpose(1, 2, 0), atol=1e-5)
    np.testing.assert_array_equal(image.apply_channel_shift(x, 100), np.clip(x + 100, 0, 31))
    np.testing.assert_array_equal(image.flip_axis(x, 2), x[:, :, ::-1])
    for out in (image.random_rotation(x, 30), image.random_shift(x, 0.2, 0.1), image.random_shear(x, 10),
                image.random_zoom(x, (0.8, 1.2)), image.random_channel_shift(x, 5)):
        assert out.shape == x.shape
    brighter = image.apply_brightness_shift(np.full((2, 2, 3), 100.0), 1.5, scale=False)
    np.testing.assert_allclose(brighter, 150)
    with pytest.raises(ValueError, match="channel_axis"):
        image.apply_affine_transform(x, theta=5, row_axis=0, col_axis=2, channel_axis=1)


def test_smart_resize_takes_the_centred_crop() -> None:
    from lamina.preprocessing.image import smart_resize

    x = np.zeros((4, 8, 1), "float32")
    x[:, 2:6] = 1  # the centred 4x4 square
    np.testing.assert_array_equal(smart_resize(x, (2, 2)), np.ones((2, 2, 1)))
    batch = smart_resize(np.stack([x, x]).transpose(0, 3, 1, 2), (4, 4), data_format="channels_first")
    assert batch.shape == (2, 1, 4, 4) and batch.min() == 1


def test_pythons_next_on_a_flow_and_fit_on_the_same_flow() -> None:
    """Keras 2 programs call next(iterator) for a batch and also hand the iterator to fit: both work."""
    x = np.random.default_rng(0).random((20, 8, 8, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[np.arange(20) % 2]
    flow = ImageDataGenerator(horizontal_flip=True).flow(x, y, batch_size=8, seed=1)
    batch_x, batch_y = next(flow)
    assert batch_x.shape == (8, 8, 8, 3) and batch_y.shape == (8, 2)
    with backend.use("torch"):
        model = lamina.Sequential([layers.Input((8, 8, 3)), layers.Flatten(), layers.Dense(2, activation="softmax")])
        model.compile("adam", "categorical_crossentropy")
        history = model.fit(flow, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
