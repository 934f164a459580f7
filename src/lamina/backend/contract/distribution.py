"""Training on several devices and processes: the engines the backends ship (torch.distributed, JAX meshes).

Every entry is provided by torch and jax; where one has no meaning on a backend, that backend provides it
raising a ValueError that names the backend which supports it.
"""

from __future__ import annotations

from lamina.backend.contract.entry import Entry

# torch.distributed's process group (torchrun).
PROCESSES: tuple[Entry, ...] = (
    Entry("processes_initialize", "processes_initialize(rank, world_size, local_rank)",
          "join torchrun's process group (gloo on the CPU, NCCL on CUDA) and take the local device; returns "
          "its name", inference=False),
    Entry("processes_broadcast", "processes_broadcast(values, source=0)",
          "process source's values copied in place into every process's tensors, moved to the local device",
          inference=False),
    Entry("processes_sum", "processes_sum(values)", "each tensor summed over every process, as new tensors",
          inference=False),
    Entry("processes_average_gradients", "processes_average_gradients(gradients, rows)",
          "the gradients averaged over the processes, each weighted by the rows of its batch, inside a step",
          inference=False),
    Entry("processes_moments", "processes_moments(x, axes, keepdims=False)",
          "(mean, population variance) of x over axes and over every process's x, differentiable",
          inference=False),
    Entry("processes_barrier", "processes_barrier()", "wait until every process reaches this point",
          inference=False),
)

# Devices, meshes and shardings (jax.sharding; jax.distributed across processes).
MESHES: tuple[Entry, ...] = (
    Entry("list_devices", "list_devices(device_type=None)",
          'the devices of this backend as strings "platform:id" (device_type: "cpu", "gpu", "cuda", "tpu"; '
          "None: the default kind), across every process", inference=False),
    Entry("mesh_initialize", "mesh_initialize(coordinator_address, num_processes, process_id)",
          "join a multi-process run (jax.distributed.initialize); None arguments are read from the "
          "environment", inference=False),
    Entry("mesh_process_index", "mesh_process_index()", "the index of this process in a multi-process mesh run",
          inference=False),
    Entry("mesh_process_count", "mesh_process_count()", "the number of processes of a multi-process mesh run",
          inference=False),
    Entry("make_mesh", "make_mesh(shape, axis_names, devices)",
          'the engine\'s mesh of the devices (strings "platform:id") arranged in shape, axes named',
          inference=False),
    Entry("mesh_sharding", "mesh_sharding(mesh, axes)",
          "how a tensor lies on the mesh: dimension i split over mesh axis axes[i], or replicated where None",
          inference=False),
    Entry("shard_tensor", "shard_tensor(x, sharding)",
          "x laid out as the sharding says: moved to the devices outside a compiled step, constrained inside",
          inference=False),
    Entry("shard_variables", "shard_variables(variables, shardings)",
          "the variables' values moved in place to the devices as their shardings say", inference=False),
    Entry("global_batch", "global_batch(local, sharding, global_rows)",
          "one tensor of global_rows rows sharded over the mesh, built from this process's rows (local, a "
          "NumPy array or a tensor) of every process", inference=False),
    Entry("tensor_shards", "tensor_shards(x)",
          'the pieces of x held by each device, as a list of ("platform:id", index of the piece, shape)',
          inference=False),
)

ENTRIES = (*PROCESSES, *MESHES)
