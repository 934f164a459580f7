"""DataParallel and ModelParallel: the batch split over a mesh axis, the weights replicated or laid out by a
LayoutMap. On jax they drive the mesh's shardings inside the compiled step (XLA averages the gradients); on
torch they hand every hook to torch.distributed's process group (launched with torchrun)."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Sequence

from lamina import backend
from lamina.distribution import Distribution, current, set_distribution
from lamina.distribution.mesh import DeviceMesh, LayoutMap, TensorLayout
from lamina.utils import tree

_TORCH_PROCESSES: dict[bool, Any] = {}
# The names the trainer calls on a distribution: on torch, answered by the process group.
_HOOKS = frozenset(name for name in vars(Distribution) if not name.startswith("_"))


def torch_processes(shard_weights: bool) -> Distribution:
    """torch.distributed's process group as the hooks (one per option, made once per process)."""
    if shard_weights not in _TORCH_PROCESSES:
        try:
            from lamina.distribution.processes import TorchProcesses
        except ImportError as error:
            raise ValueError(f"Training on several processes with torch needs lamina.distribution.processes, "
                             f"which failed to import: {error}") from error
        _TORCH_PROCESSES[shard_weights] = TorchProcesses(shard_weights=shard_weights)
    return _TORCH_PROCESSES[shard_weights]


class MeshDistribution(Distribution):
    """The batch split over the mesh axis `batch_dim_name`; weights laid out by `layout_map` (else replicated)."""

    _shard_weights = False

    def __init__(self, device_mesh: DeviceMesh, batch_dim_name: str, layout_map: LayoutMap | None = None,
                 auto_shard_dataset: bool = True) -> None:
        if batch_dim_name not in device_mesh.axis_names:
            raise ValueError(f"batch_dim_name {batch_dim_name!r} is not an axis of the mesh, whose axis_names are "
                             f"{device_mesh.axis_names}.")
        self._device_mesh, self._batch_dim_name = device_mesh, batch_dim_name
        self._layout_map, self._auto_shard_dataset = layout_map, bool(auto_shard_dataset)
        self._backend_name = backend.impl.NAME
        self._delegate = torch_processes(self._shard_weights) if self._backend_name == "torch" else None

    # --- Keras's attributes -------------------------------------------------------------------------------

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    @property
    def batch_dim_name(self) -> str:
        return self._batch_dim_name

    @property
    def auto_shard_dataset(self) -> bool:
        return self._auto_shard_dataset

    @property
    def num_replicas(self) -> int:
        """How many shards each global batch is split into."""
        if self._delegate is not None:
            return self._delegate.process_count
        return self._device_mesh.axis_size(self._batch_dim_name)

    def get_data_layout(self, data_shape: Sequence[int]) -> TensorLayout:
        """The layout of a batch: its first dimension over the batch axis."""
        axes = [self._batch_dim_name] + [None] * (len(data_shape) - 1)
        return TensorLayout(axes, self._device_mesh)

    def get_variable_layout(self, variable: Any) -> TensorLayout:
        """The layout the LayoutMap gives the variable's path, else replicated."""
        layout = self._layout_map[variable.path] if self._layout_map is not None else None
        if layout is None or len(layout.axes) != len(variable.shape):
            return TensorLayout([None] * len(variable.shape), self._device_mesh)
        return layout

    def get_tensor_layout(self, path: str) -> TensorLayout | None:
        return None if self._layout_map is None else self._layout_map[path]

    @contextlib.contextmanager
    def scope(self) -> Iterator[None]:
        """Within the block this distribution is in effect; the one before returns after."""
        previous = current()
        set_distribution(self)
        try:
            yield
        finally:
            set_distribution(previous)

    def _require_backend(self) -> None:
        if backend.impl.NAME != self._backend_name:
            raise ValueError(f"This {type(self).__name__} was made on the {self._backend_name} backend, but the "
                             f"{backend.impl.NAME} backend is active now: make it again.")

    # --- the hooks ---------------------------------------------------------------------------------------

    def __getattribute__(self, name: str) -> Any:
        # On torch every hook (those of Distribution, present and future) is the process group's.
        if name in _HOOKS:
            delegate = object.__getattribute__(self, "_delegate")
            if delegate is not None:
                return getattr(delegate, name)
        return object.__getattribute__(self, name)

    @property
    def process_index(self) -> int:  # type: ignore[override]
        return backend.impl.mesh_process_index()

    @property
    def process_count(self) -> int:  # type: ignore[override]
        return backend.impl.mesh_process_count()

    def local_rows(self, order: Any) -> Any:
        # Every process holds every row; the compiled step computes only its own devices' share of each batch.
        return self._global(order)

    def check_batches(self, count: int, batch_size: int) -> None:
        self.local_batch_size(batch_size)

    def local_batch_size(self, batch_size: int) -> int:
        replicas = self.num_replicas
        if batch_size % replicas:
            raise ValueError(f"The global batch_size ({batch_size}) must be divisible by the number of replicas "
                             f"({replicas}, the mesh axis {self._batch_dim_name!r}): each takes an equal share.")
        return batch_size  # the compiled step sees the global batch

    def prepare(self, variables: Sequence[Any]) -> None:
        self._require_backend()
        layouts = [self.get_variable_layout(variable) for variable in variables]
        if self._layout_map is not None:
            self._check_layout_map(variables)
        for variable, layout in zip(variables, layouts):
            layout.check_shape(variable.shape, f"the weight {variable.path!r}")
        backend.impl.shard_variables(list(variables), [layout.backend_layout for layout in layouts])

    def _check_layout_map(self, variables: Sequence[Any]) -> None:
        used = {key for variable in variables for key in self._layout_map.keys_matching(variable.path)}
        unused = [key for key in self._layout_map if key not in used]
        if unused:
            paths = [variable.path for variable in variables][:12]
            raise ValueError(f"The LayoutMap keys {unused} match no weight of the model. Weight paths look like "
                             f"{paths}.")

    def place_data(self, arrays: Any) -> Any:
        return tree.map_structure(lambda a: None if a is None else self._global(a), arrays)

    def distribute_batch(self, batch: Any) -> Any:
        replicas = self.num_replicas
        sharding = backend.impl.mesh_sharding(self._device_mesh.backend_mesh, (self._batch_dim_name,))

        def shard(x: Any) -> Any:
            shape = backend.impl.shape(x)
            # A last batch smaller than, or not divisible by, the replicas is computed whole on each device.
            if not shape or shape[0] % replicas:
                return x
            return backend.impl.shard_tensor(x, sharding)

        return tree.map_structure(lambda x: None if x is None else shard(x), batch)

    def reduce_gradients(self, gradients: list) -> list:
        return gradients  # XLA sums the sharded batch's contributions itself

    def _global(self, x: Any) -> Any:
        """x, the same on every process, replicated over the whole mesh."""
        replicated = backend.impl.mesh_sharding(self._device_mesh.backend_mesh, ())
        if self.process_count > 1:
            return backend.impl.global_batch(backend.impl.convert_to_numpy(x), replicated, backend.impl.shape(x)[0])
        return backend.impl.shard_tensor(x, replicated)

    def gather_outputs(self, outputs: Any) -> Any:
        if self.process_count == 1:
            return outputs  # every device's rows are this process's already
        replicated = backend.impl.mesh_sharding(self._device_mesh.backend_mesh, ())
        return tree.map_structure(lambda x: backend.impl.shard_tensor(x, replicated), outputs)


class DataParallel(MeshDistribution):
    """Every device holds the whole model and trains on its share of each global batch; the gradients are
    averaged over them. `devices` (or a 1-D `device_mesh`) chooses the devices; None takes them all."""

    def __init__(self, device_mesh: DeviceMesh | None = None, devices: Sequence[Any] | None = None,
                 auto_shard_dataset: bool = True) -> None:
        if device_mesh is not None and devices is not None:
            raise ValueError("Give DataParallel either device_mesh or devices, not both.")
        if device_mesh is None:
            devices = _local_devices() if devices is None else devices
            device_mesh = DeviceMesh((len(devices),), ("batch",), devices)
        elif not isinstance(device_mesh, DeviceMesh):
            raise TypeError(f"device_mesh must be a DeviceMesh, got {type(device_mesh).__name__}.")
        super().__init__(device_mesh, device_mesh.axis_names[0], None, auto_shard_dataset)

    def __repr__(self) -> str:
        return f"<DataParallel device_mesh={self.device_mesh}>"


class ModelParallel(MeshDistribution):
    """Weights laid out over the mesh by `layout_map` (each device holds its slice of a sharded kernel), the
    batch split over the mesh axis `batch_dim_name` (default: the mesh's first axis). On torch the weights
    are fully sharded over the processes (FSDP)."""

    _shard_weights = True

    def __init__(self, *, layout_map: LayoutMap | None = None, batch_dim_name: str | None = None,
                 auto_shard_dataset: bool = True, **kwargs: Any) -> None:
        device_mesh = kwargs.pop("device_mesh", None)
        if kwargs:
            raise TypeError(f"ModelParallel got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        if layout_map is None:
            raise ValueError("ModelParallel needs a layout_map: a LayoutMap saying how the weights are split.")
        if not isinstance(layout_map, LayoutMap):
            raise TypeError(f"layout_map must be a LayoutMap, got {type(layout_map).__name__}.")
        if device_mesh is not None and device_mesh is not layout_map.device_mesh:
            raise ValueError("device_mesh must be the layout_map's own mesh (or be left out).")
        mesh = layout_map.device_mesh
        super().__init__(mesh, batch_dim_name or mesh.axis_names[0], layout_map, auto_shard_dataset)

    @property
    def layout_map(self) -> LayoutMap:
        return self._layout_map

    def __repr__(self) -> str:
        return f"<ModelParallel device_mesh={self.device_mesh}, batch_dim_name={self.batch_dim_name!r}>"


def _local_devices() -> list[str]:
    """Every device of the default kind (jax: of every process)."""
    from lamina.distribution.devices import list_devices

    return list_devices()
