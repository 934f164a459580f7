"""Data-parallel training on torch.distributed: one process per device, launched by torchrun.

Every process holds the whole model and trains on its share of every global batch: the rows of global batch
k whose position in the batch is congruent to its rank modulo the number of processes, so that together the
processes train on exactly the batches one process would. Inside the step the gradients are averaged over
the processes (one all-reduce of the flattened gradients, each process weighted by its rows, so an uneven
last batch averages as one batch would); metric accumulators are summed before results are read; process 0
prints progress and writes files.

Run a program with `torchrun --nproc_per_node=N program.py` (and `--nnodes`, `--node_rank`,
`--rdzv_endpoint` across machines); every process runs the same program, with the same random seed, and
calls `model.save` / `save_weights` alike (process 0 writes, the others wait for it).

What differs from one process: a global batch must split into at least one row per process (fit refuses
data whose last batch holds fewer rows than processes); the progress bar shows process 0's own running
metrics within an epoch and the combined ones at its end; without `synchronized=True` a BatchNormalization's
moving statistics are each process's own (process 0's are saved). A model's own `train_step` gets its
process's rows, and the gradients it hands `self.optimizer.apply` are averaged over the processes there.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.distribution import Distribution
from lamina.utils import tree

SHARDING_UNSUPPORTED = (
    "TorchProcesses(shard_weights=True): torch.distributed.fsdp.fully_shard cannot shard Lamina's weights, so "
    "every process keeps them whole and training runs as data parallelism. fully_shard replaces the parameters "
    "registered on a torch module by sharded parameters and, before each forward, installs new gathered "
    "parameter objects that the module's forward must read, reducing their gradients from hooks that "
    "loss.backward() fires; Lamina's layers read their own Variables and the step differentiates with "
    "torch.autograd.grad with respect to those Variables.")

# What torchrun sets for every process; MASTER_ADDR/MASTER_PORT say where the process group meets.
ENVIRONMENT = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def torchrun_environment(environ: Any = None) -> dict[str, Any] | None:
    """torchrun's variables, checked: None when none is set (a single process); a ValueError naming the
    missing ones when only some are."""
    environ = os.environ if environ is None else environ
    found = {name: environ.get(name, "") for name in ENVIRONMENT}
    missing = [name for name, value in found.items() if not value]
    if len(missing) == len(ENVIRONMENT):
        return None
    if missing:
        given = ", ".join(f"{name}={found[name]}" for name in ENVIRONMENT if found[name])
        raise ValueError(f"torchrun's environment is half set: {', '.join(missing)} missing (given {given}). "
                         f"Launch with `torchrun` (python -m torch.distributed.run), which sets all of "
                         f"{', '.join(ENVIRONMENT)}, or set none of them for a single process.")
    values: dict[str, Any] = dict(found)
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_PORT"):
        try:
            values[name] = int(found[name])
        except ValueError:
            raise ValueError(f"The environment variable {name} must be an integer, got {found[name]!r}.") from None
    if values["WORLD_SIZE"] < 1 or not 0 <= values["RANK"] < values["WORLD_SIZE"]:
        raise ValueError(f"RANK must be in [0, WORLD_SIZE) and WORLD_SIZE positive, got RANK={values['RANK']} "
                         f"and WORLD_SIZE={values['WORLD_SIZE']}.")
    if values["LOCAL_RANK"] < 0:
        raise ValueError(f"LOCAL_RANK must be non-negative, got {values['LOCAL_RANK']}.")
    return values


class TorchProcesses(Distribution):
    """Data parallelism over torchrun's processes, on torch.distributed (gloo on the CPU, NCCL on CUDA).

    Args:
        shard_weights: ask for fully-sharded data parallelism. torch's `fully_shard` cannot shard Lamina's
            weights (see `SHARDING_UNSUPPORTED`): with True the weights stay whole on every process, training
            as with False (DistributedDataParallel's algorithm), and a warning says so.
    """

    def __init__(self, shard_weights: bool = False) -> None:
        if not isinstance(shard_weights, bool):
            raise TypeError(f"shard_weights must be True or False, got {shard_weights!r}.")
        if backend.backend() != "torch":
            raise ValueError(f"TorchProcesses trains on the torch backend; the backend is {backend.backend()!r}. "
                             "On jax, use lamina.distribution.DataParallel.")
        environment = torchrun_environment()
        if shard_weights:
            warnings.warn(SHARDING_UNSUPPORTED, stacklevel=2)
        self.shard_weights = shard_weights
        self.process_index, self.process_count, self.local_index = 0, 1, 0
        self.device = backend.impl.device_name()
        if environment is not None:
            self.process_index, self.process_count = environment["RANK"], environment["WORLD_SIZE"]
            self.local_index = environment["LOCAL_RANK"]
            self.device = backend.impl.processes_initialize(self.process_index, self.process_count,
                                                            self.local_index)
        self._rows = 0  # the rows of the batch the current step trains on
        self._local_states: list = []

    def __repr__(self) -> str:
        return (f"TorchProcesses(process {self.process_index} of {self.process_count}, device {self.device!r}, "
                f"shard_weights={self.shard_weights})")

    @property
    def several(self) -> bool:
        return self.process_count > 1

    # --- which rows this process trains on ---------------------------------------------------------

    def local_rows(self, order: Any) -> Any:
        return order[self.process_index::self.process_count] if self.several else order

    def local_batch_size(self, batch_size: int) -> int:
        if batch_size % self.process_count:
            raise ValueError(f"batch_size is the global batch, shared by {self.process_count} processes: it must "
                             f"be divisible by {self.process_count}, got {batch_size}.")
        return batch_size // self.process_count

    def check_batches(self, count: int, batch_size: int) -> None:
        self.local_batch_size(batch_size)
        rest = count % batch_size
        if self.several and 0 < rest < self.process_count:
            raise ValueError(f"The last batch of {count} samples in batches of {batch_size} holds {rest} "
                             f"sample(s), fewer than the {self.process_count} processes that each need one: "
                             f"choose a batch_size that leaves no such batch, or drop the last {rest} sample(s).")

    def local_batch(self, data: Any) -> Any:
        """A generator's or PyDataset's batch (its x, y and sample_weight) cut to this process's rows."""
        if not self.several:
            return data
        if data.count < self.process_count:
            raise ValueError(f"A batch of {data.count} sample(s) cannot be shared by {self.process_count} "
                             "processes: every batch needs at least one sample per process.")
        rows = slice(self.process_index, None, self.process_count)
        take = lambda s: tree.map_structure(lambda a: None if a is None else a[rows], s)  # noqa: E731
        return type(data)(take(data.x), take(data.y), take(data.sample_weight),
                          len(range(self.process_index, data.count, self.process_count)))

    # --- around and inside the steps ---------------------------------------------------------------

    def prepare(self, variables: Sequence[Any]) -> None:
        backend.impl.processes_broadcast(list(variables), 0)

    def distribute_batch(self, batch: Any) -> Any:
        leaves = [leaf for leaf in tree.flatten(batch) if leaf is not None]
        self._rows = int(backend.impl.shape(leaves[0])[0]) if leaves else 0  # a static shape: no host read
        return batch

    def reduce_gradients(self, gradients: list) -> list:
        if not self.several:
            return gradients
        return backend.impl.processes_average_gradients(gradients, self._rows)

    def reduce_metric_states(self, variables: Sequence[Any]) -> None:
        """Every process's accumulators summed; `restore_metric_states` puts this process's own back, so
        that reading twice never counts twice."""
        if not self.several:
            return
        variables = list(variables)
        self._local_states = [(variable, np.array(backend.impl.convert_to_numpy(variable.value)))
                              for variable in variables]
        for variable, total in zip(variables, backend.impl.processes_sum([v.value for v in variables])):
            variable.assign(total)

    def restore_metric_states(self, variables: Sequence[Any]) -> None:
        for variable, local in self._local_states:
            variable.assign(local)
        self._local_states = []

    def barrier(self) -> None:
        backend.impl.processes_barrier()
