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


ALL: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in (
    linear, relu, relu6, sigmoid, hard_sigmoid, hard_silu, tanh, softmax, log_softmax, elu, selu, gelu, silu,
    softplus, softsign, mish, leaky_relu, exponential)}
ALL["swish"] = silu
ALL["hard_swish"] = hard_silu


def get(identifier: Any) -> Callable[[Any], Any]:
    """The activation for a name, None (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return naming.lookup("activation", identifier, ALL)
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name or a callable, got {type(identifier).__name__}.")


def serialize(activation: Callable[[Any], Any]) -> Any:
    name = getattr(activation, "__name__", None)
    if ALL.get(name) is activation:
        return name
    from lamina.saving import registry

    return registry.serialize_function(activation)
