"""ConvNeXtTiny/Small/Base/Large/XLarge (Liu et al., 2022), with their preprocessing built in (channels_last)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend, initializers, layers
from lamina.applications import _common, imagenet_utils
from lamina.layers import Layer
from lamina.models import Model, Sequential

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
WEIGHTS_HASHES = {  # sha256 of the file with the top, then without
    "convnext_tiny": ("8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                      "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1"),
    "convnext_small": ("ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                       "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab"),
    "convnext_base": ("52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                      "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45"),
    "convnext_large": ("070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                       "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd"),
    "convnext_xlarge": ("c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                        "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05"),
}
MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768], "default_size": 224},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024], "default_size": 224},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536], "default_size": 224},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048], "default_size": 224},
}


class StochasticDepth(Layer):
    """While training, drops the whole residual branch of a sample with probability `drop_path_rate`."""

    def __init__(self, drop_path_rate: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate
        self.seed_generator = backend.impl.SeedGenerator(None)

    def call(self, x: Any, training: bool | None = None) -> Any:
        if not training or not self.drop_path_rate:
            return x
        B = backend.impl
        shape = (B.shape(x)[0],) + (1,) * (len(B.shape(x)) - 1)
        keep = B.dropout(B.ones(shape, B.dtype_of(x)), self.drop_path_rate, self.seed_generator)
        return B.multiply(x, keep)

    def get_config(self) -> dict:
        return {**super().get_config(), "drop_path_rate": self.drop_path_rate}


class LayerScale(Layer):
    """Scales each channel by a learned factor that starts at `init_values`."""

    def __init__(self, init_values: float, projection_dim: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape: Any) -> None:
        self.gamma = self.add_weight(shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values), trainable=True)

    def call(self, x: Any) -> Any:
        return backend.impl.multiply(x, self.gamma)

    def get_config(self) -> dict:
        return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}


def ConvNeXtBlock(projection_dim: int, drop_path_rate: float = 0.0, layer_scale_init_value: float | None = 1e-6,
                  name: str = "convnext_block") -> Any:
    """Depthwise 7x7 convolution, layer norm, inverted MLP (4x, gelu), layer scale, residual."""
    def apply(inputs: Any) -> Any:
        x = layers.Conv2D(filters=projection_dim, kernel_size=7, padding="same", groups=projection_dim,
                          name=f"{name}_depthwise_conv")(inputs)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
        x = layers.Dense(4 * projection_dim, name=f"{name}_pointwise_conv_1")(x)
        x = layers.Activation("gelu", name=f"{name}_gelu")(x)
        x = layers.Dense(projection_dim, name=f"{name}_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim, name=f"{name}_layer_scale")(x)
        if drop_path_rate:
            branch = StochasticDepth(drop_path_rate, name=f"{name}_stochastic_depth")
        else:
            branch = layers.Activation("linear", name=f"{name}_identity")
        return inputs + branch(x)
    return apply


def PreStem(name: str = "convnext") -> Any:
    """Normalizes [0, 255] RGB inputs with ImageNet's per-channel mean and standard deviation."""
    def apply(x: Any) -> Any:
        return layers.Normalization(mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
                                    variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2],
                                    name=f"{name}_prestem_normalization")(x)
    return apply


def Head(num_classes: int = 1000, classifier_activation: Any = None, name: str = "convnext") -> Any:
    def apply(x: Any) -> Any:
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(x)
        return layers.Dense(num_classes, activation=classifier_activation, name=f"{name}_head_dense")(x)
    return apply


def _downsampling(name: str, index: int, filters: int) -> Sequential:
    return Sequential([layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{index}"),
                       layers.Conv2D(filters, kernel_size=2, strides=2, name=f"{name}_downsampling_conv_{index}")],
                      name=f"{name}_downsampling_block_{index}")


def ConvNeXt(depths: Sequence[int], projection_dims: Sequence[int], drop_path_rate: float = 0.0,
             layer_scale_init_value: float | None = 1e-6, default_size: int = 224, name: str = "convnext",
             include_preprocessing: bool = True, include_top: bool = True, weights: Any = None,
             input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
             classifier_activation: Any = "softmax", weights_name: str | None = None) -> Model:
    """A ConvNeXt with the given stage depths and widths."""
    if not _common.channels_last():
        raise ValueError("ConvNeXt supports only the 'channels_last' image data format; set it with "
                         "lamina.config.set_image_data_format('channels_last').")
    _common.check_weights(weights, include_top, classes)
    input_shape = _common.obtain_input_shape(input_shape, default_size, 32, include_top, weights)
    img_input = _common.image_input(input_tensor, input_shape)
    x = img_input
    if include_preprocessing and input_shape[-1] == 3:
        x = PreStem(name=name)(x)
    stem = Sequential([layers.Conv2D(projection_dims[0], kernel_size=4, strides=4, name=f"{name}_stem_conv"),
                       layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm")],
                      name=f"{name}_stem")
    downsampling = [stem] + [_downsampling(name, i, projection_dims[i + 1]) for i in range(3)]
    rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    done = 0
    for stage in range(4):
        x = downsampling[stage](x)
        for j in range(depths[stage]):
            x = ConvNeXtBlock(projection_dims[stage], rates[done + j], layer_scale_init_value,
                              name=f"{name}_stage_{stage}_block_{j}")(x)
        done += depths[stage]
    if include_top:
        _common.validate_activation(classifier_activation, weights)
        x = Head(classes, classifier_activation, name=name)(x)
    else:
        x = _common.pool(x, pooling)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    model = Model(_common.model_inputs(input_tensor, img_input), x, name=name)

    def imagenet_file() -> str:
        if weights_name not in WEIGHTS_HASHES:
            raise ValueError(f"No ImageNet weights are published for {name!r}.")
        expected = MODEL_CONFIGS[weights_name.split("convnext_")[-1]]
        if list(depths) != expected["depths"] or list(projection_dims) != expected["projection_dims"]:
            raise ValueError(f"The architecture does not match {weights_name}'s pretrained weights: expected "
                             f"depths {expected['depths']} and projection_dims {expected['projection_dims']}.")
        if weights_name not in name:
            raise ValueError(f"With weights='imagenet', the model name must contain {weights_name!r}. "
                             f"Received: name={name!r}")
        fname = name + (".h5" if include_top else "_notop.h5")
        return _common.fetch(fname, BASE_WEIGHTS_PATH + fname, WEIGHTS_HASHES[weights_name][0 if include_top else 1])

    return _common.load_weights(model, weights, imagenet_file)


def _variant(size: str, include_top: bool, include_preprocessing: bool, weights: Any, input_tensor: Any,
             input_shape: Any, pooling: str | None, classes: int, classifier_activation: Any, name: str) -> Model:
    config = MODEL_CONFIGS[size]
    return ConvNeXt(config["depths"], config["projection_dims"], drop_path_rate=0.0, layer_scale_init_value=1e-6,
                    default_size=config["default_size"], name=name, include_top=include_top,
                    include_preprocessing=include_preprocessing, weights=weights, input_tensor=input_tensor,
                    input_shape=input_shape, pooling=pooling, classes=classes,
                    classifier_activation=classifier_activation, weights_name=f"convnext_{size}")


def ConvNeXtTiny(include_top: bool = True, include_preprocessing: bool = True, weights: Any = "imagenet",
                 input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "convnext_tiny") -> Model:
    return _variant("tiny", include_top, include_preprocessing, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def ConvNeXtSmall(include_top: bool = True, include_preprocessing: bool = True, weights: Any = "imagenet",
                  input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                  classifier_activation: Any = "softmax", name: str = "convnext_small") -> Model:
    return _variant("small", include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name)


def ConvNeXtBase(include_top: bool = True, include_preprocessing: bool = True, weights: Any = "imagenet",
                 input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                 classifier_activation: Any = "softmax", name: str = "convnext_base") -> Model:
    return _variant("base", include_top, include_preprocessing, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, name)


def ConvNeXtLarge(include_top: bool = True, include_preprocessing: bool = True, weights: Any = "imagenet",
                  input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                  classifier_activation: Any = "softmax", name: str = "convnext_large") -> Model:
    return _variant("large", include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name)


def ConvNeXtXLarge(include_top: bool = True, include_preprocessing: bool = True, weights: Any = "imagenet",
                   input_tensor: Any = None, input_shape: Any = None, pooling: str | None = None, classes: int = 1000,
                   classifier_activation: Any = "softmax", name: str = "convnext_xlarge") -> Model:
    return _variant("xlarge", include_top, include_preprocessing, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name)


def preprocess_input(x: Any, data_format: str | None = None) -> Any:
    """Returns `x` unchanged: ConvNeXt models normalize their inputs themselves (include_preprocessing)."""
    return x


decode_predictions = imagenet_utils.decode_predictions
