"""Keras 2's `multi_gpu_model`: a model trained data-parallel over several local devices."""

from __future__ import annotations

from typing import Any, Sequence


def multi_gpu_model(model: Any, gpus: int | Sequence[int], cpu_merge: bool = True, cpu_relocation: bool = False) -> Any:
    """`model`, now trained data-parallel over `gpus` local devices (a count, or a list of device ids): each
    global batch is split between them and the gradients averaged. The model itself is returned (its weights
    are shared with the original, as Keras 2's replica model's were); the split stays in effect for later fits
    until `lamina.distribution.set_distribution(None)`."""
    from lamina import backend, distribution

    if isinstance(gpus, bool) or not isinstance(gpus, (int, list, tuple)):
        raise TypeError(f"gpus must be an integer or a list of device ids, got {gpus!r}.")
    ids = list(range(gpus)) if isinstance(gpus, int) else [int(i) for i in gpus]
    if len(ids) < 2:
        raise ValueError(f"multi_gpu_model needs gpus >= 2 (or a list of at least two device ids), got {gpus!r}: "
                         f"with one device, train the model itself.")
    if len(set(ids)) != len(ids):
        raise ValueError(f"gpus must not repeat a device id, got {gpus!r}.")
    kind = "gpu" if distribution.get_device_count("gpu") else None
    available = distribution.list_devices(kind)
    if max(ids) >= len(available):
        raise ValueError(f"multi_gpu_model asked for {len(ids)} devices (ids {ids}), but this machine has only "
                         f"{len(available)}: {available}.")
    if backend.impl.NAME == "torch":
        distribution.set_distribution(distribution.DataParallel())
    else:
        distribution.set_distribution(distribution.DataParallel(devices=[available[i] for i in ids]))
    return model
