"""Metrics by their Keras names, one module per family."""

from __future__ import annotations

from typing import Any

from lamina.metrics import (accuracy_metrics, confusion_metrics, correlation_metrics, f_score_metrics, hinge_metrics,
                            iou_metrics, probabilistic_metrics, regression_metrics)
from lamina.metrics.accuracy_metrics import accuracy_for
from lamina.metrics.metric import Mean, MeanMetricWrapper, Metric, Sum
from lamina.utils import naming

_MODULES = (accuracy_metrics, confusion_metrics, f_score_metrics, iou_metrics, regression_metrics,
            probabilistic_metrics, hinge_metrics, correlation_metrics)
for _module in _MODULES:
    globals().update({name: getattr(_module, name) for name in _module.__all__})

CLASSES: dict[str, type] = {"Mean": Mean, "Sum": Sum, "MeanMetricWrapper": MeanMetricWrapper}
CLASSES.update({name: getattr(module, name) for module in _MODULES for name in module.__all__
                if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), Metric)})
# Names a user may pass to compile(metrics=[...]): snake_case class names and Keras's short forms.
NAMES: dict[str, type] = {naming.to_snake_case(name): cls for name, cls in CLASSES.items()
                          if name not in ("Mean", "Sum", "MeanMetricWrapper")}
NAMES.update({"mse": CLASSES["MeanSquaredError"], "mae": CLASSES["MeanAbsoluteError"],
              "mape": CLASSES["MeanAbsolutePercentageError"], "acc": CLASSES["Accuracy"]})


# The per-sample functions (`keras.metrics.log_cosh`, `hinge`, ...): by name, a metric of their mean.
FUNCTIONS: dict[str, Any] = {name: getattr(module, name) for module in _MODULES for name in module.__all__
                             if callable(getattr(module, name)) and not isinstance(getattr(module, name), type)}


def get(identifier: Any) -> Metric:
    """A Metric for a name, a config dict, a Metric instance or class, or a per-sample function."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        found = naming.lookup("metric", identifier, {**FUNCTIONS, **NAMES, **CLASSES})
        return found(name=identifier) if isinstance(found, type) else MeanMetricWrapper(found, name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"A metric must be a name, a Metric or a function, got {type(identifier).__name__}.")


def serialize(metric: Metric) -> dict:
    """A metric's Keras-layout config: built-in classes by name, user classes through the saving registry."""
    if CLASSES.get(type(metric).__name__) is type(metric):
        return {"module": "lamina.metrics", "class_name": type(metric).__name__, "config": metric.get_config(),
                "registered_name": None}
    from lamina.saving import registry

    return registry.serialize_object(metric)


def deserialize(config: dict, custom_objects: dict[str, Any] | None = None) -> Metric:
    """A Metric from its serialized form (`serialize`'s, or a Keras file's)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize expects a dict with 'class_name' and 'config', got {config!r:.200}.")
    if config["class_name"] in CLASSES and not (custom_objects and config["class_name"] in custom_objects):
        return CLASSES[config["class_name"]].from_config(config.get("config", {}))
    from lamina.saving import registry

    return registry.deserialize_object(config, custom_objects)


__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "deserialize", "get", "serialize", "accuracy_for",
           *(name for module in _MODULES for name in module.__all__)]
