"""Activation functions by their Keras names; each runs on the active backend."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend
from lamina.utils import naming


def linear(x: Any) -> Any:
    return x


def relu(x: Any, negative_slope: float = 0.0, max_value: float | None = None, threshold: float = 0.0) -> Any:
    """max(x, 0); with the options: x above `threshold` (else 0), capped at `max_value`, sloped below."""
    B = backend.impl
    if not negative_slope and max_value is None and not threshold:
        return B.relu(x)
    output = B.where(B.greater(x, threshold), x, 0.0)
    if max_value is not None:
        output = B.minimum(output, max_value)
    if negative_slope:
        output = output + negative_slope * B.minimum(x - threshold, 0.0)
    return output


def relu6(x: Any) -> Any:
    return backend.impl.relu6(x)


def sigmoid(x: Any) -> Any:
    return backend.impl.sigmoid(x)


def hard_sigmoid(x: Any) -> Any:
    return backend.impl.hard_sigmoid(x)


def hard_silu(x: Any) -> Any:
    """x * hard_sigmoid(x), also known as hard_swish."""
    return x * backend.impl.hard_sigmoid(x)


def tanh(x: Any) -> Any:
    return backend.impl.tanh(x)


def softmax(x: Any, axis: int = -1) -> Any:
    return backend.impl.softmax(x, axis)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return backend.impl.log_softmax(x, axis)


def elu(x: Any, alpha: float = 1.0) -> Any:
    return backend.impl.elu(x, alpha)


def selu(x: Any) -> Any:
    return backend.impl.selu(x)


def gelu(x: Any, approximate: bool = False) -> Any:
    return backend.impl.gelu(x, approximate)


def silu(x: Any) -> Any:
    return backend.impl.silu(x)


def softplus(x: Any) -> Any:
    return backend.impl.softplus(x)


def softsign(x: Any) -> Any:
    return backend.impl.softsign(x)


def mish(x: Any) -> Any:
    """x * tanh(softplus(x))."""
    B = backend.impl
    return x * B.tanh(B.softplus(x))


def leaky_relu(x: Any, negative_slope: float = 0.2) -> Any:
    return backend.impl.leaky_relu(x, negative_slope)


def exponential(x: Any) -> Any:
    return backend.impl.exp(x)


def celu(x: Any, alpha: float = 1.0) -> Any:
    """x for x > 0, alpha * (e**(x / alpha) - 1) otherwise."""
    B = backend.impl
    return B.where(B.greater(x, 0.0), x, alpha * (B.exp(x / alpha) - 1.0))


def glu(x: Any, axis: int = -1) -> Any:
    """The gated linear unit: the first half of x along `axis` times the sigmoid of the second half."""
    B = backend.impl
    size = B.shape(x)[axis]
    if size is not None and size % 2:
        raise ValueError(f"glu splits axis {axis} in two halves, so its size must be even, got {size}.")
    first, second = B.split(x, 2, axis=axis)
    return first * B.sigmoid(second)


def hard_shrink(x: Any, threshold: float = 0.5) -> Any:
    """x where |x| > threshold, else 0."""
    B = backend.impl
    return B.where(B.greater(B.abs(x), threshold), x, 0.0)


def hard_tanh(x: Any) -> Any:
    """x clipped to [-1, 1]."""
    return backend.impl.clip(x, -1.0, 1.0)


def log_sigmoid(x: Any) -> Any:
    """log(sigmoid(x)), computed as -softplus(-x)."""
    B = backend.impl
    return B.negative(B.softplus(B.negative(x)))


def soft_shrink(x: Any, threshold: float = 0.5) -> Any:
    """x moved towards 0 by threshold, and 0 within [-threshold, threshold]."""
    B = backend.impl
    return B.where(B.greater(x, threshold), x - threshold, B.where(B.less(x, -threshold), x + threshold, 0.0))


def sparse_plus(x: Any) -> Any:
    """0 below -1, (x + 1)**2 / 4 on [-1, 1], x above 1."""
    B = backend.impl
    return B.where(B.less_equal(x, -1.0), 0.0, B.where(B.greater_equal(x, 1.0), x, 0.25 * B.square(x + 1.0)))


def sparse_sigmoid(x: Any) -> Any:
    """0 below -1, (x + 1) / 2 on [-1, 1], 1 above 1."""
    return backend.impl.clip(0.5 * (x + 1.0), 0.0, 1.0)


def sparsemax(x: Any, axis: int = -1) -> Any:
    """The Euclidean projection of x onto the probability simplex along `axis`: sparse probabilities.

    Without a sort: an entry is in the support when 1 + k * z > (sum of the k entries >= z); the threshold
    is (sum of the support - 1) / (size of the support).
    """
    B = backend.impl
    rank = len(B.shape(x))
    axis = axis % rank
    z = B.expand_dims(x, axis + 1)  # compare every pair along axis
    others = B.expand_dims(x, axis)
    at_least = B.cast(B.greater_equal(others, z), B.dtype_of(x))  # [.., i, j, ..] = z_j >= z_i
    count = B.sum(at_least, axis=axis + 1)
    total = B.sum(at_least * others, axis=axis + 1)
    support = B.cast(B.greater(1.0 + count * x, total), B.dtype_of(x))
    tau = (B.sum(support * x, axis=axis, keepdims=True) - 1.0) / B.sum(support, axis=axis, keepdims=True)
    return B.maximum(x - tau, 0.0)


def squareplus(x: Any, b: float = 4.0) -> Any:
    """(x + sqrt(x**2 + b)) / 2, a smooth relu."""
    B = backend.impl
    return 0.5 * (x + B.sqrt(B.square(x) + b))


def tanh_shrink(x: Any) -> Any:
    """x - tanh(x)."""
    return x - backend.impl.tanh(x)


def threshold(x: Any, threshold: float, default_value: float) -> Any:
    """x where x > threshold, else default_value."""
    B = backend.impl
    return B.where(B.greater(x, threshold), x, default_value)


swish = silu
hard_swish = hard_silu


ALL: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in (
    linear, relu, relu6, sigmoid, hard_sigmoid, hard_silu, tanh, softmax, log_softmax, elu, selu, gelu, silu,
    softplus, softsign, mish, leaky_relu, exponential, celu, glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink,
    sparse_plus, sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold)}
ALL["swish"] = silu
ALL["hard_swish"] = hard_silu


def get(identifier: Any) -> Callable[[Any], Any]:
    """The activation for a name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return naming.lookup("activation", identifier, ALL)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, a config dict or a callable, got {type(identifier).__name__}.")


def serialize(activation: Callable[[Any], Any]) -> Any:
    name = getattr(activation, "__name__", None)
    if ALL.get(name) is activation:
        return name
    from lamina.saving import registry

    return registry.serialize_function(activation)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The activation a name or a serialized function config stands for (found by name, never by code)."""
    if isinstance(config, str) and config in ALL and not custom_objects:
        return ALL[config]
    from lamina.saving import registry

    if isinstance(config, dict) and config.get("class_name") not in ("function", "__lambda__"):
        return registry.deserialize_object(config, custom_objects)
    return registry.deserialize_function(config, custom_objects)
