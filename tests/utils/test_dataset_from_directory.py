"""image_dataset_from_directory and text_dataset_from_directory: class folders, Keras's file order and splits."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest

Image = pytest.importorskip("PIL.Image")

import lamina  # noqa: E402
from lamina import layers  # noqa: E402
from lamina.utils import (PyDataset, audio_dataset_from_directory, image_dataset_from_directory,  # noqa: E402
                          text_dataset_from_directory)
from lamina.utils.dataset_from_directory import resize_image  # noqa: E402

CLASSES = ("cat", "dog", "eel")


def pixels(seed: int, height: int = 10, width: int = 12) -> np.ndarray:
    return np.random.RandomState(seed).randint(0, 256, (height, width, 3)).astype("uint8")


@pytest.fixture
def image_folder(tmp_path: pathlib.Path) -> pathlib.Path:
    """3 classes of 7 PNG images each, one JPEG in a nested folder of each class, and a file to skip."""
    for c, name in enumerate(CLASSES):
        (tmp_path / name / "nested").mkdir(parents=True)
        for i in range(7):
            Image.fromarray(pixels(10 * c + i)).save(tmp_path / name / f"{i}.png")
        Image.fromarray(pixels(99)).save(tmp_path / name / "nested" / "x.jpg")
        (tmp_path / name / "notes.csv").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    return tmp_path


def sorted_files(root: pathlib.Path) -> list[str]:
    """Keras's index order: classes sorted, each class's folders walked in sorted order."""
    names = []
    for name in CLASSES:
        names += [os.path.join(root, name, f"{i}.png") for i in range(7)] + [os.path.join(root, name, "nested",
                                                                                              "x.jpg")]
    return names


def test_files_are_shuffled_with_numpy_random_state_and_split_at_the_end(image_folder: pathlib.Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    expected = sorted_files(image_folder)
    np.random.RandomState(42).shuffle(expected)
    train = image_dataset_from_directory(str(image_folder), seed=42, validation_split=0.3, subset="training")
    assert capsys.readouterr().out == "Found 24 files belonging to 3 classes.\nUsing 17 files for training.\n"
    validation = image_dataset_from_directory(str(image_folder), seed=42, validation_split=0.3,
                                              subset="validation", verbose=False)
    assert capsys.readouterr().out == "Using 7 files for validation.\n"
    assert isinstance(train, PyDataset) and train.class_names == list(CLASSES)
    assert train.file_paths == expected[:17] and validation.file_paths == expected[17:]
    both = image_dataset_from_directory(str(image_folder), seed=42, validation_split=0.3, subset="both",
                                        verbose=False)
    assert [d.file_paths for d in both] == [expected[:17], expected[17:]]


def test_batches_hold_the_decoded_images_and_their_labels(image_folder: pathlib.Path) -> None:
    dataset = image_dataset_from_directory(str(image_folder), shuffle=False, batch_size=5, image_size=(10, 12),
                                           verbose=False)
    assert len(dataset) == 5
    x, y = dataset[0]
    assert x.shape == (5, 10, 12, 3) and x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(x, np.stack([pixels(i) for i in range(5)]))
    np.testing.assert_array_equal(np.concatenate([dataset[i][1] for i in range(5)]), np.repeat([0, 1, 2], 8))
    assert dataset[4][0].shape[0] == 4  # 24 = 4 * 5 + 4


def test_label_modes_color_modes_and_channels_first(image_folder: pathlib.Path) -> None:
    common = dict(shuffle=False, batch_size=8, image_size=(5, 6), verbose=False)
    x, y = image_dataset_from_directory(str(image_folder), label_mode="categorical", color_mode="grayscale",
                                        **common)[1]
    assert x.shape == (8, 5, 6, 1) and y.shape == (8, 3) and y.dtype == np.float32
    np.testing.assert_array_equal(y, np.eye(3)[[1] * 8])
    x, y = image_dataset_from_directory(str(image_folder), class_names=["eel", "cat"], label_mode="binary",
                                        color_mode="rgba", data_format="channels_first", **common)[0]
    assert x.shape == (8, 4, 5, 6) and y.shape == (8, 1)
    np.testing.assert_array_equal(y[:, 0], np.zeros(8))  # eel is class 0: the order given
    only_images = image_dataset_from_directory(str(image_folder), labels=None, **common)
    assert only_images[0].shape == (8, 5, 6, 3) and only_images.class_names is None
    single = image_dataset_from_directory(str(image_folder), batch_size=None, shuffle=False, image_size=(5, 6),
                                          verbose=False)
    assert single[0][0].shape == (5, 6, 3) and single[0][1] == 0


def test_explicit_labels_follow_the_sorted_file_order(image_folder: pathlib.Path) -> None:
    labels = list(range(24))
    dataset = image_dataset_from_directory(str(image_folder), labels=labels, shuffle=False, batch_size=24,
                                           image_size=(4, 4), verbose=False)
    np.testing.assert_array_equal(dataset[0][1], labels)
    assert dataset.class_names == [str(i) for i in range(24)]


def test_bilinear_resize_matches_half_pixel_linear_interpolation() -> None:
    image = np.arange(4 * 4, dtype="float32").reshape(4, 4, 1)
    # Halving a linear ramp samples between pixel pairs: the mean of each 2x2 block.
    np.testing.assert_allclose(resize_image(image, (2, 2), "bilinear")[:, :, 0], [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(resize_image(image, (2, 2), "nearest")[:, :, 0], [[5, 7], [13, 15]])
    doubled = resize_image(image, (8, 8), "bilinear")[:, :, 0]
    np.testing.assert_allclose(doubled[0, :4], [0, 0.25, 0.75, 1.25])  # edges clamp, then steps of 0.5


def test_crop_and_pad_to_aspect_ratio(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a").mkdir()
    Image.fromarray(np.full((4, 8, 3), 200, "uint8")).save(tmp_path / "a" / "wide.png")
    common = dict(image_size=(4, 4), interpolation="nearest", verbose=False)
    padded = image_dataset_from_directory(str(tmp_path), pad_to_aspect_ratio=True, **common)[0][0][0, :, :, 0]
    np.testing.assert_array_equal(padded, [[0] * 4, [200] * 4, [200] * 4, [0] * 4])
    cropped = image_dataset_from_directory(str(tmp_path), crop_to_aspect_ratio=True, **common)[0][0][0]
    np.testing.assert_array_equal(cropped, np.full((4, 4, 3), 200))


@pytest.mark.parametrize("kwargs, match", [
    ({"validation_split": 0.2}, "subset"), ({"validation_split": 1.5, "subset": "training"}, "validation_split"),
    ({"validation_split": 0.2, "subset": "training"}, "seed"), ({"label_mode": "sparse"}, "label_mode"),
    ({"color_mode": "cmyk"}, "color_mode"), ({"image_size": (3, 3, 3)}, "image_size"),
    ({"interpolation": "cubic"}, "interpolation"), ({"label_mode": "binary"}, "binary"),
    ({"class_names": ["cow"]}, "class_names"), ({"labels": [0, 1]}, "labels"),
    ({"crop_to_aspect_ratio": True, "pad_to_aspect_ratio": True}, "aspect_ratio")])
def test_bad_arguments_are_named(image_folder: pathlib.Path, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        image_dataset_from_directory(str(image_folder), verbose=False, **kwargs)


def test_text_files_with_max_length_and_splits(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture) -> None:
    for name in ("neg", "pos"):
        (tmp_path / name).mkdir()
        for i in range(5):
            (tmp_path / name / f"{i}.txt").write_text(f"{name} review number {i}")
    (tmp_path / "pos" / "skip.md").write_text("ignored")
    dataset = text_dataset_from_directory(str(tmp_path), batch_size=4, shuffle=False)
    assert capsys.readouterr().out == "Found 10 files belonging to 2 classes.\n"
    texts, labels = dataset[0]
    assert list(texts) == [f"neg review number {i}" for i in range(4)] and list(labels) == [0] * 4
    short = text_dataset_from_directory(str(tmp_path), max_length=3, label_mode="binary", shuffle=False,
                                        verbose=False)
    assert list(short[0][0][-2:]) == ["pos", "pos"] and short[0][1].shape == (10, 1)
    train, validation = text_dataset_from_directory(str(tmp_path), seed=3, validation_split=0.2, subset="both",
                                                    verbose=False)
    expected = [os.path.join(tmp_path, name, f"{i}.txt") for name in ("neg", "pos") for i in range(5)]
    np.random.RandomState(3).shuffle(expected)
    assert train.file_paths == expected[:8] and validation.file_paths == expected[8:]


def test_a_cnn_fits_on_the_image_batches(image_folder: pathlib.Path, training_backend: str) -> None:
    """Under torch and jax (the training_backend fixture makes each active)."""
    train, validation = image_dataset_from_directory(str(image_folder), seed=1, validation_split=0.25,
                                                     subset="both", batch_size=8, image_size=(8, 8),
                                                     verbose=False)
    model = lamina.Sequential([layers.Input((8, 8, 3)), layers.Rescaling(1 / 255), layers.Conv2D(4, 3),
                               layers.GlobalAveragePooling2D(), layers.Dense(3)])
    model.compile("adam", lamina.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    history = model.fit(train, validation_data=validation, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
    assert model.predict(validation, verbose=0).shape == (6, 3)


def write_wav(path: pathlib.Path, samples: np.ndarray, rate: int = 8000) -> None:
    import wave

    with wave.open(str(path), "wb") as file:
        file.setnchannels(samples.shape[1])
        file.setsampwidth(2)
        file.setframerate(rate)
        file.writeframes(samples.astype("<i2").tobytes())


def test_audio_clips_are_decoded_padded_and_split(tmp_path: pathlib.Path) -> None:
    clips = {}
    for c, name in enumerate(("no", "yes")):
        (tmp_path / name).mkdir()
        for i in range(3):
            clip = np.random.RandomState(10 * c + i).randint(-32768, 32767, (20 + 5 * i, 1))
            write_wav(tmp_path / name / f"{i}.wav", clip)
            clips[(c, i)] = clip / 32768
    dataset = audio_dataset_from_directory(str(tmp_path), batch_size=3, shuffle=False, verbose=False)
    assert dataset.class_names == ["no", "yes"] and len(dataset) == 2
    x, y = dataset[0]
    assert x.shape == (3, 30, 1) and x.dtype == np.float32 and list(y) == [0, 0, 0]
    np.testing.assert_allclose(x[0, :20], clips[(0, 0)], atol=1e-6)
    np.testing.assert_array_equal(x[0, 20:], 0)  # padded to the longest clip of the batch
    fixed = audio_dataset_from_directory(str(tmp_path), output_sequence_length=22, shuffle=False, verbose=False)
    assert fixed[0][0].shape == (6, 22, 1)
    ragged = audio_dataset_from_directory(str(tmp_path), ragged=True, shuffle=False, verbose=False)
    assert [len(clip) for clip in ragged[0][0]] == [20, 25, 30] * 2
    halved = audio_dataset_from_directory(str(tmp_path), sampling_rate=4000, shuffle=False, batch_size=None,
                                          verbose=False)
    np.testing.assert_allclose(halved[0][0][:, 0], clips[(0, 0)][::2, 0], atol=1e-6)
    train, validation = audio_dataset_from_directory(str(tmp_path), seed=5, validation_split=0.5, subset="both",
                                                     verbose=False)
    expected = [os.path.join(tmp_path, name, f"{i}.wav") for name in ("no", "yes") for i in range(3)]
    np.random.RandomState(5).shuffle(expected)
    assert train.file_paths == expected[:3] and validation.file_paths == expected[3:]
    with pytest.raises(ValueError, match="ragged"):
        audio_dataset_from_directory(str(tmp_path), ragged=True, output_sequence_length=4)


def test_take_map_prefetch_and_cache_as_on_keras_dataset(image_folder: pathlib.Path) -> None:
    dataset = image_dataset_from_directory(str(image_folder), shuffle=False, batch_size=10, image_size=(4, 4),
                                           verbose=False)
    assert dataset.prefetch(buffer_size=-1) is dataset and dataset.cache() is dataset
    (x, y), = dataset.take(1)
    scaled = dataset.map(lambda images, labels: (images / 255, labels + 1)).prefetch(2)
    assert isinstance(scaled, PyDataset) and len(scaled) == 3 and scaled.class_names == list(CLASSES)
    sx, sy = scaled[0]
    np.testing.assert_allclose(sx, x / 255)
    np.testing.assert_array_equal(sy, y + 1)
    assert len(scaled.take(-1)) == 3


def test_map_takes_tf_data_s_parallelism_arguments(image_folder: pathlib.Path) -> None:
    """Programs written for tf.data pass num_parallel_calls (tf.data.AUTOTUNE is -1) and deterministic."""
    dataset = image_dataset_from_directory(str(image_folder), shuffle=False, batch_size=10, image_size=(4, 4),
                                           verbose=False)
    doubled = dataset.map(lambda images, labels: (images * 2, labels), num_parallel_calls=-1, deterministic=True)
    np.testing.assert_allclose(doubled[0][0], dataset[0][0] * 2)
    with pytest.raises(TypeError, match="map takes a function"):
        dataset.map("not a function")
