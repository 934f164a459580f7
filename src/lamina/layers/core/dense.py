"""Dense: activation(inputs @ kernel + bias), with an optional low-rank (LoRA) correction of the kernel."""

from __future__ import annotations

from typing import Any

from lamina import activations, backend, constraints, initializers, regularizers
from lamina.layers.core.lora import LoraMixin, check_rank
from lamina.layers.layer import InputSpec, Layer


class Dense(LoraMixin, Layer):
    """A fully connected layer: activation(inputs @ kernel + bias); a mask on the inputs passes through.

    lora_rank: freeze the kernel and train kernel + (lora_alpha / lora_rank) * A @ B instead.
    """

    supports_masking = True
    casts_inputs = True
    _lora_target = "kernel"

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, bias_constraint: Any = None, lora_rank: int | None = None,
                 lora_alpha: float | None = None, quantization_config: Any = None, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense units must be a positive integer, got {units!r}.")
        check_rank(lora_rank, lora_alpha, quantization_config, "Dense")
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank, self.lora_alpha = lora_rank, lora_alpha
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Dense {self.name!r} needs a known last input dimension, got shape {input_shape}.")
        self._kernel = self.add_weight(shape=(input_dim, self.units), initializer=self.kernel_initializer,
                                       regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                       name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        if self.lora_rank:
            self._add_lora(self.lora_rank, self.lora_alpha)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})

    @property
    def kernel(self) -> Any:
        """The kernel in use: the weight itself, or with LoRA the frozen weight plus its low-rank correction."""
        return self._effective()

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
                "bias_constraint": constraints.serialize(self.bias_constraint), **self._lora_config()}
