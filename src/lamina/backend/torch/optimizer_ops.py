"""Multi-tensor ops for optimizers: one call updates every variable (torch _foreach kernels)."""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch

from lamina.backend import common
from lamina.backend.torch.core import Variable

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


def foreach_where(condition: torch.Tensor, xs: Tensors, ys: Any) -> list[torch.Tensor]:
    """[where(condition, x, y)] for one boolean scalar condition; ys may be one scalar for all."""
    others = ys if isinstance(ys, (list, tuple)) else [ys] * len(xs)
    return [torch.where(condition, x, y) for x, y in zip(xs, others)]


# Torch's fused kernels update every variable in one pass (the optimizer's largest cost on the CPU). They
# serve when every variable is float32 and the step is neither compiled nor captured; each is called so
# that it computes Keras's numbers, else the multi-tensor formula of backend.common runs.

def _fusable(variables: Tensors, grads: Tensors) -> bool:
    return (bool(variables) and all(v.dtype == torch.float32 for v in variables)
            and all(g.dtype == torch.float32 for g in grads) and not _tracing())


def _laid_out_as(grads: Tensors, variables: Tensors) -> list[torch.Tensor]:
    """The gradients in their variables' memory layout. torch's fused CPU kernels for SGD and Adagrad (torch
    2.13) misread a gradient whose strides differ from its variable's, as the gradient of a kernel permuted in
    the forward pass (a convolution's, an LSTM's) has; such gradients are copied into the variable's own
    layout first (not merely made contiguous: a variable may itself be non-contiguous, as an LSTM's recurrent
    kernel is)."""
    return [g if g.stride() == v.stride() else torch.empty_like(v).copy_(g) for g, v in zip(grads, variables)]


# Adam adds epsilon to the bias-corrected sqrt(velocity), Keras to the uncorrected one, so the kernel gets
# epsilon / sqrt(1 - beta_2^t): a Python number that changes every step. That number comes from a host
# copy of the step count, kept in step with the device counter through torch's version counter of the
# tensor, so no step reads the device. A step count given as a computed tensor (gradient accumulation
# counts optimizer steps, not calls) keeps the multi-tensor formula.
def _host_step_count(iterations: torch.Tensor) -> int:
    """The value of the step counter, read from the device only when something else changed it."""
    known = getattr(iterations, "_lamina_host_count", None)  # (the tensor's version, its value)
    if known is not None and known[0] == iterations._version:
        return known[1]
    return int(iterations.item())


def adam_update(variables: Tensors, grads: Tensors, momentums: Tensors, velocities: Tensors,
                velocity_maxima: Tensors | None, learning_rate: torch.Tensor, iterations: torch.Tensor,
                beta_1: float, beta_2: float, epsilon: float, weight_decay: float = 0.0) -> None:
    """One Adam step as Keras writes it (see backend.common.adam_update), fused where it can be; with a
    weight decay, the AdamW kernel decays first as Keras does (v *= 1 - lr * weight_decay)."""
    if not (_fusable(variables, grads) and isinstance(iterations, Variable)):
        common.adam_update(variables, grads, momentums, velocities, velocity_maxima, learning_rate, iterations,
                           beta_1, beta_2, epsilon, weight_decay)
        return
    done = _host_step_count(iterations)
    step = iterations.to(torch.float32) + 1.0
    kernel = torch._fused_adamw_ if weight_decay else torch._fused_adam_
    # A rate held in a variable goes in as a Python number (read from the device only when it changed): the
    # CPU kernels are slower with a tensor rate, the AdamW one most (measured on the W1 MLP).
    rate = _host_value(learning_rate) if isinstance(learning_rate, Variable) else _as_tensor(learning_rate)
    kernel(list(variables), _laid_out_as(grads, variables), list(momentums), list(velocities),
           list(velocity_maxima or []), [step] * len(variables), amsgrad=bool(velocity_maxima), lr=rate,
           beta1=beta_1, beta2=beta_2, weight_decay=float(weight_decay),
           eps=epsilon / math.sqrt(1.0 - beta_2 ** (done + 1)), maximize=False)
    iterations._lamina_host_count = (iterations._version + 1, done + 1)  # the optimizer counts the step next


# SGD: torch keeps buf = momentum * buf + (1 - dampening) * g and steps v -= lr * buf; Keras keeps
# m = momentum * m - lr * g and steps v += m. With `maximize` negating the gradients, a dampening of 1 - lr and a
# rate of -1, torch's buffer is Keras's m and its step Keras's step. The dampening is a Python number: the rate's
# value, read from the device only when the rate variable changed (its version counter, as for Adam's step
# count). A rate computed in the step (a schedule) or Nesterov's step (torch adds the undampened gradient)
# scales the gradients by lr into a new list instead (the kernel's grad_scale would do it in place, and the
# caller's gradients may share memory with its NumPy arrays), then runs the kernel with a dampening of 0.
def sgd_update(variables: Tensors, grads: Tensors, momentums: Tensors | None, learning_rate: Any,
               momentum: float = 0.0, nesterov: bool = False) -> None:
    """One SGD step as Keras writes it (see backend.common.sgd_update), fused where it can be."""
    if not _fusable(variables, grads):
        common.sgd_update(variables, grads, momentums, learning_rate, momentum, nesterov)
        return
    if not momentums:
        torch._fused_sgd_(list(variables), _laid_out_as(grads, variables), [], weight_decay=0.0, momentum=0.0,
                          lr=_as_tensor(learning_rate), dampening=0.0, nesterov=False, maximize=False,
                          is_first_step=False)
        return
    if isinstance(learning_rate, Variable) and not nesterov:
        torch._fused_sgd_(list(variables), _laid_out_as(grads, variables), list(momentums), weight_decay=0.0,
                          momentum=float(momentum), lr=-1.0, dampening=1.0 - _host_value(learning_rate),
                          nesterov=False, maximize=True, is_first_step=False)
        return
    scaled = torch._foreach_mul(_laid_out_as(grads, variables), _as_tensor(learning_rate))
    torch._fused_sgd_(list(variables), scaled, list(momentums), weight_decay=0.0, momentum=float(momentum), lr=-1.0,
                      dampening=0.0, nesterov=bool(nesterov), maximize=True, is_first_step=False)


def _host_value(variable: torch.Tensor) -> float:
    """A scalar variable's value on the host, read from the device only when it changed since the last read."""
    known = getattr(variable, "_lamina_host_value", None)  # (the tensor's version, its value)
    if known is None or known[0] != variable._version:
        known = (variable._version, float(variable.item()))
        variable._lamina_host_value = known
    return known[1]


# Adagrad: torch adds epsilon outside the square root, Keras inside. The accumulators start at
# initial_accumulator_value and only grow, so sqrt(a) + (sqrt(a0 + eps) - sqrt(a0)) is exact at the start and
# later off by less than eps / (2 a0) relatively: the kernel serves while that is below 1e-6.
_ADAGRAD_TOLERANCE = 1e-6


def adagrad_update(variables: Tensors, grads: Tensors, accumulators: Tensors, learning_rate: Any, epsilon: float,
                   initial_accumulator_value: float = 0.0) -> None:
    """One Adagrad step as Keras writes it (see backend.common.adagrad_update), fused where it can be."""
    start = float(initial_accumulator_value)
    if not (_fusable(variables, grads) and start > 0 and epsilon / (2.0 * start) <= _ADAGRAD_TOLERANCE):
        common.adagrad_update(variables, grads, accumulators, learning_rate, epsilon, initial_accumulator_value)
        return
    steps = [_one(variables[0].device)] * len(variables)  # with lr_decay=0 the kernel's step count does not matter
    torch._fused_adagrad_(list(variables), _laid_out_as(grads, variables), list(accumulators), steps,
                          lr=_as_tensor(learning_rate), lr_decay=0.0, weight_decay=0.0,
                          eps=math.sqrt(start + epsilon) - math.sqrt(start), maximize=False)


_ONES: dict[torch.device, torch.Tensor] = {}


def _one(device: torch.device) -> torch.Tensor:
    if device not in _ONES:
        _ONES[device] = torch.ones((), dtype=torch.float32, device=device)
    return _ONES[device]


def _as_tensor(value: Any) -> Any:
    """A learning rate as the kernels take it: a float32 tensor (on the variables' device), or a Python float."""
    if isinstance(value, torch.Tensor):
        return value.detach() if value.dtype == torch.float32 else value.detach().to(torch.float32)
    return float(value)


def _tracing() -> bool:
    return torch.compiler.is_compiling() or (torch.cuda.is_available() and torch.cuda.is_current_stream_capturing())

