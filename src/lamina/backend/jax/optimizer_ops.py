"""Multi-tensor ops for optimizers; inside the jitted step XLA fuses them, so plain list maps suffice."""

from __future__ import annotations

from typing import Any, Sequence

import jax.numpy as jnp

from lamina.backend.common import (adagrad_update, adam_update, assign_add, assign_add_ratio,  # noqa: F401
                                   assign_addcmul, assign_lerp, assign_mul, foreach_where, no_grad, sgd_update)
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


def foreach_abs(xs: Sequence[Any]) -> list[Any]:
    return [jnp.abs(unwrap(x)) for x in xs]


def foreach_sign(xs: Sequence[Any]) -> list[Any]:
    return [jnp.sign(unwrap(x)) for x in xs]


def foreach_pow(xs: Sequence[Any], exponent: float) -> list[Any]:
    return [jnp.power(unwrap(x), exponent) for x in xs]


def foreach_clip(xs: Sequence[Any], low: float, high: float) -> list[Any]:
    return [jnp.clip(unwrap(x), low, high) for x in xs]


def foreach_norm(xs: Sequence[Any]) -> Any:
    return jnp.stack([jnp.sqrt(jnp.sum(jnp.square(unwrap(x)))) for x in xs])


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

