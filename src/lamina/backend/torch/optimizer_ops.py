"""Multi-tensor ops for optimizers: one call updates every variable (torch _foreach kernels)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from lamina.backend import common

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


def foreach_abs(xs: Tensors) -> list[torch.Tensor]:
    return torch._foreach_abs(xs)


def foreach_sign(xs: Tensors) -> list[torch.Tensor]:
    return torch._foreach_sign(xs)


def foreach_pow(xs: Tensors, exponent: float) -> list[torch.Tensor]:
    return torch._foreach_pow(xs, exponent)


def foreach_clip(xs: Tensors, low: float, high: float) -> list[torch.Tensor]:
    return torch._foreach_clamp_max(torch._foreach_clamp_min(xs, low), high)


def foreach_norm(xs: Tensors) -> torch.Tensor:
    """The L2 norm of each tensor, stacked: (len(xs),)."""
    return torch.stack(torch._foreach_norm(xs))


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


# Adam: torch's fused kernel updates every variable in one pass (the optimizer's largest cost on the
# CPU). It adds epsilon to the bias-corrected sqrt(velocity), Keras to the uncorrected one, so it gets
# epsilon / sqrt(1 - beta_2^t): a Python number that changes every step. That number comes from a host
# copy of the step count, kept in step with the device counter through torch's version counter of the
# tensor, so no step reads the device; compiled or captured steps keep the multi-tensor formula.
def _host_step_count(iterations: torch.Tensor) -> int:
    """The value of the step counter, read from the device only when something else changed it."""
    known = getattr(iterations, "_lamina_host_count", None)  # (the tensor's version, its value)
    if known is not None and known[0] == iterations._version:
        return known[1]
    return int(iterations.item())


def adam_update(variables: Tensors, grads: Tensors, momentums: Tensors, velocities: Tensors,
                velocity_maxima: Tensors | None, learning_rate: torch.Tensor, iterations: torch.Tensor,
                beta_1: float, beta_2: float, epsilon: float) -> None:
    """One Adam step as Keras writes it (see backend.common.adam_update), fused where it can be."""
    fusable = variables and all(v.dtype == torch.float32 for v in variables) and not _tracing()
    if not fusable:
        common.adam_update(variables, grads, momentums, velocities, velocity_maxima, learning_rate, iterations,
                           beta_1, beta_2, epsilon)
        return
    done = _host_step_count(iterations)
    step = iterations.to(torch.float32) + 1.0
    torch._fused_adam_(list(variables), list(grads), list(momentums), list(velocities), list(velocity_maxima or []),
                       [step] * len(variables), amsgrad=bool(velocity_maxima), lr=learning_rate, beta1=beta_1,
                       beta2=beta_2, weight_decay=0.0, eps=epsilon / math.sqrt(1.0 - beta_2 ** (done + 1)),
                       maximize=False)
    iterations._lamina_host_count = (iterations._version + 1, done + 1)  # the optimizer counts the step next


def _tracing() -> bool:
    return torch.compiler.is_compiling() or (torch.cuda.is_available() and torch.cuda.is_current_stream_capturing())

