"""Linear algebra of the torch backend: decompositions, solves, norms (keras.ops.linalg)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from lamina.backend.torch.core import convert_to_tensor


def _floating(x: Any) -> torch.Tensor:
    x = convert_to_tensor(x)
    return x if x.is_floating_point() or x.is_complex() else x.float()


def cholesky(x: Any, upper: bool = False) -> torch.Tensor:
    return torch.linalg.cholesky(_floating(x), upper=upper)


def cholesky_inverse(x: Any, upper: bool = False) -> torch.Tensor:
    return torch.cholesky_inverse(_floating(x), upper=upper)


def det(x: Any) -> torch.Tensor:
    return torch.linalg.det(_floating(x))


def eig(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(torch.linalg.eig(_floating(x)))


def eigh(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(torch.linalg.eigh(_floating(x)))


def inv(x: Any) -> torch.Tensor:
    return torch.linalg.inv(_floating(x))


def lu_factor(x: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """The packed LU factors and the row pivots, counted from 0 as jax and SciPy count them."""
    lu, pivots = torch.linalg.lu_factor(_floating(x))
    return lu, pivots - 1


def matrix_rank(x: Any, tol: float | None = None) -> torch.Tensor:
    return torch.linalg.matrix_rank(_floating(x), atol=tol)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> torch.Tensor:
    x = _floating(x)
    if axis is None and ord is not None and x.ndim > 2:
        raise ValueError(f"norm with ord={ord!r} needs axis for an input of rank {x.ndim} (1 or 2 without it).")
    if axis is None and ord is None:  # the 2-norm of all elements, as of a flat vector
        return torch.linalg.vector_norm(x, 2, dim=tuple(range(x.ndim)), keepdim=keepdims)
    if isinstance(axis, list):
        axis = tuple(axis)
    return torch.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims)


def pinv(x: Any, rcond: float | None = None) -> torch.Tensor:
    return torch.linalg.pinv(_floating(x), rtol=rcond)


def qr(x: Any, mode: str = "reduced") -> tuple[torch.Tensor, torch.Tensor]:
    if mode not in ("reduced", "complete"):
        raise ValueError(f'qr mode must be "reduced" or "complete", got {mode!r}.')
    return tuple(torch.linalg.qr(_floating(x), mode=mode))


def solve(a: Any, b: Any) -> torch.Tensor:
    return torch.linalg.solve(_floating(a), _floating(b))


def solve_triangular(a: Any, b: Any, lower: bool = False) -> torch.Tensor:
    a, b = _floating(a), _floating(b)
    vector = b.ndim == a.ndim - 1  # b of shape (..., n), as NumPy's and jax's solvers take it
    solution = torch.linalg.solve_triangular(a, b.unsqueeze(-1) if vector else b, upper=not lower)
    return solution.squeeze(-1) if vector else solution


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    if not compute_uv:
        return torch.linalg.svdvals(_floating(x))
    return tuple(torch.linalg.svd(_floating(x), full_matrices=full_matrices))


def lstsq(a: Any, b: Any, rcond: float | None = None) -> torch.Tensor:
    """The least-squares solution x of a @ x = b (a of shape (m, n); b of shape (m,) or (m, k))."""
    a, b = _floating(a), _floating(b)
    vector = b.ndim == 1
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    cutoff = (torch.finfo(s.dtype).eps * max(a.shape[-2:]) if rcond is None else rcond) * s.amax(-1, keepdim=True)
    inverse_s = torch.where(s > cutoff, 1.0 / torch.where(s > cutoff, s, 1.0), 0.0)
    rhs = b.unsqueeze(-1) if vector else b
    solution = vh.transpose(-2, -1) @ (inverse_s.unsqueeze(-1) * (u.transpose(-2, -1) @ rhs))
    return solution.squeeze(-1) if vector else solution


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> Any:
    """(fun(*primals), its derivative along tangents) and fun's auxiliary output when has_aux."""
    return torch.func.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)
