"""The devices this run may train on, and joining a run of several processes."""

from __future__ import annotations

import os
from typing import Any

from lamina import backend


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of the current backend as "platform:id" strings (jax: across every process; torch: the
    CUDA devices, else the CPU). `device_type`: "cpu", "gpu" (or "cuda"), "tpu", or None for the default."""
    if device_type is not None and not isinstance(device_type, str):
        raise TypeError(f"device_type must be a string or None, got {type(device_type).__name__}.")
    return list(backend.impl.list_devices(device_type))


def get_device_count(device_type: str | None = None) -> int:
    """How many devices `list_devices(device_type)` lists."""
    return len(list_devices(device_type))


def _setting(value: Any, name: str) -> Any:
    """An argument of initialize, or the environment variable Keras reads for it."""
    if value is None:
        value = os.environ.get(f"KERAS_DISTRIBUTION_{name}")
    return value


def initialize(job_addresses: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Join a run of several processes. jax: jax.distributed.initialize with the first of the comma-separated
    `job_addresses` ("host:port") as the coordinator; torch: the process group (under torchrun every argument
    may be left out; otherwise MASTER_ADDR/MASTER_PORT, WORLD_SIZE and RANK come from these arguments)."""
    job_addresses = _setting(job_addresses, "JOB_ADDRESSES")
    num_processes = _checked_int(_setting(num_processes, "NUM_PROCESSES"), "num_processes", 1)
    process_id = _checked_int(_setting(process_id, "PROCESS_ID"), "process_id", 0)
    if num_processes is not None and process_id is not None and process_id >= num_processes:
        raise ValueError(f"process_id must be below num_processes ({num_processes}), got {process_id}.")
    coordinator = None
    if job_addresses:
        if not isinstance(job_addresses, str):
            raise TypeError(f"job_addresses must be a string such as '10.0.0.1:1234,10.0.0.2:1234', "
                            f"got {type(job_addresses).__name__}.")
        coordinator = job_addresses.split(",")[0].strip()
        if ":" not in coordinator:
            raise ValueError(f"job_addresses must give host:port for each process, got {job_addresses!r}.")
    if backend.impl.NAME == "torch":
        _initialize_torch(coordinator, num_processes, process_id)
    else:
        backend.impl.mesh_initialize(coordinator, num_processes, process_id)


def _checked_int(value: Any, name: str, minimum: int) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r}.") from None
    if number < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {number}.")
    return number


def _initialize_torch(coordinator: str | None, num_processes: int | None, process_id: int | None) -> None:
    if coordinator is not None:
        host, _, port = coordinator.rpartition(":")
        os.environ.setdefault("MASTER_ADDR", host)
        os.environ.setdefault("MASTER_PORT", port)
    if num_processes is not None:
        os.environ.setdefault("WORLD_SIZE", str(num_processes))
    if process_id is not None:
        os.environ.setdefault("RANK", str(process_id))
        os.environ.setdefault("LOCAL_RANK", str(process_id))
    from lamina.distribution.parallel import torch_processes

    torch_processes(shard_weights=False)
