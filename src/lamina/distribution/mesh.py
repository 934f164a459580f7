"""Devices arranged on named axes, how a tensor lies on them, and which weights lie how."""

from __future__ import annotations

import math
import re
from collections.abc import MutableMapping
from typing import Any, Iterator, Sequence

from lamina import backend
from lamina.distribution.devices import list_devices


class DeviceMesh:
    """Devices arranged in `shape`, each axis named (e.g. shape (2, 4), axis_names ("batch", "model")).
    `devices`: "platform:id" strings (or the backend's devices); None takes every device."""

    def __init__(self, shape: Sequence[int], axis_names: Sequence[str], devices: Sequence[Any] | None = None) -> None:
        shape = _checked_shape(shape)
        if isinstance(axis_names, str) or len(axis_names) != len(shape):
            raise ValueError(f"axis_names must name each of the {len(shape)} axes of shape {shape}, "
                             f"got {axis_names!r}.")
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"axis_names must be distinct, got {tuple(axis_names)}.")
        devices = list_devices() if devices is None else [_device_label(d) for d in _flat(devices)]
        if math.prod(shape) != len(devices):
            raise ValueError(f"The mesh shape {shape} holds {math.prod(shape)} devices, but {len(devices)} "
                             f"devices were given: {devices}.")
        if len(set(devices)) != len(devices):
            raise ValueError(f"devices must not repeat a device, got {devices}.")
        _check_devices_exist(devices)
        self._shape, self._axis_names, self._devices = shape, tuple(axis_names), devices
        self._backend_mesh: Any = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def axis_names(self) -> tuple[str, ...]:
        return self._axis_names

    @property
    def devices(self) -> list[str]:
        """The devices in row-major order of the mesh."""
        return list(self._devices)

    def axis_size(self, name: str) -> int:
        return self._shape[self._axis_names.index(name)]

    @property
    def backend_mesh(self) -> Any:
        """The engine's own mesh (jax.sharding.Mesh), made on first use."""
        if self._backend_mesh is None:
            self._backend_mesh = backend.impl.make_mesh(self._shape, self._axis_names, self._devices)
        return self._backend_mesh

    def __repr__(self) -> str:
        return f"<DeviceMesh shape={self._shape}, axis_names={self._axis_names}>"


def _flat(devices: Any) -> list[Any]:
    if hasattr(devices, "tolist"):
        devices = devices.tolist()
    flat: list[Any] = []
    for device in devices:
        flat.extend(_flat(device) if isinstance(device, (list, tuple)) else [device])
    return flat


def _device_label(device: Any) -> str:
    if isinstance(device, str):
        return device.lower()
    platform, number = getattr(device, "platform", None), getattr(device, "id", None)
    if platform is None or number is None:
        raise TypeError(f"devices must hold 'platform:id' strings, got {device!r}.")
    return f"{platform}:{number}"


def _checked_shape(shape: Any) -> tuple[int, ...]:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        shape = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be a tuple of positive integers, got {shape!r}.") from None
    if not shape or any(n < 1 for n in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive integers, got {shape}.")
    return shape


def _check_devices_exist(devices: list[str]) -> None:
    kinds = {label.split(":")[0] for label in devices}
    available = {label for kind in kinds for label in list_devices(_kind(kind))}
    missing = [label for label in devices if label not in available]
    if missing:
        raise ValueError(f"The mesh names {len(devices)} devices, but {missing} do not exist here: "
                         f"{len(available)} available ({sorted(available)}).")


def _kind(platform: str) -> str:
    return {"cuda": "gpu", "rocm": "gpu"}.get(platform, platform)


class TensorLayout:
    """How a tensor lies on a mesh: dimension i split over the mesh axis `axes[i]`, or whole where None."""

    def __init__(self, axes: Sequence[str | None], device_mesh: DeviceMesh | None = None) -> None:
        if isinstance(axes, str) or not isinstance(axes, Sequence):
            raise TypeError(f"axes must be a tuple of mesh axis names or None, got {axes!r}.")
        self._axes = tuple(axes)
        self._device_mesh: DeviceMesh | None = None
        if device_mesh is not None:
            self.device_mesh = device_mesh

    @property
    def axes(self) -> tuple[str | None, ...]:
        return self._axes

    @property
    def device_mesh(self) -> DeviceMesh | None:
        return self._device_mesh

    @device_mesh.setter
    def device_mesh(self, device_mesh: DeviceMesh) -> None:
        if self._device_mesh is not None and self._device_mesh is not device_mesh:
            raise ValueError("This TensorLayout already belongs to another DeviceMesh.")
        unknown = [axis for axis in self._axes if axis is not None and axis not in device_mesh.axis_names]
        if unknown:
            raise ValueError(f"The layout's axes {self._axes} name {unknown}, which the mesh's axis_names "
                             f"{device_mesh.axis_names} lack.")
        self._device_mesh = device_mesh

    @property
    def backend_layout(self) -> Any:
        """The engine's sharding (jax.sharding.NamedSharding)."""
        if self._device_mesh is None:
            raise ValueError(f"The TensorLayout {self._axes} has no device_mesh yet.")
        return backend.impl.mesh_sharding(self._device_mesh.backend_mesh, self._axes)

    def check_shape(self, shape: Sequence[int], name: str) -> None:
        """A clear error when `shape` cannot lie as this layout says."""
        if len(shape) != len(self._axes):
            raise ValueError(f"The layout {self._axes} for {name} has {len(self._axes)} axes, but {name} has "
                             f"shape {tuple(shape)}.")
        for size, axis in zip(shape, self._axes):
            if axis is not None and size % self._device_mesh.axis_size(axis):
                raise ValueError(f"{name} of shape {tuple(shape)} cannot be split over the mesh axis {axis!r} of "
                                 f"{self._device_mesh.axis_size(axis)} devices: {size} is not divisible by it.")

    def __repr__(self) -> str:
        return f"<TensorLayout axes={self._axes}, device_mesh={self._device_mesh}>"


class LayoutMap(MutableMapping):
    """Layouts of the weights by path: a key is a regular expression searched in each variable's path
    ("dense.*kernel" matches "sequential/dense_1/kernel"); its value a TensorLayout or a tuple of axes."""

    def __init__(self, device_mesh: DeviceMesh) -> None:
        if not isinstance(device_mesh, DeviceMesh):
            raise TypeError(f"device_mesh must be a DeviceMesh, got {type(device_mesh).__name__}.")
        self._device_mesh = device_mesh
        self._layouts: dict[str, TensorLayout] = {}

    @property
    def device_mesh(self) -> DeviceMesh:
        return self._device_mesh

    def __setitem__(self, key: str, layout: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"LayoutMap keys must be strings (regular expressions), got {key!r}.")
        if key in self._layouts:
            raise ValueError(f"The LayoutMap already has a layout for {key!r}: delete it before setting another.")
        if not isinstance(layout, TensorLayout):
            if isinstance(layout, str) or not isinstance(layout, (tuple, list)):
                raise TypeError(f"A LayoutMap value must be a TensorLayout or a tuple of mesh axis names/None, "
                                f"got {layout!r} for {key!r}.")
            layout = TensorLayout(layout)
        layout.device_mesh = self._device_mesh
        self._layouts[key] = layout

    def __getitem__(self, path: str) -> TensorLayout | None:
        """The layout of the key equal to `path`, else of the one key found in it; None when none is."""
        if path in self._layouts:
            return self._layouts[path]
        found = [key for key in self._layouts if re.search(key, path)]
        if len(found) > 1:
            raise ValueError(f"The path {path!r} matches several LayoutMap keys: {found}. Make the keys precise "
                             f"enough that each weight matches one.")
        return self._layouts[found[0]] if found else None

    def __contains__(self, key: object) -> bool:
        return key in self._layouts

    def __delitem__(self, key: str) -> None:
        del self._layouts[key]

    def __len__(self) -> int:
        return len(self._layouts)

    def __iter__(self) -> Iterator[str]:
        return iter(self._layouts)

    def keys_matching(self, path: str) -> list[str]:
        return [key for key in self._layouts if key == path or re.search(key, path)]


def distribute_tensor(tensor: Any, layout: TensorLayout) -> Any:
    """`tensor` laid out as `layout` says: moved to the mesh's devices, or, inside a compiled step, constrained
    to lie so."""
    if not isinstance(layout, TensorLayout):
        raise TypeError(f"layout must be a TensorLayout, got {type(layout).__name__}.")
    layout.check_shape(backend.impl.shape(tensor), "the tensor")
    return backend.impl.shard_tensor(tensor, layout.backend_layout)
