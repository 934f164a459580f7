"""Layers that perturb their inputs while training and pass them through at inference: the dropouts and
Gaussian noise. Each draws from its own seed generator, so that it runs inside compiled steps."""

from __future__ import annotations

import math
from typing import Any, Sequence

from lamina import backend, config
from lamina.layers.layer import InputSpec, Layer

# SELU's constants: AlphaDropout drops to SELU's negative saturation value and keeps its mean and variance.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_rate(owner: str, rate: Any, upper_inclusive: bool = False) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not (
            0.0 <= rate <= 1.0 if upper_inclusive else 0.0 <= rate < 1.0):
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"{owner} rate must be a float in {interval}, got {rate!r}.")
    return float(rate)


def _check_noise_shape(owner: str, noise_shape: Any) -> tuple | None:
    if noise_shape is None:
        return None
    if not isinstance(noise_shape, (list, tuple)) or not all(
            d is None or (isinstance(d, int) and not isinstance(d, bool) and d > 0) for d in noise_shape):
        raise ValueError(f"{owner} noise_shape must be a tuple of positive ints or None, got {noise_shape!r}.")
    return tuple(noise_shape)


def _resolve_noise_shape(layer: Layer, noise_shape: Sequence[int | None], shape: tuple) -> tuple:
    """noise_shape with None entries replaced by the input's sizes; it must broadcast over the input."""
    if len(noise_shape) != len(shape) or any(d not in (None, 1, s) for d, s in zip(noise_shape, shape)):
        raise ValueError(f"{type(layer).__name__} {layer.name!r} noise_shape {tuple(noise_shape)} does not "
                         f"broadcast to the input shape {tuple(shape)}: each entry must be None, 1 or the "
                         "input's size.")
    return tuple(s if d is None else d for d, s in zip(noise_shape, shape))


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs while training, scaling the rest by 1 / (1 - rate).

    noise_shape: the shape of the drawn keep/drop pattern, broadcast over the inputs (None entries take
    the input's size), e.g. (batch, 1, features) drops the same features at every time step.
    """

    supports_masking = True
    casts_inputs = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_rate("Dropout", rate)
        self.noise_shape = _check_noise_shape("Dropout", noise_shape)
        self.seed = seed
        self.seed_generator = backend.impl.SeedGenerator(seed)

    def _noise_shape(self, shape: tuple) -> tuple | None:
        """The shape of the keep/drop pattern for inputs of `shape` (None: one draw per element)."""
        return None if self.noise_shape is None else _resolve_noise_shape(self, self.noise_shape, shape)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0.0:
            return inputs
        B = backend.impl
        noise_shape = self._noise_shape(tuple(B.shape(inputs)))
        if noise_shape is None:
            return B.dropout(inputs, self.rate, self.seed_generator)
        keep = B.dropout(B.ones(noise_shape, B.dtype_of(inputs)), self.rate, self.seed_generator)  # 0 or 1/(1-rate)
        return B.multiply(inputs, keep)

    def get_config(self) -> dict:
        noise_shape = list(self.noise_shape) if self.noise_shape is not None else None
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape, "seed": self.seed}


class _SpatialDropout(Dropout):
    """Drops whole feature maps: one keep/drop draw per sample and channel, shared by every position."""

    rank = 0

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _noise_shape(self, shape: tuple) -> tuple:
        ones = (1,) * self.rank
        if self.data_format == "channels_first":
            return (shape[0], shape[1], *ones)
        return (shape[0], *ones, shape[-1])

    def get_config(self) -> dict:
        # Keras's spatial dropouts take no noise_shape (and no trainable): their configs leave them out.
        base = super().get_config()
        config_ = {"rate": self.rate, "seed": self.seed, "name": base["name"], "dtype": base["dtype"]}
        if self.rank > 1:
            config_["data_format"] = self.data_format
        return config_


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of (batch, steps, channels) inputs."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, name: str | None = None, dtype: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, data_format="channels_last", seed=seed, name=name, dtype=dtype, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of 4-D inputs (channels last, or first with data_format)."""

    rank = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(rate, data_format=data_format, seed=seed, name=name, dtype=dtype, **kwargs)


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole feature volumes of 5-D inputs (channels last, or first with data_format)."""

    rank = 3

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        super().__init__(rate, data_format=data_format, seed=seed, name=name, dtype=dtype, **kwargs)


class GaussianNoise(Layer):
    """Adds zero-mean normal noise of standard deviation `stddev` while training."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or not 0.0 <= stddev < math.inf:
            raise ValueError(f"GaussianNoise stddev must be a non-negative float, got {stddev!r}.")
        self.stddev = float(stddev)
        self.seed = seed
        self.seed_generator = backend.impl.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.stddev == 0.0:
            return inputs
        B = backend.impl
        noise = B.random_normal(tuple(B.shape(inputs)), 0.0, self.stddev, B.dtype_of(inputs), self.seed_generator)
        return B.add(inputs, noise)

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies the inputs by normal noise of mean 1 and variance rate / (1 - rate) while training."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_rate("GaussianDropout", rate, upper_inclusive=True)
        self.seed = seed
        self.seed_generator = backend.impl.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or not 0.0 < self.rate < 1.0:
            return inputs
        B = backend.impl
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = B.random_normal(tuple(B.shape(inputs)), 1.0, stddev, B.dtype_of(inputs), self.seed_generator)
        return B.multiply(inputs, noise)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout for SELU networks: dropped inputs take SELU's saturation value, then an affine map restores
    the mean and variance of the inputs, so self-normalization holds while training."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_rate("AlphaDropout", rate, upper_inclusive=True)
        self.noise_shape = _check_noise_shape("AlphaDropout", noise_shape)
        self.seed = seed
        self.seed_generator = backend.impl.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or not 0.0 < self.rate < 1.0:
            return inputs
        B = backend.impl
        shape = tuple(B.shape(inputs))
        noise_shape = shape if self.noise_shape is None else _resolve_noise_shape(self, self.noise_shape, shape)
        dtype = B.dtype_of(inputs)
        kept = B.cast(B.greater_equal(B.random_uniform(noise_shape, 0.0, 1.0, dtype, self.seed_generator),
                                      self.rate), dtype)
        saturation = -_SELU_ALPHA * _SELU_SCALE
        scale = ((1.0 - self.rate) * (1.0 + self.rate * saturation ** 2)) ** -0.5
        shift = -scale * saturation * self.rate
        dropped = B.add(B.multiply(inputs, kept), (1.0 - kept) * saturation)
        return B.add(B.multiply(dropped, scale), shift)

    def get_config(self) -> dict:
        noise_shape = list(self.noise_shape) if self.noise_shape is not None else None
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape, "seed": self.seed}
