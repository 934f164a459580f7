"""Small core layers: Activation, ActivityRegularization, Identity and Masking."""

from __future__ import annotations

from typing import Any

from lamina import activations, backend, regularizers
from lamina.layers.layer import Layer


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


class ActivityRegularization(Layer):
    """Passes its inputs through and adds l1 * sum(|x|) + l2 * sum(x ** 2) of them to the training loss."""

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("activity_regularizer", None)  # made from l1 and l2
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = self.activity_regularizer.l1, self.activity_regularizer.l2

    def call(self, inputs: Any) -> Any:
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


class Identity(Layer):
    """Returns its inputs unchanged (a placeholder in a stack of layers); masks pass through."""

    supports_masking = True

    def call(self, inputs: Any) -> Any:
        return inputs


class Masking(Layer):
    """Masks the time steps whose features all equal `mask_value`: they are zeroed, and the layers after it
    that handle masks (recurrent layers, pooling, losses) skip them."""

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(f"Masking mask_value must be a number, got {mask_value!r}.")
        self.mask_value = mask_value

    def _keep(self, inputs: Any) -> Any:
        """Whether any feature of each step differs from mask_value (True: kept), with the feature axis kept."""
        B = backend.impl
        differs = B.cast(B.not_equal(inputs, self.mask_value), "float32")
        return B.greater(B.max(differs, axis=-1, keepdims=True), 0.0)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return backend.impl.squeeze(self._keep(inputs), axis=-1)

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        return B.multiply(inputs, B.cast(self._keep(inputs), B.dtype_of(inputs)))

    def get_config(self) -> dict:
        return {**super().get_config(), "mask_value": self.mask_value}
