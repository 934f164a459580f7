"""EfficientNetB0-B7 (Tan & Le, 2019): compound-scaled MBConv networks with squeeze-and-excitation.

The models take RGB images in [0, 255]: rescaling and normalization are their first layers.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from lamina import layers
from lamina.applications import _common
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/keras-applications/"
WEIGHTS_HASHES = {  # md5 of the file with the top, then without
    "b0": ("902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"),
    "b1": ("1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"),
    "b2": ("b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"),
    "b3": ("ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"),
    "b4": ("18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"),
    "b5": ("ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"),
    "b6": ("165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"),
    "b7": ("8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"),
}


def _stage(kernel_size: int, repeats: int, filters_in: int, filters_out: int, expand_ratio: int,
           strides: int) -> dict[str, Any]:
    return {"kernel_size": kernel_size, "repeats": repeats, "filters_in": filters_in, "filters_out": filters_out,
            "expand_ratio": expand_ratio, "id_skip": True, "strides": strides, "se_ratio": 0.25}


DEFAULT_BLOCKS_ARGS = [_stage(3, 1, 32, 16, 1, 1), _stage(3, 2, 16, 24, 6, 2), _stage(5, 2, 24, 40, 6, 2),
                       _stage(3, 3, 40, 80, 6, 2), _stage(5, 3, 80, 112, 6, 1), _stage(5, 4, 112, 192, 6, 2),
                       _stage(3, 1, 192, 320, 6, 1)]
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def _bn(x: Any, name: str) -> Any:
    return layers.BatchNormalization(axis=_common.channel_axis(), name=name)(x)


def _conv(filters: int, kernel_size: int, name: str, **kwargs: Any) -> Any:
    return layers.Conv2D(filters, kernel_size, kernel_initializer=copy.deepcopy(CONV_KERNEL_INITIALIZER), name=name,
                         **kwargs)


def block(inputs: Any, activation: Any = "swish", drop_rate: float = 0.0, name: str = "", filters_in: int = 32,
          filters_out: int = 16, kernel_size: int = 3, strides: int = 1, expand_ratio: int = 1,
          se_ratio: float = 0.0, id_skip: bool = True) -> Any:
    """One MBConv block: expansion, depthwise convolution, squeeze-and-excitation, projection, residual."""
    filters = filters_in * expand_ratio
    x = inputs
    if expand_ratio != 1:
        x = _conv(filters, 1, f"{name}expand_conv", padding="same", use_bias=False)(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(_bn(x, f"{name}expand_bn"))
    if strides == 2:
        x = layers.ZeroPadding2D(padding=_common.correct_pad(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="valid" if strides == 2 else "same",
                               use_bias=False, depthwise_initializer=copy.deepcopy(CONV_KERNEL_INITIALIZER),
                               name=f"{name}dwconv")(x)
    x = layers.Activation(activation, name=f"{name}activation")(_bn(x, f"{name}bn"))
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se_shape = (1, 1, filters) if _common.channels_last() else (filters, 1, 1)
        se = layers.Reshape(se_shape, name=f"{name}se_reshape")(se)
        se = _conv(filters_se, 1, f"{name}se_reduce", padding="same", activation=activation)(se)
        se = _conv(filters, 1, f"{name}se_expand", padding="same", activation="sigmoid")(se)
        x = layers.multiply([x, se], name=f"{name}se_excite")
    x = _conv(filters_out, 1, f"{name}project_conv", padding="same", use_bias=False)(x)
    x = _bn(x, f"{name}project_bn")
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def EfficientNet(width_coefficient: float, depth_coefficient: float, default_size: int, dropout_rate: float = 0.2,
                 drop_connect_rate: float = 0.2, depth_divisor: int = 8, activation: Any = "swish",
                 blocks_args: Any = "default", name: str = "efficientnet", include_top: bool = True,
                 weights: Any = "imagenet", input_tensor: Any = None, input_shape: Any = None,
                 pooling: str | None = None, classes: int = 1000, classifier_activation: Any = "softmax",
                 weights_name: str | None = None) -> Model:
    """An EfficientNet scaled by width and depth coefficients."""
    blocks_args = DEFAULT_BLOCKS_ARGS if blocks_args == "default" else blocks_args
    _common.check_weights(weights, include_top, classes)
    input_shape = _common.obtain_input_shape(input_shape, default_size, 32, include_top, weights)
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 3 if _common.channels_last() else 1

    def round_filters(filters: float) -> int:
        filters *= width_coefficient
        rounded = max(depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor)
        return int(rounded + depth_divisor if rounded < 0.9 * filters else rounded)

    def round_repeats(repeats: int) -> int:
        return int(math.ceil(depth_coefficient * repeats))

    x = layers.Rescaling(1.0 / 255.0)(img_input)
    x = layers.Normalization(axis=axis)(x)
    if weights == "imagenet":
        # The published weights expect this scale (1/sqrt of the standard deviation), which Keras keeps too.
        x = layers.Rescaling([1.0 / math.sqrt(stddev) for stddev in IMAGENET_STDDEV_RGB])(x)
    x = layers.ZeroPadding2D(padding=_common.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = _conv(round_filters(32), 3, "stem_conv", strides=2, padding="valid", use_bias=False)(x)
    x = layers.Activation(activation, name="stem_activation")(_bn(x, "stem_bn"))

    stages = copy.deepcopy(blocks_args)
    total = float(sum(round_repeats(args["repeats"]) for args in stages))
    b = 0
    for i, args in enumerate(stages):
        if args["repeats"] <= 0:
            raise ValueError(f"Each stage of `blocks_args` needs repeats > 0. Received: {args}")
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = _conv(round_filters(1280), 1, "top_conv", padding="same", use_bias=False)(x)
    x = layers.Activation(activation, name="top_activation")(_bn(x, "top_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        _common.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=copy.deepcopy(DENSE_KERNEL_INITIALIZER), name="predictions")(x)
    else:
        x = _common.pool(x, pooling, ("avg_pool", "max_pool"))
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        if weights_name not in WEIGHTS_HASHES:
            raise ValueError(f"No ImageNet weights are published for {name!r}.")
        fname = name + (".h5" if include_top else "_notop.h5")
        return _common.fetch(fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1])

    return _common.load_weights(model, weights, imagenet_file)


_VARIANTS = {  # width, depth, default size, dropout
    "b0": (1.0, 1.0, 224, 0.2), "b1": (1.0, 1.1, 240, 0.2), "b2": (1.1, 1.2, 260, 0.3), "b3": (1.2, 1.4, 300, 0.3),
    "b4": (1.4, 1.8, 380, 0.4), "b5": (1.6, 2.2, 456, 0.4), "b6": (1.8, 2.6, 528, 0.5), "b7": (2.0, 3.1, 600, 0.5),
}


def _variant(key: str, include_top: bool, weights: Any, input_tensor: Any, input_shape: Any, pooling: str | None,
             classes: int, classifier_activation: Any, name: str) -> Model:
    width, depth, size, dropout = _VARIANTS[key]
    return EfficientNet(width, depth, size, dropout, name=name, include_top=include_top, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, weights_name=key)


def EfficientNetB0(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb0") -> Model:
    return _variant("b0", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB1(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb1") -> Model:
    return _variant("b1", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb2") -> Model:
    return _variant("b2", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB3(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb3") -> Model:
    return _variant("b3", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB4(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb4") -> Model:
    return _variant("b4", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB5(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb5") -> Model:
    return _variant("b5", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB6(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb6") -> Model:
    return _variant("b6", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def EfficientNetB7(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                   input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "efficientnetb7") -> Model:
    return _variant("b7", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Returns `x` unchanged: EfficientNet models preprocess their inputs themselves."""
    return x


def decode_predictions(preds: Any, top: int = 5) -> list[list[tuple[str, str, float]]]:
    from lamina.applications import imagenet_utils

    return imagenet_utils.decode_predictions(preds, top=top)
