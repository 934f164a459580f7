"""torch.distributed's process group as the steps use it: one process per device, launched by torchrun.

Collectives run on the group torchrun describes (gloo on the CPU, NCCL on CUDA). The ones that run inside a
step (the gradient average, synchronized batch moments) read no value on the host, so a step stays
capturable; the others (broadcasting the first weights, summing metric states, the barrier) run between
steps.
"""

from __future__ import annotations

import atexit
import inspect
from typing import Any, Sequence

import torch
import torch.distributed as dist

from lamina.backend.torch.core import DEVICE, convert_to_tensor

__all__ = ["processes_average_gradients", "processes_barrier", "processes_broadcast", "processes_initialize",
           "processes_moments", "processes_sum"]


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def processes_initialize(rank: int, world_size: int, local_rank: int) -> str:
    """Join torchrun's process group (its address and port are read from the environment) and take this
    process's local device; returns the device's name. Joining twice is a no-op."""
    if DEVICE.type == "cuda":
        torch.cuda.set_device(local_rank)  # "cuda" now means this process's own device
    if not dist.is_initialized():
        engine = "nccl" if DEVICE.type == "cuda" else "gloo"
        # Binding the group to the device lets NCCL connect at once (an argument of torch 2.3 and later).
        bind = DEVICE.type == "cuda" and "device_id" in inspect.signature(dist.init_process_group).parameters
        options = {"device_id": torch.device("cuda", local_rank)} if bind else {}
        dist.init_process_group(engine, init_method="env://", rank=rank, world_size=world_size, **options)
        atexit.register(_leave)
    elif dist.get_rank() != rank or dist.get_world_size() != world_size:
        raise ValueError(f"torch.distributed is already initialized as process {dist.get_rank()} of "
                         f"{dist.get_world_size()}, not {rank} of {world_size} as the environment says.")
    return f"cuda:{local_rank}" if DEVICE.type == "cuda" else "cpu"


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _by_dtype(tensors: Sequence[Any]) -> dict[torch.dtype, list[int]]:
    groups: dict[torch.dtype, list[int]] = {}
    for index, tensor in enumerate(tensors):
        groups.setdefault(tensor.dtype, []).append(index)
    return groups


def _flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([t.reshape(-1) for t in tensors]) if len(tensors) > 1 else tensors[0].reshape(-1).clone()


def _split(flat: torch.Tensor, like: list[torch.Tensor]) -> list[torch.Tensor]:
    pieces = torch.split(flat, [t.numel() for t in like])
    return [piece.view(t.shape) for piece, t in zip(pieces, like)]


def processes_broadcast(values: Sequence[Any], source: int = 0) -> None:
    """Copy process `source`'s values into every process's tensors (variables), in place, after moving any
    that sit on another device to this process's own; one broadcast per dtype."""
    with torch.no_grad():
        for tensor in values:
            if tensor.device != convert_to_tensor(tensor).device:
                tensor.data = convert_to_tensor(tensor.data)
        if not _active() or not values:
            return
        for indices in _by_dtype(values).values():
            group = [values[i] for i in indices]
            flat = _flat([t.detach() for t in group])
            dist.broadcast(flat, src=source)
            for tensor, piece in zip(group, _split(flat, group)):
                tensor.copy_(piece)


def processes_sum(values: Sequence[Any]) -> list[torch.Tensor]:
    """Each tensor summed over every process (new tensors; one all-reduce per dtype)."""
    values = [convert_to_tensor(v).detach() for v in values]
    if not _active() or not values:
        return [v.clone() for v in values]
    summed: list[Any] = [None] * len(values)
    for indices in _by_dtype(values).values():
        group = [values[i] for i in indices]
        flat = _flat(group)
        dist.all_reduce(flat)
        for index, piece in zip(indices, _split(flat, group)):
            summed[index] = piece
    return summed


def processes_average_gradients(gradients: Sequence[Any], rows: int) -> list[torch.Tensor]:
    """The gradients averaged over the processes, each weighted by its `rows` (the rows of its batch), so
    that uneven batches average as one batch of all their rows would: one all-reduce of the flattened
    gradients and the row count per dtype, read by no host."""
    gradients = list(gradients)
    if not _active() or not gradients:
        return gradients
    averaged: list[Any] = [None] * len(gradients)
    for indices in _by_dtype(gradients).values():
        group = [gradients[i] for i in indices]
        weight = torch.full((1,), float(rows), dtype=group[0].dtype, device=group[0].device)
        if rows:
            flat = torch.cat([*(g.reshape(-1) for g in group), torch.ones_like(weight)]) * weight
        else:  # an empty batch contributes nothing (its loss, a mean over no rows, is not a number)
            flat = torch.zeros(sum(g.numel() for g in group) + 1, dtype=weight.dtype, device=weight.device)
        dist.all_reduce(flat)
        total = flat[-1:]
        for index, piece, gradient in zip(indices, _split(flat[:-1] / total, group), group):
            # In the gradient's own memory layout (a permuted kernel's, an LSTM's): torch's fused CPU optimizer
            # kernels misread a gradient laid out otherwise than its variable.
            same = piece.stride() == gradient.stride()
            averaged[index] = piece if same else torch.empty_like(gradient).copy_(piece)
    return averaged


class _SummedOverProcesses(torch.autograd.Function):
    """A sum over the processes whose gradient is the sum of every process's, each weighted by its rows and
    divided by this process's: the row-weighted gradient average then equals one batch of all the rows."""

    @staticmethod
    def forward(ctx: Any, tensor: torch.Tensor, rows: float) -> torch.Tensor:
        ctx.rows = rows
        summed = tensor.clone()
        dist.all_reduce(summed)
        return summed

    @staticmethod
    def backward(ctx: Any, gradient: torch.Tensor) -> tuple[torch.Tensor, None]:
        summed = gradient * ctx.rows
        dist.all_reduce(summed)
        return summed / ctx.rows, None


def processes_moments(x: Any, axes: Any, keepdims: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, population variance) of x over axes and over the x of every process: the sums, the sums of
    squares and the counts all-reduced in one differentiable collective."""
    x = convert_to_tensor(x)
    dims = tuple(sorted(a % x.ndim for a in ((axes,) if isinstance(axes, int) else axes)))
    wide = x.float() if x.dtype in (torch.float16, torch.bfloat16) else x
    if not _active():
        variance, mean = torch.var_mean(wide, dim=dims, correction=0, keepdim=keepdims)
    else:
        count = 1
        for axis in dims:
            count *= x.shape[axis]
        total = wide.sum(dim=dims, keepdim=True)
        squares = wide.square().sum(dim=dims, keepdim=True)
        packed = torch.cat([total.reshape(-1), squares.reshape(-1),
                            torch.full((1,), float(count), dtype=wide.dtype, device=wide.device)])
        packed = _SummedOverProcesses.apply(packed, float(x.shape[0]) if 0 in dims else 1.0)
        channels = total.numel()
        mean = (packed[:channels] / packed[-1]).view(total.shape)
        variance = (packed[channels:2 * channels] / packed[-1]).view(total.shape) - mean.square()
        variance = variance.clamp_min(0.0)
        if not keepdims:
            mean, variance = mean.squeeze(dims), variance.squeeze(dims)
    return mean.to(x.dtype), variance.to(x.dtype)


def processes_barrier() -> None:
    """Wait until every process reaches this point."""
    if _active():
        dist.barrier()
