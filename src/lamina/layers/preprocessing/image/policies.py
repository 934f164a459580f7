"""Layers made of other augmentations: Pipeline, RandomColorJitter, RandAugment, AugMix."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.image import color, geometric
from lamina.layers.preprocessing.image.base import BaseImagePreprocessingLayer, parse_value_range, per_image, plain


class Pipeline(Layer):
    """Applies its layers in order (each augmenting only in training, as it would alone)."""

    def __init__(self, layers: Sequence[Layer], name: str | None = None, **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.layers = list(layers)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        for layer in self.layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self) -> dict:
        from lamina.saving.registry import serialize_layer

        return {**super().get_config(), "layers": [serialize_layer(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config: dict) -> "Pipeline":
        from lamina.saving.registry import deserialize_layer

        config = dict(config)
        config["layers"] = [deserialize_layer(item) for item in config["layers"]]
        return cls(**config)


class RandomColorJitter(BaseImagePreprocessingLayer):
    """Random brightness, contrast, saturation and hue changes, each applied when its factor is given."""

    random = True

    def __init__(self, value_range: Any = (0, 255), brightness_factor: Any = None, contrast_factor: Any = None,
                 saturation_factor: Any = None, hue_factor: Any = None, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = tuple(value_range)
        parse_value_range(value_range)
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        steps = ((color.RandomBrightness, brightness_factor), (color.RandomContrast, contrast_factor),
                 (color.RandomSaturation, saturation_factor), (color.RandomHue, hue_factor))
        self.steps = [cls(factor, value_range=value_range, seed=seed) for cls, factor in steps if factor is not None]

    def transform_images(self, images: Any, training: bool) -> Any:
        for step in self.steps:
            images = step.transform_images(images, training)
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": list(self.value_range),
                "brightness_factor": plain(self.brightness_factor), "contrast_factor": plain(self.contrast_factor),
                "saturation_factor": plain(self.saturation_factor), "hue_factor": plain(self.hue_factor)}


def _operations(value_range: tuple, factor: float, interpolation: str, seed: int | None) -> list[Any]:
    """The augmentations that RandAugment and AugMix choose from, at strength factor in [0, 1]."""
    strength = max(float(factor), 1e-3)
    kwargs = dict(value_range=value_range, seed=seed)
    affine = dict(interpolation=interpolation, fill_mode="constant", seed=seed)
    return [
        color.AutoContrast(value_range=value_range),
        color.Equalization(value_range=value_range),
        color.RandomBrightness(0.5 * strength, **kwargs),
        color.RandomContrast(min(0.9, strength), **kwargs),
        color.RandomColorDegeneration((0.0, strength), **kwargs),
        color.RandomSharpness((0.0, strength), **kwargs),
        color.RandomPosterization((max(1.0, 8.0 - 4.0 * strength), 8.0), **kwargs),
        color.Solarization(threshold_factor=(0.0, strength), **kwargs),
        geometric.RandomRotation(strength / 12.0, **affine),
        geometric.RandomShear(x_factor=0.3 * strength, **affine),
        geometric.RandomShear(y_factor=0.3 * strength, **affine),
        geometric.RandomTranslation(0.0, 0.3 * strength, **affine),
        geometric.RandomTranslation(0.3 * strength, 0.0, **affine),
    ]


def _choose(layer: BaseImagePreprocessingLayer, operations: list[Any], images: Any) -> Any:
    """Each image through one operation picked at random for it (all are computed; one is kept per image)."""
    B = backend.impl
    batch = int(images.shape[0])
    pick = B.floor(layer.uniform((batch,), 0.0, float(len(operations))))
    result = images
    for index, operation in enumerate(operations):
        chosen = per_image(B.equal(pick, float(index)))
        result = B.where(chosen, operation.transform_images(images, True), result)
    return result


class RandAugment(BaseImagePreprocessingLayer):
    """num_ops augmentations in a row, each picked at random per image, at strength factor."""

    random = True

    def __init__(self, value_range: Any = (0, 255), num_ops: int = 2, factor: float = 0.5,
                 interpolation: str = "bilinear", seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = tuple(value_range)
        parse_value_range(value_range)
        if not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(f"RandAugment num_ops must be a non-negative int, got {num_ops!r}.")
        self.num_ops, self.factor, self.interpolation = num_ops, factor, interpolation
        self.operations = _operations(self.value_range, factor, interpolation, seed)

    def transform_images(self, images: Any, training: bool) -> Any:
        for _ in range(self.num_ops):
            images = _choose(self, self.operations, images)
        return images

    def get_config(self) -> dict:
        return {**super().get_config(), "value_range": list(self.value_range), "num_ops": self.num_ops,
                "factor": self.factor, "interpolation": self.interpolation}


class AugMix(BaseImagePreprocessingLayer):
    """num_chains chains of 1 to chain_depth random augmentations, mixed with Dirichlet(alpha) weights, then
    blended with the original image by a Beta(alpha, alpha) weight."""

    random = True

    def __init__(self, value_range: Any = (0, 255), num_chains: int = 3, chain_depth: Any = (1, 3),
                 factor: float = 0.3, alpha: float = 1.0, all_ops: bool = True, interpolation: str = "bilinear",
                 seed: int | None = None, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, seed=seed, **kwargs)
        self.value_range = tuple(value_range)
        parse_value_range(value_range)
        depth = (chain_depth, chain_depth) if isinstance(chain_depth, int) else tuple(chain_depth)
        if len(depth) != 2 or not 1 <= depth[0] <= depth[1]:
            raise ValueError(f"AugMix chain_depth must be a positive int or a pair (min, max), got {chain_depth!r}.")
        self.num_chains, self.chain_depth, self.depth = num_chains, chain_depth, depth
        self.factor, self.alpha, self.all_ops, self.interpolation = factor, alpha, all_ops, interpolation
        operations = _operations(self.value_range, factor, interpolation, seed)
        # Without all_ops, the colour operations that overlap common test-set corruptions are left out.
        self.operations = operations if all_ops else [operations[i] for i in (0, 1, 6, 7, 8, 9, 10, 11, 12)]

    def transform_images(self, images: Any, training: bool) -> Any:
        B = backend.impl
        batch = int(images.shape[0])
        weights = B.random_gamma((batch, self.num_chains), self.alpha, seed=self.seed_generator)
        weights = weights / B.sum(weights, axis=1, keepdims=True)  # Dirichlet(alpha, ..., alpha)
        mixed = images * 0.0
        for chain in range(self.num_chains):
            chained = images
            depth = B.floor(self.uniform((batch,), float(self.depth[0]), float(self.depth[1] + 1)))
            for step in range(self.depth[1]):
                applied = _choose(self, self.operations, chained)
                chained = B.where(per_image(depth > step), applied, chained)
            mixed = mixed + per_image(weights[:, chain]) * chained
        share = B.random_beta((batch,), self.alpha, self.alpha, seed=self.seed_generator)
        return images + per_image(share) * (mixed - images)

    def get_config(self) -> dict:
        depth = list(self.chain_depth) if isinstance(self.chain_depth, tuple) else self.chain_depth
        return {**super().get_config(), "value_range": list(self.value_range), "num_chains": self.num_chains,
                "chain_depth": depth, "factor": self.factor, "alpha": self.alpha, "all_ops": self.all_ops,
                "interpolation": self.interpolation}
