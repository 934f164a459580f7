"""InceptionV3 (Szegedy et al., 2016): factorized inception modules, default input 299x299."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.models import Model

_BASE = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
_FILES = (("inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "9a0d58056eeedaa3f26cb7ebd46da564"),
          ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "bcbd6486424b2319ff4ef7d526e38f63"))


def conv2d_bn(x: Any, filters: int, num_row: int, num_col: int, padding: str = "same", strides: Any = (1, 1),
              name: str | None = None) -> Any:
    """Convolution without bias, batch norm without scale, relu."""
    x = layers.Conv2D(filters, (num_row, num_col), strides=strides, padding=padding, use_bias=False,
                      name=f"{name}_conv" if name else None)(x)
    x = layers.BatchNormalization(axis=_common.channel_axis(), scale=False, name=f"{name}_bn" if name else None)(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x: Any, convs: Sequence[tuple[int, int, int]]) -> Any:
    """conv2d_bn layers one after the other, each (filters, rows, cols)."""
    for filters, rows, cols in convs:
        x = conv2d_bn(x, filters, rows, cols)
    return x


def _avg_branch(x: Any, filters: int) -> Any:
    return conv2d_bn(layers.AveragePooling2D((3, 3), strides=(1, 1), padding="same")(x), filters, 1, 1)


def _concat(branches: list[Any], name: str | None) -> Any:
    return layers.concatenate(branches, axis=_common.channel_axis(), name=name)


def _module_35(x: Any, pool_filters: int, name: str) -> Any:
    return _concat([conv2d_bn(x, 64, 1, 1), _chain(x, [(48, 1, 1), (64, 5, 5)]),
                    _chain(x, [(64, 1, 1), (96, 3, 3), (96, 3, 3)]), _avg_branch(x, pool_filters)], name)


def _module_17(x: Any, width: int, name: str) -> Any:
    seven = _chain(x, [(width, 1, 1), (width, 1, 7), (192, 7, 1)])
    double = _chain(x, [(width, 1, 1), (width, 7, 1), (width, 1, 7), (width, 7, 1), (192, 1, 7)])
    return _concat([conv2d_bn(x, 192, 1, 1), seven, double, _avg_branch(x, 192)], name)


def _module_8(x: Any, i: int) -> Any:
    three = conv2d_bn(x, 384, 1, 1)
    three = _concat([conv2d_bn(three, 384, 1, 3), conv2d_bn(three, 384, 3, 1)], f"mixed9_{i}")
    double = _chain(x, [(448, 1, 1), (384, 3, 3)])
    double = _concat([conv2d_bn(double, 384, 1, 3), conv2d_bn(double, 384, 3, 1)], None)
    return _concat([conv2d_bn(x, 320, 1, 1), three, double, _avg_branch(x, 192)], f"mixed{9 + i}")


def InceptionV3(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "inception_v3") -> Model:
    """InceptionV3; the smallest input is 75x75."""
    _common.check_weights(weights, include_top, classes)
    input_shape = _common.obtain_input_shape(input_shape, 299, 75, include_top, weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = conv2d_bn(img_input, 32, 3, 3, strides=(2, 2), padding="valid")
    x = conv2d_bn(x, 32, 3, 3, padding="valid")
    x = conv2d_bn(x, 64, 3, 3)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    x = conv2d_bn(x, 80, 1, 1, padding="valid")
    x = conv2d_bn(x, 192, 3, 3, padding="valid")
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _module_35(x, pool_filters, f"mixed{i}")
    reduce = conv2d_bn(x, 384, 3, 3, strides=(2, 2), padding="valid")
    double = _chain(x, [(64, 1, 1), (96, 3, 3)])
    double = conv2d_bn(double, 96, 3, 3, strides=(2, 2), padding="valid")
    x = _concat([reduce, double, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)], "mixed3")
    for i, width in enumerate((128, 160, 160, 192)):
        x = _module_17(x, width, f"mixed{4 + i}")
    three = conv2d_bn(conv2d_bn(x, 192, 1, 1), 320, 3, 3, strides=(2, 2), padding="valid")
    seven = _chain(x, [(192, 1, 1), (192, 1, 7), (192, 7, 1)])
    seven = conv2d_bn(seven, 192, 3, 3, strides=(2, 2), padding="valid")
    x = _concat([three, seven, layers.MaxPooling2D((3, 3), strides=(2, 2))(x)], "mixed8")
    for i in range(2):
        x = _module_8(x, i)
    x = _common.classifier_head(x, include_top, pooling, classes, classifier_activation, weights)
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        fname, md5 = _FILES[0 if include_top else 1]
        return _common.fetch(fname, _BASE + fname, md5)

    return _common.load_weights(model, weights, imagenet_file)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale pixels to [-1, 1] (the "tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
