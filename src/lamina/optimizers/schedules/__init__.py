"""Learning-rate schedules by their Keras names: callables from the optimizer's step to a learning rate."""

from __future__ import annotations

from typing import Any

from lamina.optimizers.schedules import cosine, decay
from lamina.optimizers.schedules.base import LearningRateSchedule
from lamina.optimizers.schedules.cosine import CosineDecay, CosineDecayRestarts
from lamina.optimizers.schedules.decay import ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay

CLASSES: dict[str, type] = {name: getattr(module, name) for module in (decay, cosine) for name in module.__all__}
_MODULE = "lamina.optimizers.schedules"


def serialize(learning_rate_schedule: LearningRateSchedule) -> dict:
    """The schedule as a JSON-compatible dict in Keras's layout: module, class_name, config, registered_name."""
    if not isinstance(learning_rate_schedule, LearningRateSchedule):
        raise TypeError("serialize expects a LearningRateSchedule, got "
                        f"{type(learning_rate_schedule).__name__}: {learning_rate_schedule!r:.200}")
    cls = type(learning_rate_schedule)
    config = learning_rate_schedule.get_config()
    if CLASSES.get(cls.__name__) is cls:
        return {"module": _MODULE, "class_name": cls.__name__, "config": config, "registered_name": None}
    from lamina.saving import registry  # here: saving imports the optimizers

    module = None if cls.__module__ == "__main__" else cls.__module__
    return {"module": module, "class_name": cls.__name__, "config": config,
            "registered_name": registry.get_registered_name(cls)}


def deserialize(config: dict, custom_objects: dict[str, Any] | None = None) -> LearningRateSchedule:
    """The schedule that `serialize` (Lamina's or Keras's) described; user classes come from `custom_objects`,
    an active `custom_object_scope` or the registry of serializable classes."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError("deserialize expects a dict with a 'class_name' string and a 'config' dict, got "
                         f"{config!r:.200}")
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"The 'config' of a serialized schedule must be a dict, got {inner!r:.200}")
    cls = _find(config["class_name"], config.get("registered_name"), custom_objects)
    return cls.from_config(inner)


def _find(class_name: str, registered_name: Any, custom_objects: dict[str, Any] | None) -> type:
    from lamina.saving import registry  # here: saving imports the optimizers

    for name in (registered_name, class_name):
        found = registry.get_registered_object(name, custom_objects) if isinstance(name, str) else None
        if found is not None:
            return found
    if class_name in CLASSES:
        return CLASSES[class_name]
    raise ValueError(f"Unknown learning rate schedule {class_name!r}. The built-in ones are "
                     f"{', '.join(sorted(CLASSES))}; pass a custom one in custom_objects={{{class_name!r}: "
                     f"{class_name}}} or register it with @lamina.saving.register_lamina_serializable().")


__all__ = ["LearningRateSchedule", *CLASSES, "serialize", "deserialize"]
