"""The memory one load may use, and where in a file a fault lies.

A file is trusted for no more memory than it could hold: while it loads, the weights that layers create
(and the stand-in inputs that building them takes) may together use at most
max(FLOOR_BYTES, FACTOR x the file's size), and every declared size is checked against that before anything
is allocated or inflated. The config's layers are indexed by name, so that an error raised while a layer
is made or built names the place in the file that declared it ("config.json: config.layers[3].config.units").
"""

from __future__ import annotations

import contextlib
import contextvars
import math
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

FLOOR_BYTES = 256 * 1024**2  # a small file may still build a model this large
FACTOR = 16  # the memory a load may use per byte of the file (weights are stored uncompressed)
_STAND_IN = 3  # shape inference fills an unknown size with 2, then 3
INPUT_FLOOR_BYTES = 2 * 1024**3  # a declared input may need this much stand-in data (large images) whatever the file


@dataclass
class LoadBudget:
    """The bytes a load may allocate, those used so far, and the layers of the config by name."""

    limit: int
    member: str  # "config.json", "model_config": where the config came from
    file_bytes: int = 0
    used: int = 0
    layers: dict[str, tuple[str, dict]] = field(default_factory=dict)  # name -> (path, inner config)
    by_id: dict[int, str] = field(default_factory=dict)  # id(layer config dict) -> path

    def describe(self) -> str:
        return (f"this file's loading budget of {self.limit} bytes (the larger of {FLOOR_BYTES} bytes and "
                f"{FACTOR} x the file's {self.file_bytes} bytes)")


_ACTIVE: contextvars.ContextVar[LoadBudget | None] = contextvars.ContextVar("lamina_load_budget", default=None)


def budget_for(file_bytes: int, member: str) -> LoadBudget:
    return LoadBudget(limit=max(FLOOR_BYTES, FACTOR * int(file_bytes)), member=member, file_bytes=int(file_bytes))


@contextlib.contextmanager
def active(budget: LoadBudget) -> Iterator[LoadBudget]:
    """Within the block, weights that layers create count against `budget`."""
    token = _ACTIVE.set(budget)
    try:
        yield budget
    finally:
        _ACTIVE.reset(token)


def current() -> LoadBudget | None:
    return _ACTIVE.get()


# --- where a layer is declared -------------------------------------------------------------------------------


def index_layers(budget: LoadBudget, config: Any, path: str = "") -> None:
    """Record the path of every serialized layer in `config` (a decoded config.json), by name and by id."""
    if isinstance(config, dict):
        inner = config.get("config")
        if isinstance(config.get("class_name"), str) and isinstance(inner, dict):
            budget.by_id[id(config)] = path
            if isinstance(inner.get("name"), str):
                budget.layers.setdefault(inner["name"], (path, inner))
        for key, value in config.items():
            if isinstance(value, (dict, list)):
                index_layers(budget, value, f"{path}.{key}" if path else str(key))
    elif isinstance(config, list):
        for index, value in enumerate(config):
            if isinstance(value, (dict, list)):
                index_layers(budget, value, f"{path}[{index}]")


def layer_path(layer_name: Any) -> str | None:
    """The config path of the layer of this name in the file being loaded, or None."""
    budget = current()
    if budget is None or not isinstance(layer_name, str) or layer_name not in budget.layers:
        return None
    return budget.layers[layer_name][0]


def config_path(config: Any) -> str | None:
    """The path of a serialized layer (a dict of the config being loaded), found by identity or by name."""
    budget = current()
    if budget is None:
        return None
    if id(config) in budget.by_id:
        return budget.by_id[id(config)]
    inner = config.get("config") if isinstance(config, dict) else None
    return layer_path(inner.get("name")) if isinstance(inner, dict) else None


def inner_path(path: str) -> str:
    """The path of the "config" of the layer entry at `path` ("" is the model's own entry)."""
    return f"{path}.config" if path else "config"


def key_holding(inner: dict, values: Any) -> str | None:
    """The key of a layer's config whose value is (or lists) one of `values`, largest first."""
    for value in sorted({int(v) for v in values}, reverse=True):
        for key, held in inner.items():
            items = held if isinstance(held, list) else [held]
            if any(isinstance(item, int) and not isinstance(item, bool) and item == value for item in items):
                return key
    return None


# --- checks ------------------------------------------------------------------------------------------------


def _elements(shape: Any, what: str) -> int:
    count = 1
    for size in shape:
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 0:
            raise ValueError(f"{what} has shape {tuple(shape)!r:.200}; sizes must be non-negative integers.")
        count *= int(size)
    return count


def check_weight(layer: Any, shape: tuple, dtype: str) -> None:
    """Refuse, before it is allocated, a weight that would take the load past its budget (no load: no limit)."""
    budget = current()
    if budget is None:
        return
    name = getattr(layer, "name", None)
    where = _layer_place(budget, name, shape)
    count = _elements(shape, f"{where}: a weight of {type(layer).__name__} layer {name!r}")
    nbytes = count * np.dtype(dtype).itemsize
    budget.used += nbytes
    # initializers draw in float64 before the cast: that transient must fit as well
    if budget.used > budget.limit or count * 8 > budget.limit:
        raise ValueError(f"{where} declares a weight of shape {tuple(shape)} ({nbytes} bytes of {dtype}) for "
                         f"{type(layer).__name__} layer {name!r}, which takes the model past {budget.describe()}.")


def _layer_place(budget: LoadBudget, name: Any, shape: tuple) -> str:
    if not isinstance(name, str) or name not in budget.layers:
        return budget.member
    path, inner = budget.layers[name]
    sizes = [size for size in shape if isinstance(size, (int, np.integer))]
    key = key_holding(inner, sizes)
    return f"{budget.member}: {inner_path(path)}" + (f".{key}" if key else "")


def check_declared_shapes(budget: LoadBudget, config: Any, path: str = "") -> None:
    """Refuse input shapes (batch_shape, build_config's input_shape, a symbolic tensor's shape, Keras 2's
    batch_input_shape) whose stand-in data for building would not fit in the budget."""
    if isinstance(config, dict):
        for key, value in config.items():
            here = f"{path}.{key}" if path else str(key)
            if key in ("batch_shape", "batch_input_shape", "input_shape", "shape") and _is_shape(value):
                _check_shape(budget, value, here)
            elif isinstance(value, (dict, list)):
                check_declared_shapes(budget, value, here)
    elif isinstance(config, list):
        for index, value in enumerate(config):
            if isinstance(value, (dict, list)):
                check_declared_shapes(budget, value, f"{path}[{index}]")


def _is_shape(value: Any) -> bool:
    return isinstance(value, list) and all(item is None or isinstance(item, (int, list, dict)) for item in value) \
        and not isinstance(value, bool)


def _check_shape(budget: LoadBudget, shape: list, path: str) -> None:
    if any(isinstance(item, (list, dict)) for item in shape):  # several inputs
        for index, item in enumerate(shape):
            if isinstance(item, list) and _is_shape(item):
                _check_shape(budget, item, f"{path}[{index}]")
        return
    sizes = [_STAND_IN if size is None else size for size in shape]
    if any(isinstance(size, bool) or size < 0 for size in sizes):
        raise ValueError(f"{budget.member}: {path} is {shape!r:.200}; sizes must be non-negative integers or null.")
    nbytes = math.prod(sizes) * 4  # float32, the inputs' usual dtype
    limit = max(INPUT_FLOOR_BYTES, budget.limit)
    if nbytes > limit:
        raise ValueError(f"{budget.member}: {path} declares the shape {shape!r:.200}, whose stand-in data for "
                         f"building the model ({nbytes} bytes) is over the limit of {limit} bytes for an input (the "
                         f"larger of {INPUT_FLOOR_BYTES} bytes and this file's loading budget).")
