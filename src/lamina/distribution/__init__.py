"""Who trains on what: the one object the trainer, the data adapter and the callbacks ask about processes.

With one process (the default) every answer is trivial: this process trains on every row, metric states
need no reduction, and it is the process that prints and writes files. Training on several devices or
machines replaces it with one that answers from the backend's own engine (torch.distributed, JAX meshes).
"""

from __future__ import annotations

from typing import Any, Sequence


class Distribution:
    """A single process that owns all the data: the default."""

    process_index = 0
    process_count = 1

    @property
    def is_chief(self) -> bool:
        """Whether this process prints progress and writes files (checkpoints, logs)."""
        return self.process_index == 0

    def local_rows(self, order: Any) -> Any:
        """The rows of `order` (a shuffled index array) that this process trains on."""
        return order

    def local_batch_size(self, batch_size: int) -> int:
        """The rows of each global batch of `batch_size` that this process trains on."""
        return batch_size

    def reduce_metric_states(self, variables: Sequence[Any]) -> None:
        """Combine the metric accumulators of every process in place before results are read."""

    def restore_metric_states(self, variables: Sequence[Any]) -> None:
        """Give back this process's own accumulators once the combined results were read."""

    def check_batches(self, count: int, batch_size: int) -> None:
        """Refuse, before training, `count` samples in global batches of `batch_size` that cannot be shared."""

    def local_batch(self, data: Any) -> Any:
        """This process's rows of one batch a generator or PyDataset gave (every process reads every batch)."""
        return data

    def barrier(self) -> None:
        """Wait until every process reaches this point (after process 0 wrote a file that all will read)."""

    # --- inside the steps and around them: hooks a multi-device distribution fills in ------------------

    def prepare(self, variables: Sequence[Any]) -> None:
        """Place the model's variables (weights, optimizer slots, metric states) before its first step: on
        the local device, the same on every process, sharded where a layout says so."""

    def place_data(self, arrays: Any) -> Any:
        """In-memory arrays (a nested structure of backend tensors) as the steps should find them."""
        return arrays

    def distribute_batch(self, batch: Any) -> Any:
        """A batch inside a step, as the replicas share it (jax: sharded over the mesh's batch axis)."""
        return batch

    def reduce_gradients(self, gradients: list) -> list:
        """The gradients inside the train step, averaged over the replicas that computed them."""
        return gradients

    def gather_outputs(self, outputs: Any) -> Any:
        """A predict step's outputs inside the step, whole on every process (jax: the sharded rows gathered)."""
        return outputs


_current = Distribution()


def current() -> Distribution:
    """The distribution that fit, evaluate and predict follow now."""
    return _current


def set_distribution(value: Distribution | None) -> None:
    """Follow `value` from now on (DataParallel, ModelParallel, ...); None returns to a single process."""
    global _current
    if value is not None and not isinstance(value, Distribution):
        raise TypeError(f"set_distribution's value must be a lamina.distribution distribution (DataParallel, "
                        f"ModelParallel, ...) or None, got {type(value).__name__}.")
    _current = value or Distribution()


def distribution() -> Distribution | None:
    """The distribution set with `set_distribution`, or None when training runs in a single process."""
    return None if type(_current) is Distribution else _current


# Keras's keras.distribution API, on the hooks above (imported last: these modules subclass Distribution).
from lamina.distribution.devices import get_device_count, initialize, list_devices  # noqa: E402
from lamina.distribution.mesh import DeviceMesh, LayoutMap, TensorLayout, distribute_tensor  # noqa: E402
from lamina.distribution.parallel import DataParallel, ModelParallel  # noqa: E402
from lamina.distribution.mirrored import MirroredStrategy  # noqa: E402

__all__ = ["DataParallel", "DeviceMesh", "Distribution", "LayoutMap", "MirroredStrategy", "ModelParallel",
           "TensorLayout", "current", "distribute_tensor", "distribution", "get_device_count", "initialize",
           "list_devices", "set_distribution"]
