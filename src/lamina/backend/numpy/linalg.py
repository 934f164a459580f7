"""Linear algebra of the NumPy backend: decompositions, solves, norms (keras.ops.linalg)."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np



def _floating(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float32)


def _adjoint(x: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(x, -1, -2))


def cholesky(x: Any, upper: bool = False) -> np.ndarray:
    return np.linalg.cholesky(_floating(x), upper=upper)


def cholesky_inverse(x: Any, upper: bool = False) -> np.ndarray:
    """The inverse of a @ a^H from its Cholesky factor x (upper: of x^H @ x)."""
    x = _floating(x)
    return np.linalg.inv(_adjoint(x) @ x if upper else x @ _adjoint(x))


def det(x: Any) -> np.ndarray:
    return np.linalg.det(_floating(x))


def eig(x: Any) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.linalg.eig(_floating(x)))


def eigh(x: Any) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.linalg.eigh(_floating(x)))


def inv(x: Any) -> np.ndarray:
    return np.linalg.inv(_floating(x))


def lu_factor(x: Any) -> tuple[np.ndarray, np.ndarray]:
    """The packed LU factors (unit lower triangle implied) and the row pivots, counted from 0."""
    lu = _floating(x).copy()
    n = lu.shape[-1]
    pivots = np.zeros(lu.shape[:-1], np.int32)
    flat, flat_pivots = lu.reshape(-1, *lu.shape[-2:]), pivots.reshape(-1, n)
    rows = np.arange(flat.shape[0])
    for column in range(n):  # Gaussian elimination with partial pivoting, every matrix at once
        pivot = column + np.argmax(np.abs(flat[:, column:, column]), axis=1)
        flat_pivots[:, column] = pivot
        swapped = flat[rows, pivot].copy()
        flat[rows, pivot] = flat[:, column]
        flat[:, column] = swapped
        diagonal = flat[:, column, column][:, None]
        safe = np.where(diagonal == 0, 1, diagonal)
        flat[:, column + 1:, column] /= safe
        flat[:, column + 1:, column + 1:] -= flat[:, column + 1:, column, None] * flat[:, None, column, column + 1:]
    return flat.reshape(lu.shape), flat_pivots.reshape(pivots.shape)


def matrix_rank(x: Any, tol: float | None = None) -> np.ndarray:
    return np.linalg.matrix_rank(_floating(x), tol=tol)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> np.ndarray:
    x = _floating(x)
    if axis is None and ord is not None and x.ndim > 2:
        raise ValueError(f"norm with ord={ord!r} needs axis for an input of rank {x.ndim} (1 or 2 without it).")
    return np.linalg.norm(x, ord=ord, axis=tuple(axis) if isinstance(axis, list) else axis, keepdims=keepdims)


def pinv(x: Any, rcond: float | None = None) -> np.ndarray:
    x = _floating(x)
    if rcond is None:
        rcond = np.finfo(x.dtype).eps * max(x.shape[-2:])
    return np.linalg.pinv(x, rcond=rcond)


def qr(x: Any, mode: str = "reduced") -> tuple[np.ndarray, np.ndarray]:
    if mode not in ("reduced", "complete"):
        raise ValueError(f'qr mode must be "reduced" or "complete", got {mode!r}.')
    return tuple(np.linalg.qr(_floating(x), mode=mode))


def solve(a: Any, b: Any) -> np.ndarray:
    a, b = _floating(a), _floating(b)
    if b.ndim == a.ndim - 1:  # a batch of vectors
        return np.linalg.solve(a, b[..., None])[..., 0]
    return np.linalg.solve(a, b)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> np.ndarray:
    a = _floating(a)
    return solve(np.tril(a) if lower else np.triu(a), b)


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    result = np.linalg.svd(_floating(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(result) if compute_uv else result


def lstsq(a: Any, b: Any, rcond: float | None = None) -> np.ndarray:
    """The least-squares solution x of a @ x = b (a of shape (m, n); b of shape (m,) or (m, k))."""
    return np.linalg.lstsq(_floating(a), _floating(b), rcond=rcond)[0]


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    raise NotImplementedError("jvp differentiates, which the numpy backend (inference only) cannot; "
                              "use the torch or jax backend.")
