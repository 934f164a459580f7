"""Constraints projected onto weights after each optimizer step."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend, config
from lamina.utils import naming


class Constraint:
    """Call with a weight to get its projected value."""

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Constraint":
        return cls(**config)


class NonNeg(Constraint):
    """Sets negative weights to 0."""

    def __call__(self, w: Any) -> Any:
        return backend.impl.maximum(w, 0.0)


class MaxNorm(Constraint):
    """Scales down the weights whose norm along `axis` exceeds `max_value`."""

    def __init__(self, max_value: float = 2.0, axis: int = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Any) -> Any:
        B = backend.impl
        norms = B.sqrt(B.sum(B.square(w), axis=self.axis, keepdims=True))
        return w * (B.clip(norms, 0.0, self.max_value) / (norms + config.epsilon()))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each norm along `axis` towards [min_value, max_value], by the fraction `rate` per step."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: int = 0) -> None:
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w: Any) -> Any:
        B = backend.impl
        norms = B.sqrt(B.sum(B.square(w), axis=self.axis, keepdims=True))
        desired = self.rate * B.clip(norms, self.min_value, self.max_value) + (1.0 - self.rate) * norms
        return w * (desired / (norms + config.epsilon()))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class UnitNorm(Constraint):
    """Scales the weights to norm 1 along `axis`."""

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        B = backend.impl
        return w / (B.sqrt(B.sum(B.square(w), axis=self.axis, keepdims=True)) + config.epsilon())

    def get_config(self) -> dict:
        return {"axis": self.axis}


ALL = {"NonNeg": NonNeg, "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "UnitNorm": UnitNorm}
NAMES = {"non_neg": NonNeg, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "unit_norm": UnitNorm}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm


def get(identifier: Any) -> Callable[[Any], Any] | None:
    """A constraint from a name, a config dict, an instance or a callable."""
    return naming.resolve("constraint", identifier, Constraint, ALL, NAMES)


def serialize(constraint: Any) -> Any:
    return naming.describe("lamina.constraints", constraint, Constraint, ALL)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """A constraint from serialize's output (a name or a Keras-layout dict)."""
    if isinstance(config, str) or (isinstance(config, dict) and config.get("class_name") in ALL
                                   and not custom_objects):
        return get(config)
    from lamina.saving import registry

    return registry.deserialize_object(config, custom_objects)
