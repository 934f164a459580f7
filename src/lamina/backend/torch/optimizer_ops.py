"""Multi-tensor ops for optimizers: one call updates every variable (torch _foreach kernels)."""

from __future__ import annotations

from typing import Any, Sequence

import torch

Tensors = Sequence[torch.Tensor]


def foreach_add(xs: Tensors, ys: Any, alpha: Any = 1.0) -> list[torch.Tensor]:
    """x + alpha * y for every pair; ys may be one scalar for all."""
    if isinstance(ys, (list, tuple)):
        return torch._foreach_add(xs, ys, alpha=alpha) if not isinstance(alpha, torch.Tensor) \
            else torch._foreach_add(xs, torch._foreach_mul(ys, alpha))
    return torch._foreach_add(xs, ys * alpha)


def foreach_mul(xs: Tensors, ys: Any) -> list[torch.Tensor]:
    return torch._foreach_mul(xs, ys)


def foreach_div(xs: Tensors, ys: Any) -> list[torch.Tensor]:
    return torch._foreach_div(xs, ys)


def foreach_sqrt(xs: Tensors) -> list[torch.Tensor]:
    return torch._foreach_sqrt(xs)


def foreach_lerp(xs: Tensors, ys: Tensors, weight: float) -> list[torch.Tensor]:
    """x + weight * (y - x), the moving average update."""
    return torch._foreach_lerp(xs, ys, weight)


def foreach_maximum(xs: Tensors, ys: Tensors) -> list[torch.Tensor]:
    return torch._foreach_maximum(xs, ys)


def foreach_clip_by_norm(xs: Tensors, max_norm: float) -> list[torch.Tensor]:
    """Scale each tensor so that its own L2 norm is at most max_norm."""
    norms = torch._foreach_norm(xs)
    scales = [torch.clamp(max_norm / torch.clamp(n, min=1e-12), max=1.0) for n in norms]
    return torch._foreach_mul(xs, scales)


def foreach_assign(variables: Tensors, values: Tensors) -> None:
    with torch.no_grad():
        torch._foreach_copy_(variables, values)


def global_norm(xs: Tensors) -> torch.Tensor:
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(xs)))
