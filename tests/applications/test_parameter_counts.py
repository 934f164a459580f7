"""Every architecture has exactly Keras's parameter count, with and without its classification top.

The table holds Keras 3.15's `count_params()` for each model built with weights=None at its default input
size. Lamina builds each on a 32x32 input (or its smallest), which is much faster and gives the same count:
convolutional weights do not depend on the input size, and the heads pool globally, except VGG's, whose
Flatten sees 1x1x512 features instead of 7x7x512 (the test adds the difference in fc1's kernel). The largest models are
built without the top only (building is what takes the time); their top is the head of their family's
smallest model, built with the top: a Dense layer from the pooled features to 1000 classes.
"""

from __future__ import annotations

import pytest

import lamina.applications as applications

COUNTS = {  # name: (include_top=True, include_top=False)
    "VGG16": (138357544, 14714688), "VGG19": (143667240, 20024384),
    "ResNet50": (25636712, 23587712), "ResNet101": (44707176, 42658176), "ResNet152": (60419944, 58370944),
    "ResNet50V2": (25613800, 23564800), "ResNet101V2": (44675560, 42626560), "ResNet152V2": (60380648, 58331648),
    "MobileNet": (4253864, 3228864), "MobileNetV2": (3538984, 2257984),
    "EfficientNetB0": (5330571, 4049571), "EfficientNetB1": (7856239, 6575239),
    "EfficientNetB2": (9177569, 7768569), "EfficientNetB3": (12320535, 10783535),
    "EfficientNetB4": (19466823, 17673823), "EfficientNetB5": (30562527, 28513527),
    "EfficientNetB6": (43265143, 40960143), "EfficientNetB7": (66658687, 64097687),
    "DenseNet121": (8062504, 7037504), "DenseNet169": (14307880, 12642880), "DenseNet201": (20242984, 18321984),
    "InceptionV3": (23851784, 21802784), "Xception": (22910480, 20861480),
    "InceptionResNetV2": (55873736, 54336736),
    "NASNetMobile": (5326716, 4269716), "NASNetLarge": (88949818, 84887922),
    "MobileNetV3Small": (2554968, 939120), "MobileNetV3Large": (5507432, 2996352),
    "ConvNeXtTiny": (28589128, 27820128), "ConvNeXtSmall": (50223688, 49454688),
    "ConvNeXtBase": (88591464, 87566464),
    "EfficientNetV2B0": (7200312, 5919312), "EfficientNetV2B1": (8212124, 6931124),
    "EfficientNetV2B2": (10178374, 8769374), "EfficientNetV2B3": (14467622, 12930622),
    "EfficientNetV2S": (21612360, 20331360), "EfficientNetV2M": (54431388, 53150388),
}
# Too big to build in a test (their weights take 0.5 to 1.4 GB): Keras's counts, for the record.
NOT_BUILT = {"ConvNeXtLarge": (197767336, 196230336), "ConvNeXtXLarge": (350196968, 348147968),
             "EfficientNetV2L": (119027848, 117746848)}
MIN_SIZE = {"InceptionV3": 75, "Xception": 71, "InceptionResNetV2": 75}


def _vgg_fc1_difference() -> int:
    return (7 * 7 * 512 - 512) * 4096


BUILT_WITH_TOP = ("VGG16", "VGG19", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2", "EfficientNetB0",
                  "DenseNet121", "InceptionV3", "MobileNetV3Small", "MobileNetV3Large", "ConvNeXtTiny",
                  "EfficientNetV2B0", "EfficientNetV2S", "NASNetMobile", "NASNetLarge")


@pytest.mark.parametrize("name", sorted(name for name in COUNTS if not name.startswith("ConvNeXt")))
def test_parameter_counts(name: str, zero_init: None) -> None:
    _check_counts(name)


@pytest.mark.parametrize("name", sorted(name for name in COUNTS if name.startswith("ConvNeXt")))
def test_convnext_parameter_counts(name: str, zero_init_abstract: None) -> None:
    _check_counts(name)


def _check_counts(name: str) -> None:
    build = getattr(applications, name)
    size = MIN_SIZE.get(name, 32)
    # NASNet's cells choose how to adjust their inputs by comparing spatial sizes: NASNetLarge's count without
    # the top is Keras's default, the input size unknown
    shape = None if name == "NASNetLarge" else (size, size, 3)
    notop = build(weights=None, include_top=False, input_shape=shape)
    assert notop.count_params() == COUNTS[name][1]
    if name in BUILT_WITH_TOP:
        top = build(weights=None, input_shape=(size, size, 3))
        assert top.output_shape == (None, 1000)
        expected_top = COUNTS[name][0] - (_vgg_fc1_difference() if name.startswith("VGG") else 0)
        assert top.count_params() == expected_top
    else:  # the same head as the family's model above: Dense from the pooled features to 1000 classes
        assert COUNTS[name][1] + notop.output_shape[-1] * 1000 + 1000 == COUNTS[name][0]


def test_default_input_size_with_top(zero_init: None) -> None:
    model = applications.MobileNetV2(weights=None)
    assert model.input_shape == (None, 224, 224, 3)
    assert model.count_params() == COUNTS["MobileNetV2"][0]
    assert model.name == "mobilenetv2_1.00_224"


def test_classes_and_pooling_change_the_head(zero_init: None) -> None:
    model = applications.ResNet50(weights=None, classes=10, classifier_activation=None, input_shape=(32, 32, 3))
    assert model.output_shape == (None, 10)
    assert model.count_params() == COUNTS["ResNet50"][1] + 2048 * 10 + 10
    pooled = applications.MobileNetV2(weights=None, include_top=False, pooling="max", input_shape=(64, 64, 3))
    assert pooled.output_shape == (None, 1280)
    assert applications.EfficientNetB0(weights=None, include_top=False, pooling="avg",
                                       input_shape=(32, 32, 3)).output_shape == (None, 1280)
