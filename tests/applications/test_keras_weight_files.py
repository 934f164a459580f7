"""Keras-written weight files load into Lamina's architectures, which then predict as Keras did (1e-4).

The fixtures come from tests/fixtures/make_application_files.py: reduced models built with Keras's own
builders (narrow ResNet and ResNetV2 stacks, MobileNetV2 alpha=0.35 at 96x96, MobileNetV3Small alpha=0.25, and
narrow EfficientNet, EfficientNetV2 and ConvNeXt models) with random
weights. The full-size ResNet50, MobileNetV2 and EfficientNetB0 files are too big to keep here: the script
writes them into a folder, and `LAMINA_APPLICATION_FILES=<folder>` makes this file compare them too.
"""

from __future__ import annotations

import json
import lzma
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from lamina import backend
from lamina.applications import convnext, efficientnet, efficientnet_v2, resnet
import lamina.applications as applications

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "applications"


def _resnet_small(weights: str) -> Any:
    def stacks(x: Any) -> Any:
        x = resnet.stack_residual_blocks_v1(x, 8, 2, stride1=1, name="conv2")
        return resnet.stack_residual_blocks_v1(x, 16, 2, name="conv3")
    return resnet.ResNet(stacks, preact=False, use_bias=True, weights=weights, input_shape=(32, 32, 3), classes=10,
                         name="resnet_small")


def _resnet_v2_small(weights: str) -> Any:
    def stacks(x: Any) -> Any:
        x = resnet.stack_residual_blocks_v2(x, 8, 2, name="conv2")
        return resnet.stack_residual_blocks_v2(x, 16, 2, stride1=1, name="conv3")
    return resnet.ResNet(stacks, preact=True, use_bias=True, weights=weights, input_shape=(32, 32, 3),
                         include_top=False, pooling="avg", name="resnet_v2_small")


def _efficientnet_small(weights: str) -> Any:
    blocks = [dict(args, repeats=min(args["repeats"], 2)) for args in efficientnet.DEFAULT_BLOCKS_ARGS[:5]]
    return efficientnet.EfficientNet(0.25, 1.0, 64, blocks_args=blocks, weights=weights, input_shape=(64, 64, 3),
                                     classes=10, name="efficientnet_small")


def _convnext_small(weights: str) -> Any:
    return convnext.ConvNeXt([1, 2, 1, 1], [8, 16, 24, 32], layer_scale_init_value=0.5, weights=weights,
                             input_shape=(32, 32, 3), classes=10, name="convnext_small_config")


def _efficientnet_v2_small(weights: str) -> Any:
    blocks = [dict(args, num_repeat=min(args["num_repeat"], 2))
              for args in efficientnet_v2.DEFAULT_BLOCKS_ARGS["efficientnetv2-b0"][:5]]
    return efficientnet_v2.EfficientNetV2(0.25, 1.0, 64, blocks_args=blocks, weights=weights,
                                          input_shape=(64, 64, 3), classes=10, name="efficientnetv2-b0small")


SMALL: dict[str, Callable[[str], Any]] = {
    "efficientnet_v2_small": _efficientnet_v2_small,
    "convnext_small_config": _convnext_small,
    "resnet_small": _resnet_small,
    "resnet_v2_small": _resnet_v2_small,
    "mobilenet_v2_035_96_notop": lambda weights: applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=weights),
    "efficientnet_small": _efficientnet_small,
    "mobilenet_v3_small_025_notop": lambda weights: applications.MobileNetV3Small(
        alpha=0.25, include_top=False, weights=weights, input_shape=(64, 64, 3)),
}
FULL: dict[str, Callable[[str], Any]] = {
    "resnet50_notop": lambda weights: applications.ResNet50(include_top=False, weights=weights,
                                                            input_shape=(64, 64, 3)),
    "mobilenet_v2_notop": lambda weights: applications.MobileNetV2(include_top=False, weights=weights,
                                                                   input_shape=(96, 96, 3)),
    "efficientnetb0_notop": lambda weights: applications.EfficientNetB0(include_top=False, weights=weights,
                                                                        input_shape=(64, 64, 3)),
}


def _model_input(pixels: np.ndarray, unit: bool) -> np.ndarray:
    x = pixels.astype("float32")
    return x / np.float32(127.5) - np.float32(1.0) if unit else x


def _check(build: Callable[[str], Any], weights_path: Path, reference: Path) -> None:
    data = np.load(reference)
    model = build(str(weights_path))
    got = np.asarray(model.predict(_model_input(data["pixels"], bool(data["unit"])), verbose=0))
    expected = data["y"]
    assert got.shape == expected.shape
    scale = max(1.0, float(np.max(np.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4 * scale)


JAX_TOO = ("resnet_small", "efficientnet_small")  # jax compiles each model: the two loading paths suffice


@pytest.mark.parametrize("name", sorted(SMALL))
def test_keras_file_predicts_as_keras(name: str, any_backend: str, tmp_path: Path) -> None:
    if any_backend == "jax" and name not in JAX_TOO:
        pytest.skip("checked on numpy and torch; on jax, the same layers are checked by the models in JAX_TOO")
    weights_path = tmp_path / f"{name}.h5"
    weights_path.write_bytes(lzma.decompress((FIXTURES / f"{name}.h5.xz").read_bytes()))
    _check(SMALL[name], weights_path, FIXTURES / f"{name}.npz")


FULL_FOLDER = os.environ.get("LAMINA_APPLICATION_FILES")


@pytest.mark.skipif(not FULL_FOLDER, reason="set LAMINA_APPLICATION_FILES to the folder of the full-size files")
@pytest.mark.parametrize("name", sorted(FULL))
def test_full_size_keras_file_predicts_as_keras(name: str, any_backend: str) -> None:
    folder = Path(str(FULL_FOLDER))
    _check(FULL[name], folder / f"{name}.h5", folder / f"{name}.npz")


@pytest.mark.parametrize("name", ["ResNet50", "ResNet50V2", "DenseNet121", "Xception", "InceptionV3", "MobileNet",
                                  "EfficientNetB0", "ConvNeXtTiny", "EfficientNetV2B0", "EfficientNetV2S",
                                  "InceptionResNetV2", "NASNetMobile"])
def test_weights_are_read_in_keras_order(name: str, zero_init: None) -> None:
    """For models whose files are too big to keep: the layers that loading walks through, in order, hold
    weights of the shapes that Keras's file holds, in Keras's order (layer_orders.json, written by Keras)."""
    from lamina.applications._common import keras_layer_order

    expected = json.loads((FIXTURES / "layer_orders.json").read_text())[name]
    size = {"Xception": 71, "InceptionV3": 75, "InceptionResNetV2": 75}.get(name, 32)
    with backend.use("jax" if name.startswith("ConvNeXt") else "numpy"):  # see zero_init_abstract
        model = getattr(applications, name)(weights=None, include_top=False, input_shape=(size, size, 3))
    got = [[list(w.shape) for w in [*layer.trainable_weights, *layer.non_trainable_weights]]
           for layer in keras_layer_order(model) if layer.weights]
    assert got == expected
