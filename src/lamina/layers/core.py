"""Core layers: Dense, Activation, Dropout, Embedding."""

from __future__ import annotations

from typing import Any

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.layer import InputSpec, Layer

__all__ = ["Activation", "Dense", "Dropout", "Embedding"]


class Dense(Layer):
    """A fully connected layer: activation(inputs @ kernel + bias); a mask on the inputs passes through."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}.")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Dense {self.name!r} needs a known last input dimension, got shape {input_shape}.")
        self.kernel = self.add_weight(shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    def call(self, inputs: Any) -> Any:
        return self.activation(backend.impl.dense(inputs, self.kernel, self.bias))

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Activation(Layer):
    """Applies an activation function by name or callable."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Any) -> Any:
        return self.activation(inputs)

    def get_config(self) -> dict:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Zeroes a fraction `rate` of the inputs while training, scaling the rest by 1 / (1 - rate).

    noise_shape: the shape of the drawn keep/drop pattern, broadcast over the inputs (None entries take
    the input's size), e.g. (batch, 1, features) drops the same features at every time step.
    """

    supports_masking = True
    casts_inputs = True

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate!r}.")
        if noise_shape is not None and (not isinstance(noise_shape, (list, tuple))
                                        or not all(d is None or (isinstance(d, int) and d > 0)
                                                   for d in noise_shape)):
            raise ValueError(f"Dropout noise_shape must be a tuple of positive ints or None, got {noise_shape!r}.")
        self.rate = float(rate)
        self.noise_shape = tuple(noise_shape) if noise_shape is not None else None
        self.seed = seed
        self.seed_generator = backend.impl.SeedGenerator(seed)

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0.0:
            return inputs
        B = backend.impl
        if self.noise_shape is None:
            return B.dropout(inputs, self.rate, self.seed_generator)
        shape = B.shape(inputs)
        if len(self.noise_shape) != len(shape) or any(d not in (None, 1, s) for d, s in zip(self.noise_shape, shape)):
            raise ValueError(f"Dropout {self.name!r} noise_shape {self.noise_shape} does not broadcast to the "
                             f"input shape {tuple(shape)}: each entry must be None, 1 or the input's size.")
        noise_shape = tuple(s if d is None else d for d, s in zip(self.noise_shape, shape))
        keep = B.dropout(B.ones(noise_shape, B.dtype_of(inputs)), self.rate, self.seed_generator)  # 0 or 1/(1-rate)
        return B.multiply(inputs, keep)

    def get_config(self) -> dict:
        noise_shape = list(self.noise_shape) if self.noise_shape is not None else None
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape, "seed": self.seed}


class Embedding(Layer):
    """Maps integer indices to dense vectors: a lookup into a (input_dim, output_dim) table.

    mask_zero: index 0 is padding; the outputs carry the mask `inputs != 0` to the layers after it.
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None, mask_zero: bool = False,
                 input_length: int | None = None, **kwargs: Any) -> None:
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        if self.mask_zero and self.input_dim < 2:
            raise ValueError(f"Embedding with mask_zero=True reserves index 0 for padding, so input_dim must be "
                             f"at least 2, got {input_dim}.")

    @property
    def _creates_mask(self) -> bool:
        return self.mask_zero

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return backend.impl.not_equal(inputs, 0) if self.mask_zero else None

    def build(self, input_shape: tuple) -> None:
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, name="embeddings")

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        if B.dtype_of(inputs) not in ("int32", "int64"):
            inputs = B.cast(inputs, "int32")
        return B.take(self.embeddings, inputs, axis=0)

    def get_config(self) -> dict:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}
