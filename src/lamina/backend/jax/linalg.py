"""Linear algebra of the jax backend: decompositions, solves, norms (keras.ops.linalg)."""

from __future__ import annotations

from typing import Any, Callable

import jax
import jax.numpy as jnp
import jax.scipy.linalg

from lamina.backend.jax.core import Variable, unwrap


def _floating(x: Any) -> Any:
    x = jnp.asarray(unwrap(x))
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


def cholesky(x: Any, upper: bool = False) -> Any:
    factor = jnp.linalg.cholesky(_floating(x))
    return jnp.conj(jnp.swapaxes(factor, -1, -2)) if upper else factor


def cholesky_inverse(x: Any, upper: bool = False) -> Any:
    """The inverse of a @ a^H from its Cholesky factor x (upper: of x^H @ x)."""
    x = _floating(x)
    identity = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    inverse_factor = jax.scipy.linalg.solve_triangular(x, identity, lower=not upper)
    if upper:  # (U^H U)^-1 = U^-1 U^-H
        return inverse_factor @ jnp.conj(jnp.swapaxes(inverse_factor, -1, -2))
    return jnp.conj(jnp.swapaxes(inverse_factor, -1, -2)) @ inverse_factor


def det(x: Any) -> Any:
    return jnp.linalg.det(_floating(x))


def eig(x: Any) -> tuple[Any, Any]:
    return tuple(jnp.linalg.eig(_floating(x)))


def eigh(x: Any) -> tuple[Any, Any]:
    return tuple(jnp.linalg.eigh(_floating(x)))


def inv(x: Any) -> Any:
    return jnp.linalg.inv(_floating(x))


def lu_factor(x: Any) -> tuple[Any, Any]:
    """The packed LU factors and the row pivots, counted from 0."""
    lu, pivots, _ = jax.lax.linalg.lu(_floating(x))
    return lu, pivots


def matrix_rank(x: Any, tol: float | None = None) -> Any:
    x = _floating(x)
    if tol is None:
        return jnp.linalg.matrix_rank(x)
    singular = jnp.linalg.svd(x, compute_uv=False)
    return jnp.sum(singular > tol, axis=-1)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    x = _floating(x)
    if axis is None and ord is not None and x.ndim > 2:
        raise ValueError(f"norm with ord={ord!r} needs axis for an input of rank {x.ndim} (1 or 2 without it).")
    return jnp.linalg.norm(x, ord=ord, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)


def pinv(x: Any, rcond: float | None = None) -> Any:
    return jnp.linalg.pinv(_floating(x), rtol=rcond)


def qr(x: Any, mode: str = "reduced") -> tuple[Any, Any]:
    if mode not in ("reduced", "complete"):
        raise ValueError(f'qr mode must be "reduced" or "complete", got {mode!r}.')
    return tuple(jnp.linalg.qr(_floating(x), mode=mode))


def solve(a: Any, b: Any) -> Any:
    return jnp.linalg.solve(_floating(a), _floating(b))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Any:
    return jax.scipy.linalg.solve_triangular(_floating(a), _floating(b), lower=lower)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    result = jnp.linalg.svd(_floating(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(result) if compute_uv else result


def lstsq(a: Any, b: Any, rcond: float | None = None) -> Any:
    """The least-squares solution x of a @ x = b (a of shape (m, n); b of shape (m,) or (m, k))."""
    return jnp.linalg.lstsq(_floating(a), _floating(b), rcond=rcond)[0]


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    """(fun(*primals), its derivative along tangents) and fun's auxiliary output when has_aux."""
    is_variable = lambda x: isinstance(x, Variable)  # noqa: E731
    primals = tuple(jax.tree_util.tree_map(unwrap, tuple(primals), is_leaf=is_variable))
    tangents = tuple(jax.tree_util.tree_map(unwrap, tuple(tangents), is_leaf=is_variable))
    return jax.jvp(fun, primals, tangents, has_aux=has_aux)
