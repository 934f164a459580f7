"""MobileNetV3Small and MobileNetV3Large (Howard et al., 2019), with their preprocessing built in."""

from __future__ import annotations

import warnings
from typing import Any, Callable

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.applications.mobilenet_v2 import _make_divisible
from lamina.models import Model

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
WEIGHTS_HASHES = {  # md5 of the file with the top, then without
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}
# (expansion, filters, kernel ("k": the model's kernel), stride, squeeze-excite, activation ("act": the model's))
_SMALL = ((1, 16, 3, 2, True, "relu"), (72.0 / 16, 24, 3, 2, False, "relu"), (88.0 / 24, 24, 3, 1, False, "relu"),
          (4, 40, "k", 2, True, "act"), (6, 40, "k", 1, True, "act"), (6, 40, "k", 1, True, "act"),
          (3, 48, "k", 1, True, "act"), (3, 48, "k", 1, True, "act"), (6, 96, "k", 2, True, "act"),
          (6, 96, "k", 1, True, "act"), (6, 96, "k", 1, True, "act"))
_LARGE = ((1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
          (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (6, 80, 3, 2, False, "act"), (2.5, 80, 3, 1, False, "act"), (2.3, 80, 3, 1, False, "act"),
          (2.3, 80, 3, 1, False, "act"), (6, 112, 3, 1, True, "act"), (6, 112, 3, 1, True, "act"),
          (6, 160, "k", 2, True, "act"), (6, 160, "k", 1, True, "act"), (6, 160, "k", 1, True, "act"))


def _depth(v: float, divisor: int = 8) -> int:
    return _make_divisible(v, divisor)


def relu(x: Any) -> Any:
    return layers.ReLU()(x)


def hard_sigmoid(x: Any) -> Any:
    return layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)


def hard_swish(x: Any) -> Any:
    return layers.Activation("hard_swish")(x)


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=_common.channel_axis(), epsilon=1e-3, momentum=0.999, name=name)(x)


def _se_block(inputs: Any, filters: int, se_ratio: float, prefix: str) -> Any:
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, hard_sigmoid(x)])


def _inverted_res_block(x: Any, expansion: float, filters: int, kernel_size: int, stride: int,
                        se_ratio: float | None, activation: Callable[[Any], Any], block_id: int) -> Any:
    shortcut = x
    infilters = x.shape[_common.channel_axis()]
    prefix = "expanded_conv_"
    if block_id:
        prefix = f"expanded_conv_{block_id}_"
        x = layers.Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same", use_bias=False,
                          name=f"{prefix}expand")(x)
        x = activation(_bn(x, f"{prefix}expand_bn"))
    if stride == 2:
        x = layers.ZeroPadding2D(padding=_common.correct_pad(x, kernel_size), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, name=f"{prefix}depthwise")(x)
    x = activation(_bn(x, f"{prefix}depthwise_bn"))
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = layers.Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn(x, f"{prefix}project_bn")
    if stride == 1 and infilters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def _input_shape(input_shape: Any, input_tensor: Any) -> tuple:
    if input_shape is None and input_tensor is not None and _common.is_keras_tensor(input_tensor):
        shape = tuple(input_tensor.shape)
        # Keras swaps rows and columns here; kept so that the same arguments build the same model
        return (shape[2], shape[1], 3) if _common.channels_last() else (3, shape[3], shape[2])
    if input_shape is None:
        return (None, None, 3) if _common.channels_last() else (3, None, None)
    return tuple(input_shape)


def MobileNetV3(stack: Any, last_point_ch: int, input_shape: Any = None, alpha: float = 1.0,
                model_type: str = "large", minimalistic: bool = False, include_top: bool = True,
                weights: Any = "imagenet", input_tensor: Any = None, classes: int = 1000,
                pooling: str | None = None, dropout_rate: float = 0.2, classifier_activation: Any = "softmax",
                include_preprocessing: bool = True, name: str | None = None) -> Model:
    """A MobileNetV3 from its block table (see _SMALL and _LARGE)."""
    _common.check_weights(weights, include_top, classes)
    input_shape = _input_shape(input_shape, input_tensor)
    rows, cols = (input_shape[0], input_shape[1]) if _common.channels_last() else (input_shape[1], input_shape[2])
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32. Received: input_shape={input_shape}")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("With weights='imagenet', `alpha` must be 0.75 or 1.0 (1.0 when minimalistic). "
                             f"Received: alpha={alpha}, minimalistic={minimalistic}")
        if rows != cols or rows != 224:
            warnings.warn("`input_shape` is undefined or not square, or `rows` is not 224; the weights for input "
                          "shape (224, 224) are loaded as the default.", stacklevel=3)
    img_input = _common.image_input(input_tensor, input_shape)
    kernel, activation, se_ratio = (3, relu, None) if minimalistic else (5, hard_swish, 0.25)
    x = img_input
    if include_preprocessing:
        x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = layers.Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False, name="conv")(x)
    x = activation(_bn(x, "conv_bn"))
    for block_id, (expansion, filters, size, stride, se, act) in enumerate(stack):
        x = _inverted_res_block(x, expansion, _depth(filters * alpha), kernel if size == "k" else size, stride,
                                se_ratio if se else None, activation if act == "act" else relu, block_id)
    last_conv_ch = _depth(x.shape[_common.channel_axis()] * 6)
    if alpha > 1.0:
        last_point_ch = _depth(last_point_ch * alpha)
    x = layers.Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="conv_1")(x)
    x = activation(_bn(x, "conv_1_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = activation(layers.Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="conv_2")(x))
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate)(x)
        x = layers.Conv2D(classes, kernel_size=1, padding="same", name="logits")(x)
        x = layers.Flatten()(x)
        _common.validate_activation(classifier_activation, weights)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pool(x, pooling, ("avg_pool", "max_pool"))
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        key = f"{model_type}{'_minimalistic' if minimalistic else ''}_224_{alpha}_float"
        fname = f"weights_mobilenet_v3_{key}{'' if include_top else '_no_top_v2'}.h5"
        return _common.fetch(fname, BASE_WEIGHT_PATH + fname, WEIGHTS_HASHES[key][0 if include_top else 1])

    return _common.load_weights(model, weights, imagenet_file)


def MobileNetV3Small(input_shape: Any = None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                     classes: int = 1000, pooling: str | None = None, dropout_rate: float = 0.2,
                     classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                     name: str = "MobileNetV3Small") -> Model:
    return MobileNetV3(_SMALL, 1024, input_shape, alpha, "small", minimalistic, include_top, weights, input_tensor,
                       classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name)


def MobileNetV3Large(input_shape: Any = None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                     classes: int = 1000, pooling: str | None = None, dropout_rate: float = 0.2,
                     classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                     name: str = "MobileNetV3Large") -> Model:
    return MobileNetV3(_LARGE, 1280, input_shape, alpha, "large", minimalistic, include_top, weights, input_tensor,
                       classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Returns `x` unchanged: MobileNetV3 models rescale their inputs themselves (include_preprocessing)."""
    return x


decode_predictions = imagenet_utils.decode_predictions
