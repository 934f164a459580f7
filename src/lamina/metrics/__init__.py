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


def get(identifier: Any) -> Metric:
    """A Metric for a name, a config dict, a Metric instance or class, or a per-sample function."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        return naming.lookup("metric", identifier, {**NAMES, **CLASSES})(name=identifier)
    if isinstance(identifier, dict):
        return naming.lookup("metric", identifier["class_name"], CLASSES).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"A metric must be a name, a Metric or a function, got {type(identifier).__name__}.")


__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "get", "accuracy_for",
           *(name for module in _MODULES for name in module.__all__)]
