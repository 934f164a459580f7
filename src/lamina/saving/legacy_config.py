"""Model and training configs of the legacy HDF5 file, in both directions.

Reading accepts what Keras 2 (and Keras 3's legacy writer) put in `model_config` and `training_config`:
a Sequential whose config is a bare list of layers, `batch_input_shape` and `input_dim` on a layer, dtype
policies as {"class_name": "Policy"}, one-element `axis` lists, arguments Keras 3 dropped (kept out when
they hold their harmless defaults), functional calls in the nested-list form
`[[layer_name, node_index, tensor_index, kwargs], ...]`, and Keras 2's optimizer, loss and metric spellings.
Writing gives Keras's legacy layout: objects as {"class_name", "config"} without Lamina's module names.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any

from lamina.saving import registry

# Arguments that Keras 2 layers wrote and that Lamina's layers do not take, with the values that change
# nothing (a key outside this table, or holding another value, is left for the layer to refuse).
_HARMLESS = {
    "ragged": (False, None), "optional": (False,), "sparse": (False, None), "time_major": (False,),
    "implementation": (0, 1, 2), "fused": (None, True, False), "virtual_batch_size": (None,),
    "adjustment": (None,), "renorm": (False,), "renorm_clipping": (None,), "renorm_momentum": None,
    "synchronized": (False,), "quantization_config": (None,), "input_length": None,
    "input_axes": (None,), "output_axes": (None,), "lora_rank": (None,), "lora_alpha": (None,),
}
_TENSOR = "__keras_tensor__"  # a symbolic tensor in a saved call (functional_config.TENSOR)
_OPTIMIZER_DROPPED = ("decay", "is_legacy_optimizer", "jit_compile")
_LOSS_REDUCTIONS = {"auto": "sum_over_batch_size", "sum_over_batch_size": "sum_over_batch_size",
                    "sum": "sum", "none": "none", "mean": "mean"}


# --- reading ---------------------------------------------------------------------------------------------


def model_from_legacy(config: Any, custom_objects: dict | None) -> Any:
    """The model a legacy `model_config` describes (not yet holding the saved weights)."""
    config = normalize_model_config(config)
    model = registry.deserialize_layer(config, custom_objects)
    from lamina.models.model import Model

    if not isinstance(model, Model):
        raise ValueError(f"model_config describes a {type(model).__name__}, which is not a model.")
    build_shape = config["config"].get("build_input_shape")
    if not model.built and isinstance(build_shape, list) and build_shape:
        model.build(tuple(build_shape) if all(_is_dim(d) for d in build_shape) else build_shape)
    build_config = config.get("build_config")
    if not model.built and isinstance(build_config, dict) and build_config.get("input_shape") is not None:
        from lamina.saving import saving_api

        model.build(saving_api._shapes(build_config["input_shape"]))
    return model


def normalize_model_config(config: Any) -> dict:
    """A legacy model config in the layout Lamina's from_config reads."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"model_config must be a JSON object with a 'class_name' string, got {config!r:.100}.")
    inner = config.get("config")
    if config["class_name"] == "Sequential" and isinstance(inner, list):  # Keras 1 and early Keras 2
        inner = {"name": "sequential", "layers": inner}
    if not isinstance(inner, dict):
        raise ValueError(f"model_config['config'] must be a JSON object, got {inner!r:.100}.")
    return normalize_layer({**config, "config": inner}, "model_config")


def normalize_layer(entry: Any, where: str) -> dict:
    """One layer entry with Keras 2's spellings turned into Lamina's; `where` names it in errors."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"{where} must be a dict with a 'class_name' string, got {entry!r:.100}.")
    inner = entry.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"{where}.config must be a JSON object, got {inner!r:.100}.")
    inner = dict(inner)
    class_name = entry["class_name"]
    if isinstance(inner.get("layers"), list):  # a model inside
        inner["layers"] = [normalize_layer(item, f"{where}.config.layers[{index}]")
                           for index, item in enumerate(inner["layers"])]
    if "batch_input_shape" in inner and class_name == "InputLayer":
        inner.setdefault("batch_shape", inner.pop("batch_input_shape"))
    axis = inner.get("axis")
    if isinstance(axis, list) and len(axis) == 1 and class_name != "Normalization":
        inner["axis"] = axis[0]
    inner = {key: _normalize_value(value) for key, value in inner.items()}
    _drop_harmless(inner, _class_of(entry), f"{where} ({class_name})")
    normalized = {**entry, "config": inner}
    if ">" in class_name and not entry.get("registered_name"):  # Keras writes a registered class's full name
        normalized["registered_name"] = class_name
    nodes = entry.get("inbound_nodes")
    if isinstance(nodes, list) and any(isinstance(node, list) for node in nodes):
        normalized["inbound_nodes"] = [_call_from_nested_list(node, f"{where}.inbound_nodes[{index}]")
                                       for index, node in enumerate(nodes)]
    return normalized


def _normalize_value(value: Any) -> Any:
    """Nested objects of a layer config: dtype policies, initializers, regularizers, constraints."""
    if isinstance(value, dict) and isinstance(value.get("class_name"), str):
        if value["class_name"] in ("Policy", "DTypePolicy") and isinstance(value.get("config"), dict):
            name = value["config"].get("name")
            return name if isinstance(name, str) else value
        inner = value.get("config")
        if isinstance(inner, dict):
            inner = {key: _normalize_value(item) for key, item in inner.items()}
            if value["class_name"] == "VarianceScaling" and inner.get("distribution") == "normal":
                inner["distribution"] = "truncated_normal"  # Keras 2's name for it
            _drop_harmless(inner, _class_of(value), value["class_name"])
            value = {**value, "config": inner}
        return {key: item for key, item in value.items() if key != "__passive_serialization__"}
    return value


def _class_of(entry: dict) -> Any:
    try:
        return registry._find_class(entry, None)
    except ValueError:
        return None  # deserializing reports it, with the custom objects in hand


def _drop_harmless(config: dict, cls: Any, where: str) -> None:
    accepted = _accepted_arguments(cls)
    if accepted is None:
        return
    for key in [key for key in config if key not in accepted and key in _HARMLESS]:
        harmless = _HARMLESS[key]
        if harmless is None or config[key] in harmless:
            del config[key]
        else:
            warnings.warn(f"{where}: Keras 2's argument {key}={config[key]!r} has no counterpart in Lamina and is "
                          "ignored.", stacklevel=4)
            del config[key]


def _accepted_arguments(cls: Any) -> frozenset[str] | None:
    """The keyword arguments a class's constructor chain names; None when it is not a class."""
    if not inspect.isclass(cls):
        return None
    return _constructor_arguments(cls)


@functools.lru_cache(maxsize=512)
def _constructor_arguments(cls: type) -> frozenset[str] | None:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            names.update(inspect.signature(init).parameters)
        except (TypeError, ValueError):
            return None
    return frozenset(names)


def _call_from_nested_list(node: Any, where: str) -> dict:
    """[[name, node, tensor(, kwargs)], ...] (Keras 2) as {"args", "kwargs"} (Keras 3)."""
    if not isinstance(node, list):
        if isinstance(node, dict):
            return node
        raise ValueError(f"{where} must be a list of [layer_name, node_index, tensor_index, kwargs], "
                         f"got {node!r:.100}.")
    tensors, kwargs = [], {}
    for index, item in enumerate(node):
        if not isinstance(item, list) or len(item) not in (3, 4):
            raise ValueError(f"{where}[{index}] must be [layer_name, node_index, tensor_index(, kwargs)], "
                             f"got {item!r:.100}.")
        if len(item) == 4:
            if not isinstance(item[3], dict):
                raise ValueError(f"{where}[{index}][3] must be a dict of call arguments, got {item[3]!r:.100}.")
            kwargs = item[3]
        tensors.append({"class_name": _TENSOR, "config": {"keras_history": list(item[:3])}})
    return {"args": [tensors[0] if len(tensors) == 1 else tensors], "kwargs": kwargs}


def compile_arguments(config: Any, outputs: int, custom_objects: dict | None) -> dict:
    """model.compile's arguments from a legacy `training_config`."""
    if not isinstance(config, dict):
        raise ValueError(f"training_config must be a JSON object, got {config!r:.100}.")
    optimizer = config.get("optimizer_config", "rmsprop")
    if isinstance(optimizer, dict):
        optimizer = registry.deserialize_object(_optimizer_config(optimizer), custom_objects)
    metrics = [_metric(item, custom_objects) for item in _unnest(config.get("metrics"), outputs)] \
        if isinstance(config.get("metrics"), list) else _metric(config.get("metrics"), custom_objects)
    weighted = config.get("weighted_metrics")
    weighted = [_metric(item, custom_objects) for item in _unnest(weighted, outputs)] \
        if isinstance(weighted, list) else _metric(weighted, custom_objects)
    return {"optimizer": optimizer, "loss": _loss(config.get("loss"), custom_objects),
            "loss_weights": config.get("loss_weights"), "metrics": metrics, "weighted_metrics": weighted}


def _optimizer_config(config: dict) -> dict:
    class_name = config.get("class_name")
    if isinstance(class_name, str) and class_name.startswith("Custom>"):  # Keras 2.11's new optimizers
        class_name = class_name[len("Custom>"):]
    inner = dict(config.get("config") or {})
    if "lr" in inner:
        inner.setdefault("learning_rate", inner.pop("lr"))
    for key in _OPTIMIZER_DROPPED:
        value = inner.pop(key, None)
        if key == "decay" and value:
            warnings.warn(f"The saved optimizer has decay={value}, a Keras 2 argument Lamina does not have; it "
                          "is ignored (use a learning-rate schedule).", stacklevel=5)
    if isinstance(inner.get("name"), str) and inner["name"] == class_name:
        inner["name"] = class_name.lower()
    return {"class_name": class_name, "config": inner, "module": "keras.optimizers"}


def _unnest(value: list, outputs: int) -> list:
    """Keras 2 saved a single output's metrics as [[...]]."""
    if outputs == 1 and len(value) == 1 and isinstance(value[0], list):
        return value[0]
    return value


def _metric(value: Any, custom_objects: dict | None) -> Any:
    if isinstance(value, list):
        return [_metric(item, custom_objects) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _metric(item, custom_objects) for key, item in value.items()}
    if isinstance(value, dict):
        inner = value.get("config") if isinstance(value.get("config"), dict) else {}
        if value["class_name"] == "MeanMetricWrapper" and isinstance(inner.get("name"), str):
            return inner["name"]  # Keras 2's wrapped metric functions ("accuracy"), by the name compile knows
        inner = {key: item for key, item in inner.items() if key != "fn"}
        return registry.deserialize_object({**value, "config": inner, "module": "keras.metrics"}, custom_objects)
    return value


def _loss(value: Any, custom_objects: dict | None) -> Any:
    if isinstance(value, list):
        return [_loss(item, custom_objects) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _loss(item, custom_objects) for key, item in value.items()}
    if isinstance(value, dict):
        inner = dict(value.get("config") or {}) if isinstance(value.get("config"), dict) else {}
        if isinstance(inner.get("reduction"), str):
            inner["reduction"] = _LOSS_REDUCTIONS.get(inner["reduction"], inner["reduction"])
        inner.pop("fn", None)
        return registry.deserialize_object({**value, "config": inner, "module": "keras.losses"}, custom_objects)
    return value


def _is_dim(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


# --- writing ---------------------------------------------------------------------------------------------


def legacy_model_config(model: Any, build_config: dict | None) -> dict:
    """{"class_name", "config"} of a model, in the layout Keras's legacy writer gives.

    A subclassed model also gets "build_config" (which Keras's reader ignores), so that it can be built again
    before its weights are loaded.
    """
    if type(model).__name__ in ("Sequential", "Functional"):
        return {"class_name": type(model).__name__, "config": _legacy_value(model.get_config())}
    config = {"class_name": registry.get_registered_name(type(model)), "config": _legacy_value(model.get_config())}
    return {**config, "build_config": build_config} if build_config else config


def _legacy_value(value: Any) -> Any:
    """Lamina's module names become Keras's; layer entries lose "module" and "registered_name" when built in."""
    if isinstance(value, list):
        return [_legacy_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    converted = {key: _legacy_value(item) for key, item in value.items()}
    module = converted.get("module")
    if isinstance(module, str) and module.startswith("lamina."):
        family = module[len("lamina."):]
        converted["module"] = ("keras.src." + family) if family.startswith("ops") else ("keras." + family)
        if family == "layers" or family == "models":
            converted.pop("module")
            if converted.get("registered_name") is None:
                converted.pop("registered_name", None)
    return converted


def legacy_training_config(model: Any, compile_config: dict | None) -> dict | None:
    """Keras's `training_config` from save's compile config, the optimizer under "optimizer_config"."""
    if compile_config is None:
        return None
    optimizer = compile_config.get("optimizer")
    if isinstance(optimizer, dict):
        optimizer_config = {"class_name": optimizer.get("registered_name") or optimizer["class_name"],
                            "config": _legacy_value(optimizer.get("config", {}))}
    else:
        optimizer_config = {"class_name": type(model.optimizer).__name__,
                            "config": registry.serialize_object(model.optimizer)["config"]}
    training = {key: _legacy_value(value) for key, value in compile_config.items() if key != "optimizer"}
    training["loss"] = _full_loss_names(training.get("loss"))
    training["optimizer_config"] = optimizer_config
    return training


def _full_loss_names(value: Any) -> Any:
    """"mse" as "mean_squared_error": Keras 3's legacy reader finds losses by their full names only."""
    from lamina.losses import SHORT_NAMES

    if isinstance(value, list):
        return [_full_loss_names(item) for item in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {key: _full_loss_names(item) for key, item in value.items()}
    if isinstance(value, str) and value in SHORT_NAMES:
        return SHORT_NAMES[value].__name__
    return value


# --- optimizer state of Keras 2 files --------------------------------------------------------------------

# Keras 2's slot names and the names Lamina's optimizers give the same slots
_SLOT_KINDS = {"m": ("momentum",), "v": ("velocity", "norm"), "vhat": ("velocity_hat",), "momentum": ("momentum",),
               "rms": ("velocity",), "mg": ("average_gradient",), "accumulator": ("accumulator",),
               "accum_grad": ("accumulated_grad",), "accum_var": ("accumulated_delta_var",)}
_ITERATION_NAMES = ("iter", "iteration", "iterations")


def keras2_optimizer_state(optimizer: Any, trainable: list, names: list[str], values: list) -> list[tuple]:
    """(variable, array) pairs from a Keras 2 optimizer's weights, matched by slot kind and variable order.

    Keras 2 named them "Adam/iter:0", "Adam/dense/kernel/m:0" (all "m" slots, then all "v" slots), or, from
    Keras 2.11, "Adam/m/dense/kernel:0"; within a kind the slots follow the trainable variables' order.
    Raises ValueError when the saved state does not fit the optimizer.
    """
    saved: dict[str, list] = {}
    iteration = None
    for name, value in zip(names, values):
        parts = name.split(":")[0].split("/")
        if parts[-1] in _ITERATION_NAMES and value.shape == ():
            iteration = value
        elif parts[-1] in _SLOT_KINDS or (len(parts) > 2 and parts[1] in _SLOT_KINDS):
            kind = parts[-1] if parts[-1] in _SLOT_KINDS else parts[1]
            saved.setdefault(kind, []).append(value)
        elif value.shape != ():
            raise ValueError(f"optimizer weight {name!r} is of a kind Lamina does not know")
    slots = _lamina_slots(optimizer, trainable)
    pairs = []
    for kind, values_of_kind in saved.items():
        targets = next((slots[target] for target in _SLOT_KINDS[kind] if target in slots), None)
        if targets is None or len(targets) != len(values_of_kind):
            raise ValueError(f"the file's {len(values_of_kind)} {kind!r} slots do not match the optimizer's")
        for variable, value in zip(targets, values_of_kind):
            if tuple(variable.shape) != tuple(value.shape):
                raise ValueError(f"slot {variable.path!r} has shape {tuple(variable.shape)}, the file's "
                                 f"{tuple(value.shape)}")
            pairs.append((variable, value))
    if len(pairs) != sum(len(targets) for targets in slots.values()):
        raise ValueError("the file lacks some of the optimizer's slots")
    if iteration is not None:
        pairs.append((optimizer.iterations, iteration))
    return pairs


def _lamina_slots(optimizer: Any, trainable: list) -> dict[str, list]:
    """The optimizer's slot variables by kind ("momentum"), each list in the order of `trainable`."""
    prefixes = sorted(((str(v.path).replace("/", "_") + "_", index) for index, v in enumerate(trainable)),
                      key=lambda item: -len(item[0]))
    found: dict[str, dict[int, Any]] = {}
    for variable in optimizer.variables:
        name = str(variable.path).split("/", 1)[-1]
        for prefix, index in prefixes:
            if name.startswith(prefix):
                found.setdefault(name[len(prefix):], {})[index] = variable
                break
    return {kind: [by_index[i] for i in sorted(by_index)] for kind, by_index in found.items()}
