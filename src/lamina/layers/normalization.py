"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization and the rest."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend, constraints, initializers, regularizers
from lamina.layers.layer import InputSpec, Layer
from lamina.saving import registry

__all__ = ["BatchNormalization", "GroupNormalization", "LayerNormalization", "RMSNormalization",
           "SpectralNormalization", "UnitNormalization"]

# Added to the count of unmasked entries, so that an all-masked batch divides by no zero.
_EPSILON = 1e-7


def _axis_list(axis: Any, owner: str) -> list[int]:
    axes = [axis] if isinstance(axis, int) else list(axis) if isinstance(axis, (list, tuple)) else None
    if not axes or not all(isinstance(a, int) for a in axes):
        raise TypeError(f"{owner} axis must be an int or a list of ints, got {axis!r}.")
    return axes


def _check_axes(axes: Sequence[int], input_shape: tuple, owner: str) -> list[int]:
    """The axes made non-negative; each must exist in the input and have a known size."""
    rank = len(input_shape)
    for axis in axes:
        if not -rank <= axis < rank:
            raise ValueError(f"{owner} axis {axis} is out of range for inputs of rank {rank} "
                             f"(shape {tuple(input_shape)}).")
        if input_shape[axis] is None:
            raise ValueError(f"{owner} needs a known size along axis {axis}, got input shape {tuple(input_shape)}.")
    return [a % rank for a in axes]


class _CenterScale(Layer):
    """The shared arguments of layers with a learned scale (gamma) and offset (beta)."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, epsilon: float, center: bool, scale: bool, beta_initializer: Any, gamma_initializer: Any,
                 beta_regularizer: Any, gamma_regularizer: Any, beta_constraint: Any, gamma_constraint: Any,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma: Any = None
        self.beta: Any = None

    def _add_gamma_beta(self, shape: tuple) -> None:
        """gamma then beta, as Keras orders them."""
        if self.scale:
            self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class BatchNormalization(_CenterScale):
    """Normalizes each channel (along `axis`) by the batch's statistics while training, by moving averages of
    them otherwise: gamma * (x - mean) / sqrt(variance + epsilon) + beta.

    Training updates moving_mean and moving_variance as moving = moving * momentum + batch * (1 - momentum).
    A layer with trainable=False always runs in inference mode. A mask (batch, ...) leaves the masked
    steps out of the batch statistics.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros", moving_variance_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, synchronized: bool = False, renorm: bool = False,
                 renorm_clipping: Any = None, renorm_momentum: float = 0.99, **kwargs: Any) -> None:
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if not isinstance(axis, int):
            raise TypeError(f"BatchNormalization axis must be an int, got {axis!r}.")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1], got {momentum!r}.")
        if renorm:
            raise ValueError("BatchNormalization renorm=True is not supported; expected renorm=False.")
        self.axis = axis
        self.momentum = float(momentum)
        # With several torch processes, synchronized batch moments are those of every process's rows (on jax
        # the sharded global batch gives them either way); otherwise each process normalises its own rows.
        self.synchronized = bool(synchronized)
        self.renorm, self.renorm_clipping, self.renorm_momentum = False, renorm_clipping, renorm_momentum
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape: tuple) -> None:
        (axis,) = _check_axes([self.axis], input_shape, "BatchNormalization")
        shape = (input_shape[axis],)
        self._add_gamma_beta(shape)
        self.moving_mean = self.add_weight(shape=shape, initializer=self.moving_mean_initializer,
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=shape, initializer=self.moving_variance_initializer,
                                               trainable=False, name="moving_variance")
        self._channel_axis = axis
        self._reduction_axes = tuple(a for a in range(len(input_shape)) if a != axis)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={axis: input_shape[axis]})

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        B = backend.impl
        if training and self.trainable and mask is None and not self.synchronized:
            outputs, mean, variance = B.batch_normalization_training(
                inputs, self._channel_axis, offset=self.beta, scale=self.gamma, epsilon=self.epsilon)
            self._update_moving(self.moving_mean, mean)
            self._update_moving(self.moving_variance, variance)
            return outputs
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            self._update_moving(self.moving_mean, mean)
            self._update_moving(self.moving_variance, variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        return B.batch_normalization(inputs, mean, variance, axis=self._channel_axis, offset=self.beta,
                                     scale=self.gamma, epsilon=self.epsilon)

    def _moments(self, inputs: Any, mask: Any) -> tuple[Any, Any]:
        B = backend.impl
        if mask is None and self.synchronized:
            return B.processes_moments(inputs, self._reduction_axes)
        if mask is None:
            return B.moments(inputs, self._reduction_axes)
        # The mask covers the leading axes (batch, steps, ...): it weights the entries of every channel.
        weights = B.cast(mask, B.dtype_of(inputs))
        while len(B.shape(weights)) < len(B.shape(inputs)):
            weights = B.expand_dims(weights, -1)
        count = B.add(B.sum(B.multiply(B.ones_like(inputs), weights), axis=self._reduction_axes), _EPSILON)
        mean = B.divide(B.sum(B.multiply(inputs, weights), axis=self._reduction_axes), count)
        deviations = B.subtract(inputs, B.reshape(mean, self._channel_shape(inputs)))
        variance = B.divide(B.sum(B.multiply(B.square(deviations), weights), axis=self._reduction_axes), count)
        return mean, variance

    def _channel_shape(self, inputs: Any) -> list[int]:
        return [-1 if a == self._channel_axis else 1 for a in range(len(backend.impl.shape(inputs)))]

    def _update_moving(self, variable: Any, batch_value: Any) -> None:
        B = backend.impl
        batch_value = B.cast(B.stop_gradient(batch_value), B.dtype_of(variable))
        variable.assign(B.add(B.multiply(variable.value, self.momentum), B.multiply(batch_value, 1.0 - self.momentum)))

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "synchronized": self.synchronized, "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(_CenterScale):
    """Normalizes each sample over `axis` (the features): gamma * (x - mean) / sqrt(variance + epsilon) + beta.

    rms_scaling: as in Keras, x / sqrt(variance + epsilon) * gamma: no centering and no beta.
    """

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None, gamma_constraint: Any = None,
                 rms_scaling: bool = False, **kwargs: Any) -> None:
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        self.axis = axis if isinstance(axis, int) else list(_axis_list(axis, "LayerNormalization"))
        _axis_list(axis, "LayerNormalization")
        self.rms_scaling = bool(rms_scaling)

    def build(self, input_shape: tuple) -> None:
        self._axes = _check_axes(_axis_list(self.axis, "LayerNormalization"), input_shape, "LayerNormalization")
        shape = tuple(input_shape[a] for a in self._axes)
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape=shape, initializer=self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape=shape, initializer=self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint)

    def call(self, inputs: Any) -> Any:
        return backend.impl.layer_normalization(inputs, self.gamma, self.beta, axis=self._axes,
                                                epsilon=self.epsilon, rms_scaling=self.rms_scaling)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "rms_scaling": self.rms_scaling}


class GroupNormalization(_CenterScale):
    """Normalizes each sample over groups of channels: the channels along `axis` are split into `groups`
    groups, each standardized over its channels and all other non-batch axes."""

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                         gamma_regularizer, beta_constraint, gamma_constraint, **kwargs)
        if not isinstance(groups, int) or groups <= 0:
            raise ValueError(f"GroupNormalization groups must be a positive integer, got {groups!r}.")
        if not isinstance(axis, int):
            raise TypeError(f"GroupNormalization axis must be an int, got {axis!r}.")
        self.groups, self.axis = groups, axis

    def build(self, input_shape: tuple) -> None:
        (axis,) = _check_axes([self.axis], input_shape, "GroupNormalization")
        if axis == 0:
            raise ValueError("GroupNormalization axis cannot be the batch axis 0.")
        channels = input_shape[axis]
        if channels < self.groups or channels % self.groups:
            raise ValueError(f"GroupNormalization groups ({self.groups}) must divide the number of channels "
                             f"({channels}, axis {self.axis} of input shape {tuple(input_shape)}) and not exceed it.")
        self._channel_axis = axis
        self._add_gamma_beta((channels,))
        self.input_spec = InputSpec(ndim=len(input_shape), axes={axis: channels})

    def call(self, inputs: Any) -> Any:
        B = backend.impl
        shape = tuple(B.shape(inputs))
        axis = self._channel_axis
        # (batch, ..., groups, channels per group, ...): statistics over all but the batch and group axes
        grouped = B.reshape(inputs, (*shape[:axis], self.groups, shape[axis] // self.groups, *shape[axis + 1:]))
        reduce = tuple(a for a in range(1, len(shape) + 1) if a != axis)
        mean, variance = B.moments(grouped, reduce, keepdims=True)
        normalized = B.multiply(B.subtract(grouped, mean), B.power(B.add(variance, self.epsilon), -0.5))
        outputs = B.reshape(normalized, shape)
        broadcast = [-1 if a == axis else 1 for a in range(len(shape))]
        if self.gamma is not None:
            outputs = B.multiply(outputs, B.reshape(self.gamma, broadcast))
        if self.beta is not None:
            outputs = B.add(outputs, B.reshape(self.beta, broadcast))
        return outputs

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis`."""

    supports_masking = True
    casts_inputs = True

    def __init__(self, axis: int | Sequence[int] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _axis_list(axis, "UnitNormalization")
        self.axis = axis if isinstance(axis, int) else list(axis)

    def build(self, input_shape: tuple) -> None:
        self._axes = tuple(_check_axes(_axis_list(self.axis, "UnitNormalization"), input_shape, "UnitNormalization"))

    def call(self, inputs: Any) -> Any:
        return backend.impl.normalize(inputs, axis=self._axes, order=2, epsilon=1e-12)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """x / sqrt(mean(x**2 over axis) + epsilon) * scale, with a learned `scale` over the normalized axes.

    It does not support masking (as in Keras 3): a mask reaching it warns and stops.
    """

    casts_inputs = True

    def __init__(self, axis: int | Sequence[int] = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _axis_list(axis, "RMSNormalization")
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = float(epsilon)

    def build(self, input_shape: tuple) -> None:
        self._axes = tuple(_check_axes(_axis_list(self.axis, "RMSNormalization"), input_shape, "RMSNormalization"))
        self.scale = self.add_weight(shape=tuple(input_shape[a] for a in self._axes), initializer="ones", name="scale")

    def call(self, inputs: Any) -> Any:
        return backend.impl.rms_normalization(inputs, self.scale, axis=self._axes, epsilon=self.epsilon)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class SpectralNormalization(Layer):
    """Wraps a layer with a `kernel` (or `embeddings`) so that it computes with that weight divided by its
    largest singular value, estimated by `power_iterations` steps of power iteration from `vector_u`.

    Training updates vector_u. The normalized kernel stands in for the wrapped layer's weight during each
    call, and gradients flow through the normalization to the stored weight, which is kept as it is (Keras
    on torch overwrites the stored kernel with the normalized one instead; a jitted jax step could not keep
    such an assignment, so both backends work the same way here). Like the Keras wrapper, it does not
    support masking: a mask reaching it warns and stops.
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"SpectralNormalization wraps a layer, got {type(layer).__name__}.")
        if not isinstance(power_iterations, int) or power_iterations < 1:
            raise ValueError(f"SpectralNormalization power_iterations must be a positive integer, "
                             f"got {power_iterations!r}.")
        self.layer = layer
        self.power_iterations = power_iterations

    def build(self, input_shape: tuple) -> None:
        self.layer._build_for(input_shape)
        # The attribute that stores the weight: "kernel", or "_kernel" behind a property (LoRA-capable layers).
        stored = vars(self.layer)
        names = [name for name in ("_kernel", "kernel", "_embeddings", "embeddings")
                 if isinstance(stored.get(name), backend.impl.Variable)]
        if not names:
            raise ValueError(f"SpectralNormalization needs a layer with a `kernel` or `embeddings` weight, got "
                             f"{type(self.layer).__name__} {self.layer.name!r}.")
        self._weight_name = names[0]
        kernel = getattr(self.layer, self._weight_name)
        self.vector_u = self.add_weight(shape=(1, tuple(kernel.shape)[-1]), initializer=initializers.RandomNormal(),
                                        trainable=False, name="vector_u")

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        variable = getattr(self.layer, self._weight_name)
        vector_u, kernel = self.normalized_weights(variable)
        if training:
            self.vector_u.assign(vector_u)
        object.__setattr__(self.layer, self._weight_name, kernel)  # the wrapped layer reads its weight by name
        try:
            return self.layer(inputs, training=training)
        finally:
            object.__setattr__(self.layer, self._weight_name, variable)

    def normalized_weights(self, variable: Any) -> tuple[Any, Any]:
        """The next vector_u and the weight divided by its estimated spectral norm."""
        B = backend.impl
        shape = tuple(variable.shape)
        weights = B.reshape(variable.value, (-1, shape[-1]))  # (fan_in, units)
        vector_u = self.vector_u.value
        vector_v = None
        for _ in range(self.power_iterations):
            vector_v = B.normalize(B.matmul(vector_u, B.transpose(weights)), axis=None)
            vector_u = B.normalize(B.matmul(vector_v, weights), axis=None)
        vector_u, vector_v = B.stop_gradient(vector_u), B.stop_gradient(vector_v)
        sigma = B.matmul(B.matmul(vector_v, weights), B.transpose(vector_u))  # (1, 1)
        return vector_u, B.reshape(B.divide(weights, B.maximum(sigma, 1e-12)), shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        self._build_for(input_shape)
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "layer": registry.serialize_layer(self.layer),
                "power_iterations": self.power_iterations}

    @classmethod
    def from_config(cls, config: dict) -> "SpectralNormalization":
        config = dict(config)
        return cls(registry.deserialize_layer(config.pop("layer")), **config)
