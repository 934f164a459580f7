"""EfficientNetV2B0-B3, S, M and L (Tan & Le, 2021): fused and depthwise MBConv stages, preprocessing built in."""

from __future__ import annotations

import copy
import math
from typing import Any

from lamina import initializers, layers
from lamina.applications import _common, imagenet_utils
from lamina.applications.efficientnet import CONV_KERNEL_INITIALIZER, DENSE_KERNEL_INITIALIZER
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
WEIGHTS_HASHES = {  # md5 of the file with the top, then without
    "b0": ("21ecbf6da12460d5c40bb2f29ceb2188", "893217f2bb855e2983157299931e43ff"),
    "b1": ("069f0534ff22adf035c89e2d9547a9dc", "0e80663031ca32d657f9caa404b6ec37"),
    "b2": ("424e49f28180edbde1e94797771950a7", "1dfe2e7a5d45b6632553a8961ea609eb"),
    "b3": ("1f1fc43bd98a6e4fd8fdfd551e02c7a0", "f6abf7b5849ac99a89b50dd3fd532856"),
    "-s": ("e1d88a8495beba45748fedd0cecbe016", "af0682fb74e8c54910f2d4393339c070"),
    "-m": ("a3bf6aa3276309f4fc6a34aa114c95cd", "1b8dc055df72dde80d614482840fe342"),
    "-l": ("27e6d408b53c7ebc868fefa357689935", "b0b66b5c863aef5b46e8608fe1711615"),
}
_FIELDS = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio", "se_ratio", "strides",
           "conv_type")  # conv_type 1: fused MBConv, 0: MBConv
_B = [(3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1), (3, 2, 32, 48, 4, 0, 2, 1),
      (3, 3, 48, 96, 4, 0.25, 2, 0), (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0)]
_STAGES = {
    "efficientnetv2-s": [(3, 2, 24, 24, 1, 0.0, 1, 1), (3, 4, 24, 48, 4, 0.0, 2, 1), (3, 4, 48, 64, 4, 0, 2, 1),
                         (3, 6, 64, 128, 4, 0.25, 2, 0), (3, 9, 128, 160, 6, 0.25, 1, 0),
                         (3, 15, 160, 256, 6, 0.25, 2, 0)],
    "efficientnetv2-m": [(3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1), (3, 5, 48, 80, 4, 0, 2, 1),
                         (3, 7, 80, 160, 4, 0.25, 2, 0), (3, 14, 160, 176, 6, 0.25, 1, 0),
                         (3, 18, 176, 304, 6, 0.25, 2, 0), (3, 5, 304, 512, 6, 0.25, 1, 0)],
    "efficientnetv2-l": [(3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1), (3, 7, 64, 96, 4, 0, 2, 1),
                         (3, 10, 96, 192, 4, 0.25, 2, 0), (3, 19, 192, 224, 6, 0.25, 1, 0),
                         (3, 25, 224, 384, 6, 0.25, 2, 0), (3, 7, 384, 640, 6, 0.25, 1, 0)],
    "efficientnetv2-b0": _B, "efficientnetv2-b1": _B, "efficientnetv2-b2": _B, "efficientnetv2-b3": _B,
}
DEFAULT_BLOCKS_ARGS = {name: [dict(zip(_FIELDS, stage)) for stage in stages] for name, stages in _STAGES.items()}


def round_filters(filters: float, width_coefficient: float, min_depth: int | None, depth_divisor: int) -> int:
    filters *= width_coefficient
    return int(max(min_depth or depth_divisor, int(filters + depth_divisor / 2) // depth_divisor * depth_divisor))


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    return int(math.ceil(depth_coefficient * repeats))


def _conv(filters: int, kernel_size: int, name: str, **kwargs: Any) -> Any:
    return layers.Conv2D(filters, kernel_size, kernel_initializer=copy.deepcopy(CONV_KERNEL_INITIALIZER),
                         padding="same", name=name, **kwargs)


def _bn(x: Any, momentum: float, name: str) -> Any:
    return layers.BatchNormalization(axis=3 if _common.channels_last() else 1, momentum=momentum, name=name)(x)


def _squeeze_excite(x: Any, filters: int, input_filters: int, se_ratio: float, activation: Any, name: str) -> Any:
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters) if _common.channels_last() else (filters, 1, 1), name=f"{name}se_reshape")(se)
    se = _conv(max(1, int(input_filters * se_ratio)), 1, f"{name}se_reduce", activation=activation)(se)
    se = _conv(filters, 1, f"{name}se_expand", activation="sigmoid")(se)
    return layers.multiply([x, se], name=f"{name}se_excite")


def _residual(x: Any, inputs: Any, input_filters: int, output_filters: int, strides: int,
              survival_probability: float, name: str) -> Any:
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            # Keras passes the survival probability as the drop rate; kept, so that models behave alike
            x = layers.Dropout(survival_probability, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.add([x, inputs], name=f"{name}add")
    return x


def MBConvBlock(input_filters: int, output_filters: int, expand_ratio: float = 1, kernel_size: int = 3,
                strides: int = 1, se_ratio: float = 0.0, bn_momentum: float = 0.9, activation: Any = "swish",
                survival_probability: float = 0.8, name: str = "block0") -> Any:
    """Inverted residual: 1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection."""
    def apply(inputs: Any) -> Any:
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, 1, f"{name}expand_conv", strides=1, use_bias=False)(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(_bn(x, bn_momentum, f"{name}expand_bn"))
        x = layers.DepthwiseConv2D(kernel_size=kernel_size, strides=strides,
                                   depthwise_initializer=copy.deepcopy(CONV_KERNEL_INITIALIZER), padding="same",
                                   use_bias=False, name=f"{name}dwconv2")(x)
        x = layers.Activation(activation, name=f"{name}activation")(_bn(x, bn_momentum, f"{name}bn"))
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
        x = _conv(output_filters, 1, f"{name}project_conv", strides=1, use_bias=False)(x)
        x = _bn(x, bn_momentum, f"{name}project_bn")
        return _residual(x, inputs, input_filters, output_filters, strides, survival_probability, name)
    return apply


def FusedMBConvBlock(input_filters: int, output_filters: int, expand_ratio: float = 1, kernel_size: int = 3,
                     strides: int = 1, se_ratio: float = 0.0, bn_momentum: float = 0.9, activation: Any = "swish",
                     survival_probability: float = 0.8, name: str = "block0") -> Any:
    """The expansion and the depthwise convolution fused into one full convolution."""
    def apply(inputs: Any) -> Any:
        filters = input_filters * expand_ratio
        x = inputs
        if expand_ratio != 1:
            x = _conv(filters, kernel_size, f"{name}expand_conv", strides=strides, use_bias=False)(x)
            x = layers.Activation(activation, name=f"{name}expand_activation")(_bn(x, bn_momentum, f"{name}expand_bn"))
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, filters, input_filters, se_ratio, activation, name)
        fused = expand_ratio == 1
        x = _conv(output_filters, kernel_size if fused else 1, f"{name}project_conv", strides=strides if fused else 1,
                  use_bias=False)(x)
        x = _bn(x, bn_momentum, f"{name}project_bn")
        if fused:
            x = layers.Activation(activation, name=f"{name}project_activation")(x)
        return _residual(x, inputs, input_filters, output_filters, strides, survival_probability, name)
    return apply


def EfficientNetV2(width_coefficient: float, depth_coefficient: float, default_size: int, dropout_rate: float = 0.2,
                   drop_connect_rate: float = 0.2, depth_divisor: int = 8, min_depth: int = 8,
                   bn_momentum: float = 0.9, activation: Any = "swish", blocks_args: Any = "default",
                   name: str = "efficientnetv2", include_top: bool = True, weights: Any = "imagenet",
                   input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None,
                   classes: int = 1000, classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                   weights_name: str | None = None) -> Model:
    """An EfficientNetV2; with blocks_args="default", the stages are those of the variant `name` names."""
    if blocks_args == "default":
        if name not in DEFAULT_BLOCKS_ARGS:
            raise ValueError(f"blocks_args='default' takes the stages of the variant that `name` names, one of "
                             f"{sorted(DEFAULT_BLOCKS_ARGS)}. Received: name={name!r}")
        blocks_args = DEFAULT_BLOCKS_ARGS[name]
    _common.check_weights(weights, include_top, classes)
    input_shape = _common.obtain_input_shape(input_shape, default_size, 32, include_top, weights)
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 3 if _common.channels_last() else 1

    def filters_of(count: float) -> int:
        return round_filters(count, width_coefficient, min_depth, depth_divisor)

    x = img_input
    if include_preprocessing:
        if name.split("-")[-1].startswith("b") and input_shape[axis - 1] == 3:
            x = layers.Rescaling(scale=1.0 / 255)(x)
            x = layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229 ** 2, 0.224 ** 2, 0.225 ** 2],
                                     axis=axis)(x)
        else:
            x = layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)
    x = _conv(filters_of(blocks_args[0]["input_filters"]), 3, "stem_conv", strides=2, use_bias=False)(x)
    x = layers.Activation(activation, name="stem_activation")(_bn(x, bn_momentum, "stem_bn"))

    stages = copy.deepcopy(blocks_args)
    total = float(sum(args["num_repeat"] for args in stages))
    b = 0
    for i, args in enumerate(stages):
        if args["num_repeat"] <= 0:
            raise ValueError(f"Each stage of `blocks_args` needs num_repeat > 0. Received: {args}")
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        block = FusedMBConvBlock if args.pop("conv_type") == 1 else MBConvBlock
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(activation=activation, bn_momentum=bn_momentum,
                      survival_probability=drop_connect_rate * b / total, name=f"block{i + 1}{chr(j + 97)}_",
                      **args)(x)
            b += 1

    x = _conv(filters_of(1280), 1, "top_conv", strides=1, use_bias=False)(x)
    x = layers.Activation(activation=activation, name="top_activation")(_bn(x, bn_momentum, "top_bn"))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = layers.Dropout(dropout_rate, name="top_dropout")(x)
        _common.validate_activation(classifier_activation, weights)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=copy.deepcopy(DENSE_KERNEL_INITIALIZER),
                         bias_initializer=initializers.Constant(0.0), name="predictions")(x)
    else:
        x = _common.pool(x, pooling, ("avg_pool", "max_pool"))
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        if weights_name not in WEIGHTS_HASHES:
            raise ValueError(f"No ImageNet weights are published for {name!r}.")
        fname = name + (".h5" if include_top else "_notop.h5")
        return _common.fetch(fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1])

    return _common.load_weights(model, weights, imagenet_file)


_VARIANTS = {  # weights name: (width, depth, default size)
    "b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260), "b3": (1.2, 1.4, 300),
    "-s": (1.0, 1.0, 384), "-m": (1.0, 1.0, 480), "-l": (1.0, 1.0, 480),
}


def _variant(key: str, include_top: bool, weights: Any, input_tensor: Any, input_shape: Any, pooling: str | None,
             classes: int, classifier_activation: Any, include_preprocessing: bool, name: str) -> Model:
    width, depth, size = _VARIANTS[key]
    stages = DEFAULT_BLOCKS_ARGS["efficientnetv2" + (key if key.startswith("-") else f"-{key}")]
    return EfficientNetV2(width, depth, size, blocks_args=stages, name=name, include_top=include_top,
                          weights=weights, input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                          classes=classes, classifier_activation=classifier_activation,
                          include_preprocessing=include_preprocessing, weights_name=key)


def EfficientNetV2B0(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                     input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                     classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b0") -> Model:
    return _variant("b0", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2B1(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                     input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                     classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b1") -> Model:
    return _variant("b1", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2B2(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                     input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                     classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b2") -> Model:
    return _variant("b2", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2B3(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                     input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                     classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                     name: str = "efficientnetv2-b3") -> Model:
    return _variant("b3", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2S(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                    input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                    classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                    name: str = "efficientnetv2-s") -> Model:
    return _variant("-s", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2M(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                    input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                    classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                    name: str = "efficientnetv2-m") -> Model:
    return _variant("-m", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def EfficientNetV2L(include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
                    input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                    classifier_activation: Any = "softmax", include_preprocessing: bool = True,
                    name: str = "efficientnetv2-l") -> Model:
    return _variant("-l", include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
                    include_preprocessing, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Returns `x` unchanged: EfficientNetV2 models rescale their inputs themselves (include_preprocessing)."""
    return x


decode_predictions = imagenet_utils.decode_predictions
