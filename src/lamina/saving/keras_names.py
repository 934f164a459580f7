"""The module names Keras 3 writes for its own classes, so that Keras resolves the classes of Lamina's files.

Lamina's serializers name Lamina's modules ("lamina.layers"); a file names Keras's instead ("keras.layers"),
which Keras finds and which Lamina reads as well (it looks classes up by family, whatever the package).
"""

from __future__ import annotations

from typing import Any

# Keras's spellings of its model classes: (module, registered_name)
_MODELS = {"Sequential": ("keras", None), "Functional": ("keras.src.models.functional", "Functional"),
           "Model": ("keras", None)}


def to_keras(config: Any) -> Any:
    """A copy of a serialized config in which every Lamina module is named as Keras names its own."""
    if isinstance(config, list):
        return [to_keras(item) for item in config]
    if not isinstance(config, dict):
        return config
    renamed = {key: to_keras(value) for key, value in config.items()}
    module, class_name = config.get("module"), config.get("class_name")
    if isinstance(module, str) and isinstance(class_name, str) and module.split(".")[0] == "lamina":
        renamed["module"], registered = keras_module(module, class_name)
        if "registered_name" in renamed and registered is not None:
            renamed["registered_name"] = registered
    return renamed


def keras_module(module: str, class_name: str) -> tuple[str, str | None]:
    """(Keras's module, Keras's registered name or None) for a Lamina module and class name."""
    if module == "lamina.models" and class_name in _MODELS:
        return _MODELS[class_name]
    if module.startswith("lamina.ops."):
        return "keras.src.ops." + module[len("lamina.ops."):], class_name
    return "keras" + module[len("lamina"):], None


# Config keys Keras 3 writes that Lamina's classes do not take, with the value that means "not used": a key
# holding that value is dropped when a file is read; any other value is kept, so that the class refuses it
# by name.
_KERAS_ONLY = {"optional": False, "ragged": False, "quantization_config": None, "input_axes": None,
               "output_axes": None}


def from_keras(config: Any) -> Any:
    """A copy of a config written by Keras without the keys that only say a Keras-only feature is unused."""
    if isinstance(config, list):
        return [from_keras(item) for item in config]
    if not isinstance(config, dict):
        return config
    policy = _policy_name(config)
    if policy is not None:
        return policy  # a dtype policy by name, which every Lamina layer (and a subclassed model) takes
    return {key: from_keras(value) for key, value in config.items()
            if key != "shared_object_id" and not (key in _KERAS_ONLY and _is_unused(value, _KERAS_ONLY[key]))}


def _is_unused(value: Any, unused: Any) -> bool:
    return value is unused or (type(value) is type(unused) and value == unused)


def _policy_name(config: dict) -> str | None:
    """The name of a plain Keras dtype policy ({"class_name": "DTypePolicy", "config": {"name": ...}})."""
    inner = config.get("config")
    if config.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(inner, dict) \
            and isinstance(inner.get("name"), str):
        return inner["name"]
    return None
