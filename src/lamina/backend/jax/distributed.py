"""Devices, meshes and shardings on jax: the engine a jax distribution trains with (jax.sharding,
jax.distributed across processes)."""

from __future__ import annotations

from typing import Any, Sequence

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from lamina.backend.jax.core import Variable

_KINDS = {"gpu": ("gpu", "cuda", "rocm"), "cuda": ("gpu", "cuda"), "cpu": ("cpu",), "tpu": ("tpu",)}


def _devices(device_type: str | None = None) -> list[Any]:
    if device_type is None:
        return list(jax.devices())
    kind = device_type.lower()
    if kind not in _KINDS:
        raise ValueError(f"device_type must be one of {sorted(_KINDS)} or None, got {device_type!r}.")
    try:
        return list(jax.devices(_KINDS[kind][0]))
    except RuntimeError:  # no such platform on this machine
        return []


def _label(device: Any) -> str:
    return f"{device.platform}:{device.id}"


def list_devices(device_type: str | None = None) -> list[str]:
    return [_label(device) for device in _devices(device_type)]


def mesh_initialize(coordinator_address: str | None, num_processes: int | None, process_id: int | None) -> None:
    # The CPU's cross-process collectives: gloo (jax's default from 0.5 on; without it, a run of several CPU
    # processes would fail at its first all-reduce).
    if jax.config.jax_cpu_collectives_implementation in (None, "none"):
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    try:
        jax.distributed.initialize(coordinator_address=coordinator_address, num_processes=num_processes,
                                   process_id=process_id)
    except RuntimeError as error:
        raise RuntimeError(f"lamina.distribution.initialize must come before anything runs on jax (make it the "
                           f"program's first step) and only once: {error}") from error


def mesh_process_index() -> int:
    return int(jax.process_index())


def mesh_process_count() -> int:
    return int(jax.process_count())


def make_mesh(shape: Sequence[int], axis_names: Sequence[str], devices: Sequence[str]) -> Mesh:
    by_label = {_label(device): device for device in jax.devices()}
    by_label.update({_label(device): device for device in _all_platform_devices()})
    missing = [label for label in devices if label not in by_label]
    if missing:
        raise ValueError(f"devices names devices that do not exist: {missing}; available: {sorted(by_label)}.")
    grid = np.array([by_label[label] for label in devices], dtype=object).reshape(tuple(shape))
    local_cpus = [d for d in grid.flat if d.platform == "cpu" and d.process_index == jax.process_index()]
    if len(local_cpus) > 1:
        # Host devices share one thread pool: with many steps dispatched ahead, one device's steps can hold
        # every thread at an all-reduce that the other device never reaches (XLA:CPU aborts after 40 s).
        # Each step is dispatched once the one before has finished instead.
        jax.config.update("jax_cpu_enable_async_dispatch", False)
    return Mesh(grid, tuple(axis_names))


def _all_platform_devices() -> list[Any]:
    found = []
    for platform in ("cpu", "gpu", "tpu"):
        try:
            found.extend(jax.devices(platform))
        except RuntimeError:
            pass
    return found


def mesh_sharding(mesh: Mesh, axes: Sequence[str | None]) -> NamedSharding:
    axes = list(axes)
    while axes and axes[-1] is None:  # the spelling a compiled step gives its outputs: one layout, one compile
        axes.pop()
    return NamedSharding(mesh, PartitionSpec(*axes))


def _tracing(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


def shard_tensor(x: Any, sharding: NamedSharding) -> Any:
    if _tracing(x):
        return jax.lax.with_sharding_constraint(x, sharding)
    return jax.device_put(x, sharding)


def shard_variables(variables: Sequence[Any], shardings: Sequence[NamedSharding]) -> None:
    for variable, sharding in zip(variables, shardings):
        if getattr(variable._value, "sharding", None) != sharding:
            variable._value = jax.device_put(variable._value, sharding)


def global_batch(local: Any, sharding: NamedSharding, global_rows: int) -> jax.Array:
    local = np.asarray(local)
    return jax.make_array_from_process_local_data(sharding, local, (int(global_rows),) + local.shape[1:])


def tensor_shards(x: Any) -> list[tuple[str, tuple, tuple[int, ...]]]:
    value = x._value if isinstance(x, Variable) else x
    return [(_label(shard.device), tuple((s.start, s.stop) for s in shard.index), tuple(shard.data.shape))
            for shard in value.addressable_shards]
