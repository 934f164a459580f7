"""Optimizers by their Keras names, with Keras's defaults and update formulas, one module per optimizer."""

from __future__ import annotations

from typing import Any

from lamina.optimizers import (adadelta, adafactor, adagrad, adam, adamax, adamw, ftrl, lamb, lion,
                               loss_scale_optimizer, muon, multi_optimizer, nadam, rmsprop, schedule_free_adamw, sgd)
from lamina.optimizers.optimizer import Optimizer
from lamina.optimizers import schedules  # noqa: F401  (lamina.optimizers.schedules, as Keras)
from lamina.utils import naming

_MODULES = (sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam, adafactor, ftrl, lion, lamb, muon,
            schedule_free_adamw, multi_optimizer, loss_scale_optimizer)
for _module in _MODULES:
    globals().update({name: getattr(_module, name) for name in _module.__all__})

CLASSES: dict[str, type] = {name: getattr(module, name) for module in _MODULES for name in module.__all__
                            if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), Optimizer)}
# Keras looks optimizers up by their class names in lower case: "sgd", "adam", "adamw", "rmsprop", ...
NAMES: dict[str, type] = {name.lower(): cls for name, cls in CLASSES.items() if name != "LossScaleOptimizer"}


def get(identifier: Any) -> Optimizer:
    """An Optimizer for a name, a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return naming.lookup("optimizer", identifier, {**NAMES, **CLASSES})()
    if isinstance(identifier, dict):
        return naming.lookup("optimizer", identifier["class_name"], CLASSES).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(f"optimizer must be a name or an Optimizer, got {type(identifier).__name__}: {identifier!r}.")


def deserialize(config: dict, custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """An Optimizer from its serialized form (`serialize`'s, or a Keras file's), user classes included."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize expects a dict with 'class_name' and 'config', got {config!r:.200}.")
    if config["class_name"] in CLASSES and not (custom_objects and config["class_name"] in custom_objects):
        return CLASSES[config["class_name"]].from_config(config.get("config", {}))
    from lamina.saving import registry

    return registry.deserialize_object(config, custom_objects)


def serialize(optimizer: Optimizer) -> dict:
    return {"module": "lamina.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


__all__ = ["Optimizer", "deserialize", "get", "serialize", *(name for module in _MODULES for name in module.__all__)]
