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
    norms = torch.stack(torch._foreach_norm(xs))  # (len(xs),): the scales of all tensors in a few kernels
    scales = torch.clamp(torch.clamp(norms, min=1e-12).reciprocal() * max_norm, max=1.0)
    return torch._foreach_mul(xs, scales.unbind())


def foreach_assign(variables: Tensors, values: Tensors) -> None:
    with torch.no_grad():
        torch._foreach_copy_(variables, values)


def global_norm(xs: Tensors) -> torch.Tensor:
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(xs)))


# In-place updates of variables (the optimizer's hot path: no new tensors of the variables' size).

def no_grad() -> Any:
    return torch.no_grad()


def assign_add(variables: Tensors, values: Any, alpha: Any = 1.0) -> None:
    """v += alpha * value for every variable; values may be one scalar, alpha a float or a 0-d tensor."""
    if not isinstance(values, (list, tuple)):
        torch._foreach_add_(variables, values * alpha)
    elif isinstance(alpha, torch.Tensor):
        torch._foreach_add_(variables, torch._foreach_mul(values, alpha))
    else:
        torch._foreach_add_(variables, values, alpha=alpha)


def assign_mul(variables: Tensors, factor: Any) -> None:
    torch._foreach_mul_(variables, factor)


def assign_lerp(variables: Tensors, targets: Tensors, weight: float) -> None:
    """v += weight * (target - v)."""
    torch._foreach_lerp_(variables, targets, weight)


def assign_addcmul(variables: Tensors, first: Tensors, second: Tensors, value: float) -> None:
    """v += value * first * second."""
    torch._foreach_addcmul_(variables, first, second, value=value)


def assign_add_ratio(variables: Tensors, numerators: Tensors, denominators: Tensors, scale: Any) -> None:
    """v += scale * numerator / denominator; the denominators are consumed (overwritten)."""
    torch._foreach_div_(denominators, scale)
    torch._foreach_addcdiv_(variables, numerators, denominators)
