"""NASNetMobile and NASNetLarge (Zoph et al., 2018): cells found by architecture search (channels_last)."""

from __future__ import annotations

import warnings
from typing import Any

from lamina import layers
from lamina.applications import _common, imagenet_utils
from lamina.models import Model

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
_FILES = {  # default size: (file with the top, md5), (file without, md5)
    224: (("NASNet-mobile.h5", "020fb642bf7360b370c678b08e0adf61"),
          ("NASNet-mobile-no-top.h5", "1ed92395b5b598bdda52abe5c0dbfd63")),
    331: (("NASNet-large.h5", "11577c9a518f0070763c2b964a382f17"),
          ("NASNet-large-no-top.h5", "d81d89dc07e6e56530c4e77faddd61b5")),
}


def _bn(x: Any, name: str | None = None) -> Any:
    return layers.BatchNormalization(axis=_common.channel_axis(), momentum=0.9997, epsilon=1e-3, name=name)(x)


def _conv1x1(x: Any, filters: int, name: str | None = None) -> Any:
    return layers.Conv2D(filters, (1, 1), strides=(1, 1), padding="same", use_bias=False,
                         kernel_initializer="he_normal", name=name)(x)


def _separable_conv_block(ip: Any, filters: int, kernel_size: Any = (3, 3), strides: Any = (1, 1),
                          block_id: str = "") -> Any:
    """Two relu, separable convolution, batch norm rounds; the first may stride."""
    x = layers.Activation("relu")(ip)
    strided = tuple(strides) == (2, 2)
    if strided:
        x = layers.ZeroPadding2D(padding=_common.correct_pad(x, kernel_size),
                                 name=f"separable_conv_1_pad_{block_id}")(x)
    x = layers.SeparableConv2D(filters, kernel_size, strides=strides, padding="valid" if strided else "same",
                               use_bias=False, name=f"separable_conv_1_{block_id}")(x)
    x = _bn(x, f"separable_conv_1_bn_{block_id}")
    x = layers.Activation("relu")(x)
    x = layers.SeparableConv2D(filters, kernel_size, padding="same", use_bias=False,
                               name=f"separable_conv_2_{block_id}")(x)
    return _bn(x, f"separable_conv_2_bn_{block_id}")


def _adjust_block(p: Any, ip: Any, filters: int, block_id: str = "") -> Any:
    """Brings the previous cell's output `p` to the size and width of the current input `ip`."""
    channel_dim = _common.channel_axis()
    img_dim = -2 if _common.channels_last() else 2
    if p is None:
        return ip
    if p.shape[img_dim] != ip.shape[img_dim]:
        p = layers.Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False, kernel_initializer="he_normal",
                           name=f"adjust_conv_1_{block_id}")(p1)
        p2 = layers.ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = layers.Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = layers.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = layers.Conv2D(filters // 2, (1, 1), padding="same", use_bias=False, kernel_initializer="he_normal",
                           name=f"adjust_conv_2_{block_id}")(p2)
        p = layers.concatenate([p1, p2], axis=channel_dim)
        return _bn(p, f"adjust_bn_{block_id}")
    if p.shape[channel_dim] != filters:
        p = layers.Activation("relu")(p)
        p = _conv1x1(p, filters, f"adjust_conv_projection_{block_id}")
        return _bn(p, f"adjust_bn_{block_id}")
    return p


def _avg_pool(x: Any, strides: int, padding: str, name: str) -> Any:
    return layers.AveragePooling2D((3, 3), strides=(strides, strides), padding=padding, name=name)(x)


def _normal_a_cell(ip: Any, p: Any, filters: int, block_id: str = "") -> tuple[Any, Any]:
    p = _adjust_block(p, ip, filters, block_id)
    h = _bn(_conv1x1(layers.Activation("relu")(ip), filters, f"normal_conv_1_{block_id}"), f"normal_bn_1_{block_id}")
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), block_id=f"normal_left1_{block_id}"),
                     _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")],
                    name=f"normal_add_1_{block_id}")
    x2 = layers.add([_separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}"),
                     _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")],
                    name=f"normal_add_2_{block_id}")
    x3 = layers.add([_avg_pool(h, 1, "same", f"normal_left3_{block_id}"), p], name=f"normal_add_3_{block_id}")
    x4 = layers.add([_avg_pool(p, 1, "same", f"normal_left4_{block_id}"),
                     _avg_pool(p, 1, "same", f"normal_right4_{block_id}")], name=f"normal_add_4_{block_id}")
    x5 = layers.add([_separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}"), h],
                    name=f"normal_add_5_{block_id}")
    x = layers.concatenate([p, x1, x2, x3, x4, x5], axis=_common.channel_axis(), name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip: Any, p: Any, filters: int, block_id: str = "") -> tuple[Any, Any]:
    p = _adjust_block(p, ip, filters, block_id)
    h = _conv1x1(layers.Activation("relu")(ip), filters, f"reduction_conv_1_{block_id}")
    h = _bn(h, f"reduction_bn_1_{block_id}")
    h3 = layers.ZeroPadding2D(padding=_common.correct_pad(h, 3), name=f"reduction_pad_1_{block_id}")(h)
    x1 = layers.add([_separable_conv_block(h, filters, (5, 5), strides=(2, 2), block_id=f"reduction_left1_{block_id}"),
                     _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                           block_id=f"reduction_right1_{block_id}")],
                    name=f"reduction_add_1_{block_id}")
    x2 = layers.add([layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                         name=f"reduction_left2_{block_id}")(h3),
                     _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                           block_id=f"reduction_right2_{block_id}")],
                    name=f"reduction_add_2_{block_id}")
    x3 = layers.add([_avg_pool(h3, 2, "valid", f"reduction_left3_{block_id}"),
                     _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                           block_id=f"reduction_right3_{block_id}")],
                    name=f"reduction_add3_{block_id}")
    x4 = layers.add([x2, _avg_pool(x1, 1, "same", f"reduction_left4_{block_id}")])
    x5 = layers.add([_separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}"),
                     layers.MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                                         name=f"reduction_right5_{block_id}")(h3)],
                    name=f"reduction_add4_{block_id}")
    x = layers.concatenate([x2, x3, x4, x5], axis=_common.channel_axis(), name=f"reduction_concat_{block_id}")
    return x, ip


def NASNet(input_shape: Any = None, penultimate_filters: int = 4032, num_blocks: int = 6,
           stem_block_filters: int = 96, skip_reduction: bool = True, filter_multiplier: int = 2,
           include_top: bool = True, weights: Any = "imagenet", input_tensor: Any = None,
           pooling: str | None = None, classes: int = 1000, default_size: int | None = None,
           classifier_activation: Any = "softmax", name: str = "NASNet") -> Model:
    """A NASNet: a stem of two reduction cells, then three stacks of `num_blocks` normal cells."""
    _common.check_weights(weights, include_top, classes)
    if weights == "imagenet" and input_shape is not None and None in tuple(input_shape):
        raise ValueError("With weights='imagenet', the input_shape must be static (no None entries). "
                         f"Received: input_shape={input_shape}")
    default_size = 331 if default_size is None else default_size
    input_shape = _common.obtain_input_shape(input_shape, default_size, 32, include_top, weights)
    if not _common.channels_last():
        warnings.warn("NASNet models expect channels_last inputs; the returned model takes channels_last inputs.",
                      stacklevel=2)
    img_input = _common.image_input(input_tensor, input_shape)
    if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
        raise ValueError("`penultimate_filters` must be a multiple of 24 * filter_multiplier**2. "
                         f"Received: penultimate_filters={penultimate_filters}")
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                      name="stem_conv1", kernel_initializer="he_normal")(img_input)
    x = _bn(x, "stem_bn1")
    p = None
    x, p = _reduction_a_cell(x, p, filters // (filter_multiplier ** 2), block_id="stem_1")
    x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
    for stack in range(3):
        width = filters * filter_multiplier ** stack
        for i in range(num_blocks):
            x, p = _normal_a_cell(x, p, width, block_id=f"{i}" if stack == 0 else f"{stack * num_blocks + i + 1}")
        if stack < 2:
            x, p0 = _reduction_a_cell(x, p, filters * filter_multiplier ** (stack + 1),
                                      block_id=f"reduce_{(stack + 1) * num_blocks}")
            p = p if skip_reduction else p0
    x = layers.Activation("relu")(x)
    x = _common.classifier_head(x, include_top, pooling, classes, classifier_activation, weights, pool_name=None)
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        if default_size not in _FILES:
            raise ValueError("ImageNet weights are published only for NASNetMobile (default_size=224) and "
                             f"NASNetLarge (default_size=331). Received: default_size={default_size}")
        fname, md5 = _FILES[default_size][0 if include_top else 1]
        return _common.fetch(fname, BASE_WEIGHTS_PATH + fname, md5)

    return _common.load_weights(model, weights, imagenet_file)


def NASNetMobile(input_shape: Any = None, include_top: bool = True, weights: Any = "imagenet",
                 input_tensor: Any = None, pooling: str | None = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "nasnet_mobile") -> Model:
    if not include_top and input_shape is None:  # as Keras: the cells then see the sizes of a 224x224 input
        input_shape = (224, 224, 3)
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=224, classifier_activation=classifier_activation,
                  name=name)


def NASNetLarge(input_shape: Any = None, include_top: bool = True, weights: Any = "imagenet",
                input_tensor: Any = None, pooling: str | None = None, classes: int = 1000,
                classifier_activation: Any = "softmax", name: str = "nasnet_large") -> Model:
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
                  filter_multiplier=2, include_top=include_top, weights=weights, input_tensor=input_tensor,
                  pooling=pooling, classes=classes, default_size=331, classifier_activation=classifier_activation,
                  name=name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Scale pixels to [-1, 1] (the "tf" mode)."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


decode_predictions = imagenet_utils.decode_predictions
