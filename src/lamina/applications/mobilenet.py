"""MobileNet (Howard et al., 2017): depthwise separable convolutions, width `alpha`, resolution multiplier."""

from __future__ import annotations

import warnings
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.models import Model

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
_SIZES = (128, 160, 192, 224)
_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
# (pointwise filters, stride) of the 13 depthwise separable blocks
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1))


def _spatial(input_shape: Any) -> tuple[Any, Any]:
    return tuple(input_shape[0:2]) if _common.channels_last() else tuple(input_shape[1:3])


def _default_size(input_shape: Any, sizes: tuple[int, ...]) -> int:
    """The input size the published weights are closest to: the given square size if one exists, else 224."""
    if input_shape is None:
        return 224
    rows, cols = _spatial(input_shape)
    return rows if rows == cols and rows in sizes else 224


def _conv_block(inputs: Any, filters: int, alpha: float, kernel: Any = (3, 3), strides: Any = (1, 1)) -> Any:
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides,
                      name="conv1")(inputs)
    x = layers.BatchNormalization(axis=_common.channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs: Any, pointwise_conv_filters: int, alpha: float, depth_multiplier: int = 1,
                          strides: Any = (1, 1), block_id: int = 1) -> Any:
    axis = _common.channel_axis()
    strided = tuple(strides) != (1, 1)
    x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs) if strided else inputs
    x = layers.DepthwiseConv2D((3, 3), padding="valid" if strided else "same", depth_multiplier=depth_multiplier,
                               strides=strides, use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def MobileNet(input_shape: Any = None, alpha: float = 1.0, depth_multiplier: int = 1, dropout: float = 1e-3,
              include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
              pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
              name: str | None = None) -> Model:
    """MobileNet v1; `alpha` scales every layer's width, `depth_multiplier` the depthwise convolutions'."""
    _common.check_weights(weights, include_top, classes)
    input_shape = _common.obtain_input_shape(input_shape, _default_size(input_shape, _SIZES), 32, include_top,
                                             weights)
    rows, cols = _spatial(input_shape)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("With weights='imagenet', `depth_multiplier` must be 1. "
                             f"Received: depth_multiplier={depth_multiplier}")
        if alpha not in _ALPHA_TEXT:
            raise ValueError("With weights='imagenet', `alpha` must be one of 0.25, 0.50, 0.75 or 1.0. "
                             f"Received: alpha={alpha}")
        if rows != cols or rows not in _SIZES:
            rows = 224
            warnings.warn("`input_shape` is undefined or not square, or `rows` is not in [128, 160, 192, 224]; "
                          "the weights for input shape (224, 224) are loaded as the default.", stacklevel=2)
    img_input = _common.image_input(input_tensor, input_shape)
    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(stride, stride), block_id=block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        _common.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling)
    if name is None:
        name = f"mobilenet_{alpha:0.2f}_{rows}"
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        fname = f"mobilenet_{_ALPHA_TEXT[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
        return _common.fetch(fname, BASE_WEIGHT_PATH + fname)

    return _common.load_weights(model, weights, imagenet_file)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale pixels to [-1, 1] (the "tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
