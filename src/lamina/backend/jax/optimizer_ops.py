"""Multi-tensor ops for optimizers; inside the jitted step XLA fuses them, so plain list maps suffice."""

from __future__ import annotations

import contextlib
from typing import Any, Sequence

import jax.numpy as jnp

from lamina.backend.jax.core import unwrap


def _pairs(xs: Sequence[Any], ys: Any) -> list[tuple[Any, Any]]:
    if isinstance(ys, (list, tuple)):
        return [(unwrap(x), unwrap(y)) for x, y in zip(xs, ys)]
    return [(unwrap(x), ys) for x in xs]


def foreach_add(xs: Sequence[Any], ys: Any, alpha: Any = 1.0) -> list[Any]:
    return [x + alpha * y for x, y in _pairs(xs, ys)]


def foreach_mul(xs: Sequence[Any], ys: Any) -> list[Any]:
    return [x * y for x, y in _pairs(xs, ys)]


def foreach_div(xs: Sequence[Any], ys: Any) -> list[Any]:
    return [x / y for x, y in _pairs(xs, ys)]


def foreach_sqrt(xs: Sequence[Any]) -> list[Any]:
    return [jnp.sqrt(unwrap(x)) for x in xs]


def foreach_lerp(xs: Sequence[Any], ys: Sequence[Any], weight: float) -> list[Any]:
    return [x + weight * (y - x) for x, y in _pairs(xs, ys)]


def foreach_maximum(xs: Sequence[Any], ys: Sequence[Any]) -> list[Any]:
    return [jnp.maximum(x, y) for x, y in _pairs(xs, ys)]


def foreach_clip_by_norm(xs: Sequence[Any], max_norm: float) -> list[Any]:
    clipped = []
    for x in xs:
        x = unwrap(x)
        norm = jnp.sqrt(jnp.sum(jnp.square(x)))
        clipped.append(x * jnp.minimum(1.0, max_norm / jnp.maximum(norm, 1e-12)))
    return clipped


def foreach_assign(variables: Sequence[Any], values: Sequence[Any]) -> None:
    for variable, value in zip(variables, values):
        variable.assign(value)


def global_norm(xs: Sequence[Any]) -> Any:
    return jnp.sqrt(sum(jnp.sum(jnp.square(unwrap(x))) for x in xs))


# In-place updates of variables, written as new values assigned to them.

def no_grad() -> Any:
    return contextlib.nullcontext()


def assign_add(variables: Sequence[Any], values: Any, alpha: Any = 1.0) -> None:
    """v += alpha * value for every variable; values may be one scalar."""
    foreach_assign(variables, foreach_add(variables, values, alpha))


def assign_mul(variables: Sequence[Any], factor: Any) -> None:
    foreach_assign(variables, foreach_mul(variables, factor))


def assign_lerp(variables: Sequence[Any], targets: Sequence[Any], weight: float) -> None:
    """v += weight * (target - v)."""
    foreach_assign(variables, foreach_lerp(variables, targets, weight))


def assign_addcmul(variables: Sequence[Any], first: Sequence[Any], second: Sequence[Any], value: float) -> None:
    """v += value * first * second."""
    foreach_assign(variables, foreach_add(variables, foreach_mul(first, second), value))


def assign_add_ratio(variables: Sequence[Any], numerators: Sequence[Any], denominators: Sequence[Any],
                     scale: Any) -> None:
    """v += scale * numerator / denominator."""
    foreach_assign(variables, foreach_add(variables, foreach_div(numerators, denominators), scale))
