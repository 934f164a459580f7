"""The jax side of the process-group entries: jax trains on several devices and processes through meshes
and shardings (the global batch is one sharded array), not through torch.distributed's process group."""

from __future__ import annotations

from typing import Any, NoReturn, Sequence

from lamina.backend.jax.normalization import moments

__all__ = ["processes_average_gradients", "processes_barrier", "processes_broadcast", "processes_initialize",
           "processes_moments", "processes_sum"]


def _torch_only(what: str) -> NoReturn:
    raise ValueError(f"{what} is supported on the torch backend only (torch.distributed under torchrun); on jax, "
                     "several devices and processes train through lamina.distribution.DataParallel's mesh.")


def processes_initialize(rank: int, world_size: int, local_rank: int) -> str:
    _torch_only("Joining torchrun's process group")


def processes_broadcast(values: Sequence[Any], source: int = 0) -> None:
    _torch_only("Broadcasting over torch.distributed's process group")


def processes_sum(values: Sequence[Any]) -> list:
    _torch_only("Summing over torch.distributed's process group")


def processes_average_gradients(gradients: Sequence[Any], rows: int) -> list:
    _torch_only("Averaging gradients over torch.distributed's process group")


def processes_moments(x: Any, axes: Any, keepdims: bool = False) -> tuple[Any, Any]:
    """On jax a sharded global batch is one array: its moments are already those of every device's rows."""
    return moments(x, axes, keepdims=keepdims)


def processes_barrier() -> None:
    _torch_only("A barrier over torch.distributed's process group")
