"""The torch side of the mesh entries: torch lists its devices; meshes and shardings are jax's engine (torch
trains on several devices through torch.distributed's process group instead)."""

from __future__ import annotations

from typing import Any, NoReturn, Sequence

import torch


def list_devices(device_type: str | None = None) -> list[str]:
    kind = None if device_type is None else device_type.lower()
    if kind not in (None, "cpu", "gpu", "cuda"):
        raise ValueError(f"device_type must be 'cpu', 'gpu', 'cuda' or None on torch, got {device_type!r}.")
    if kind != "cpu" and torch.cuda.is_available():
        return [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if kind in ("gpu", "cuda"):
        return []
    return ["cpu:0"]


def _jax_only(what: str) -> NoReturn:
    raise ValueError(f"{what} is supported on the jax backend only; on torch, several devices train through "
                     f"torch.distributed (launch the program with torchrun).")


def mesh_initialize(coordinator_address: str | None, num_processes: int | None, process_id: int | None) -> None:
    _jax_only("jax.distributed's initialize")


def mesh_process_index() -> int:
    _jax_only("A jax.distributed process index")


def mesh_process_count() -> int:
    _jax_only("A jax.distributed process count")


def make_mesh(shape: Sequence[int], axis_names: Sequence[str], devices: Sequence[str]) -> Any:
    _jax_only("A device mesh")


def mesh_sharding(mesh: Any, axes: Sequence[str | None]) -> Any:
    _jax_only("A mesh sharding")


def shard_tensor(x: Any, sharding: Any) -> Any:
    _jax_only("Sharding a tensor over a mesh")


def shard_variables(variables: Sequence[Any], shardings: Sequence[Any]) -> None:
    _jax_only("Sharding variables over a mesh")


def global_batch(local: Any, sharding: Any, global_rows: int) -> Any:
    _jax_only("A global array built from every process's rows")


def tensor_shards(x: Any) -> list:
    _jax_only("The shards of a mesh-sharded tensor")
