"""Multi-array ops for optimizers, over lists: the numpy backend does not train, but keeps the surface."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina.backend.common import (adagrad_update, adam_update, assign_add, assign_add_ratio,  # noqa: F401
                                   assign_addcmul, assign_lerp, assign_mul, foreach_where, no_grad, sgd_update)

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


def foreach_abs(xs: Arrays) -> list[np.ndarray]:
    return [np.abs(x) for x in xs]


def foreach_sign(xs: Arrays) -> list[np.ndarray]:
    return [np.sign(x) for x in xs]


def foreach_pow(xs: Arrays, exponent: float) -> list[np.ndarray]:
    return [np.power(x, exponent) for x in xs]


def foreach_clip(xs: Arrays, low: float, high: float) -> list[np.ndarray]:
    return [np.clip(x, low, high) for x in xs]


def foreach_norm(xs: Arrays) -> np.ndarray:
    return np.stack([_norm(x) for x in xs])


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

