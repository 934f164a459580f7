"""Multi-array ops for optimizers, over lists: the numpy backend does not train, but keeps the surface."""

from __future__ import annotations

import contextlib
from typing import Any, Sequence

import numpy as np

Arrays = Sequence[Any]


def _per_item(ys: Any, count: int) -> Sequence[Any]:
    """ys as one value per item: a list stays as it is, one scalar or array is repeated."""
    return ys if isinstance(ys, (list, tuple)) else [ys] * count


def foreach_add(xs: Arrays, ys: Any, alpha: Any = 1.0) -> list[np.ndarray]:
    """x + alpha * y for every pair; ys may be one scalar for all."""
    return [x + y * alpha for x, y in zip(xs, _per_item(ys, len(xs)))]


def foreach_mul(xs: Arrays, ys: Any) -> list[np.ndarray]:
    return [x * y for x, y in zip(xs, _per_item(ys, len(xs)))]


def foreach_div(xs: Arrays, ys: Any) -> list[np.ndarray]:
    return [x / y for x, y in zip(xs, _per_item(ys, len(xs)))]


def foreach_sqrt(xs: Arrays) -> list[np.ndarray]:
    return [np.sqrt(x) for x in xs]


def foreach_lerp(xs: Arrays, ys: Arrays, weight: float) -> list[np.ndarray]:
    """x + weight * (y - x), the moving average update."""
    return [x + weight * (y - x) for x, y in zip(xs, ys)]


def foreach_maximum(xs: Arrays, ys: Arrays) -> list[np.ndarray]:
    return [np.maximum(x, y) for x, y in zip(xs, ys)]


def _norm(x: Any) -> np.ndarray:
    return np.sqrt(np.sum(np.square(x)))


def foreach_clip_by_norm(xs: Arrays, max_norm: float) -> list[np.ndarray]:
    """Scale each array so that its own L2 norm is at most max_norm."""
    return [x * np.minimum(max_norm / np.maximum(_norm(x), 1e-12), 1.0) for x in xs]


def foreach_assign(variables: Arrays, values: Arrays) -> None:
    for variable, value in zip(variables, values):
        variable.assign(value)


def global_norm(xs: Arrays) -> np.ndarray:
    return np.sqrt(sum(np.sum(np.square(x)) for x in xs))


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
