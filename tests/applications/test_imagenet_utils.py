"""preprocess_input's modes, each family's choice among them, decode_predictions, and the `weights` argument."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lamina.applications as applications
from lamina import ops
from lamina.applications import _common, imagenet_utils

MEAN_BGR = np.array([103.939, 116.779, 123.68], dtype="float32")
TORCH_MEAN = np.array([0.485, 0.456, 0.406], dtype="float32")
TORCH_STD = np.array([0.229, 0.224, 0.225], dtype="float32")


def _images(shape: tuple[int, ...] = (2, 4, 5, 3)) -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 255, size=shape).astype("float32")


def _expected(x: np.ndarray, mode: str) -> np.ndarray:
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - TORCH_MEAN) / TORCH_STD
    return x[..., ::-1] - MEAN_BGR


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_numpy_modes(mode: str) -> None:
    x = _images()
    np.testing.assert_allclose(imagenet_utils.preprocess_input(x.copy(), mode=mode), _expected(x, mode),
                               rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["caffe", "torch"])
def test_channels_first(mode: str) -> None:
    x = _images()
    first = np.moveaxis(x, -1, 1).copy()
    got = imagenet_utils.preprocess_input(first, data_format="channels_first", mode=mode)
    np.testing.assert_allclose(np.moveaxis(got, 1, -1), _expected(x, mode), rtol=1e-6, atol=1e-5)
    single = imagenet_utils.preprocess_input(np.moveaxis(x[0], -1, 0).copy(), data_format="channels_first", mode=mode)
    np.testing.assert_allclose(np.moveaxis(single, 0, -1), _expected(x, mode)[0], rtol=1e-6, atol=1e-5)


def test_integer_images_become_float() -> None:
    x = np.full((1, 2, 2, 3), 255, dtype="uint8")
    got = imagenet_utils.preprocess_input(x, mode="tf")
    assert got.dtype == np.float32 and np.all(got == 1.0)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_tensor_modes(mode: str, any_backend: str) -> None:
    x = _images()
    got = imagenet_utils.preprocess_input(ops.convert_to_tensor(x.copy()), mode=mode)
    np.testing.assert_allclose(ops.convert_to_numpy(got), _expected(x, mode), rtol=1e-6, atol=1e-5)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="mode"):
        imagenet_utils.preprocess_input(_images(), mode="keras")
    with pytest.raises(ValueError, match="data_format"):
        imagenet_utils.preprocess_input(_images(), data_format="nhwc")


@pytest.mark.parametrize("module, mode", [("vgg16", "caffe"), ("vgg19", "caffe"), ("resnet", "caffe"),
                                          ("resnet50", "caffe"), ("resnet_v2", "tf"), ("mobilenet", "tf"),
                                          ("mobilenet_v2", "tf"), ("densenet", "torch"), ("xception", "tf"),
                                          ("inception_v3", "tf"), ("inception_resnet_v2", "tf"),
                                          ("nasnet", "tf")])
def test_family_modes(module: str, mode: str) -> None:
    x = _images()
    got = getattr(applications, module).preprocess_input(x.copy())
    np.testing.assert_allclose(got, _expected(x, mode), rtol=1e-6, atol=1e-5)


def test_efficientnet_and_mobilenet_v3_preprocess_is_identity() -> None:
    x = _images()
    assert applications.efficientnet.preprocess_input(x) is x
    assert applications.mobilenet_v3.preprocess_input(x) is x
    assert applications.convnext.preprocess_input(x) is x
    assert applications.efficientnet_v2.preprocess_input(x) is x


@pytest.fixture
def class_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str | None]]:
    """A class index file served in place of the download; records what was asked for."""
    path = tmp_path / "imagenet_class_index.json"
    path.write_text(json.dumps({str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}))
    asked: list[tuple[str, str, str | None]] = []

    def fetch(fname: str, origin: str, file_hash: str | None = None) -> str:
        asked.append((fname, origin, file_hash))
        return str(path)

    monkeypatch.setattr(_common, "fetch", fetch)
    monkeypatch.setattr(imagenet_utils, "_CLASS_INDEX", None)
    return asked


def test_decode_predictions(class_index: list) -> None:
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, [3, 7, 500]] = [0.2, 0.5, 0.3]
    preds[1, 999] = 1.0
    decoded = applications.resnet50.decode_predictions(preds, top=3)
    assert [row[:2] for row in decoded[0]] == [("n00000007", "class_7"), ("n00000500", "class_500"),
                                               ("n00000003", "class_3")]
    assert decoded[0][0][2] == pytest.approx(0.5)
    assert decoded[1][0][:2] == ("n00000999", "class_999") and len(decoded[1]) == 3
    assert class_index == [("imagenet_class_index.json", imagenet_utils.CLASS_INDEX_PATH,
                            "c2c37ea517e94d9795004a39431a14cb")]


def test_decode_predictions_wants_1000_classes(class_index: list) -> None:
    with pytest.raises(ValueError, match=r"\(samples, 1000\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


def test_weights_argument_errors(zero_init: None) -> None:
    with pytest.raises(ValueError, match="weights"):
        applications.ResNet50(weights="no/such/file.h5")
    with pytest.raises(ValueError, match="classes"):
        applications.VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        applications.ResNet50(weights=None, include_top=False, input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="pooling"):
        applications.MobileNet(weights=None, include_top=False, pooling="mean", input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="alpha"):
        applications.MobileNetV2(weights="imagenet", alpha=0.3)
    with pytest.raises(ValueError, match="input_tensor"):
        applications.ResNet50(weights=None, input_tensor=np.zeros((1, 224, 224, 3)))


def test_imagenet_weights_come_through_get_file(zero_init: None, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """weights="imagenet" asks for Keras's file name, URL and hash, then loads the file it gets."""
    source = applications.MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    source.set_weights([np.full(w.shape, 0.5, "float32") for w in source.get_weights()])
    path = tmp_path / "saved.h5"
    source.save_weights(path)
    asked: list[Any] = []

    def fetch(fname: str, origin: str, file_hash: str | None = None) -> str:
        asked.append((fname, origin, file_hash))
        return str(path)

    monkeypatch.setattr(_common, "fetch", fetch)
    model = applications.MobileNetV2(weights="imagenet", include_top=False, alpha=0.35, input_shape=(96, 96, 3))
    fname = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    assert asked == [(fname, applications.mobilenet_v2.BASE_WEIGHT_PATH + fname, None)]
    assert all(np.all(w == 0.5) for w in model.get_weights())
    asked.clear()
    with pytest.raises(ValueError, match="layers"):  # a file for another model: nothing loads silently
        applications.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert asked == [("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                      "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
                      "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", "4d473c1dd8becc155b73f8504c6f6626")]


def test_fetch_goes_through_get_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Published files are cached where Keras caches them: get_file with cache_subdir="models"."""
    file_utils = pytest.importorskip("lamina.utils.file_utils")
    calls: list[Any] = []

    def get_file(fname: str, origin: str, **kwargs: Any) -> str:
        calls.append((fname, origin, kwargs))
        return "/cache/models/" + fname

    monkeypatch.setattr(file_utils, "get_file", get_file)
    assert _common.fetch("a.h5", "https://example.invalid/a.h5", "0" * 32) == "/cache/models/a.h5"
    assert calls == [("a.h5", "https://example.invalid/a.h5", {"file_hash": "0" * 32, "cache_subdir": "models"})]
