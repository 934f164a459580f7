"""Constraints projected onto weights after each optimizer step."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend
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
    def __call__(self, w: Any) -> Any:
        return backend.impl.maximum(w, 0.0)


class MaxNorm(Constraint):
    def __init__(self, max_value: float = 2.0, axis: int = 0) -> None:
        self.max_value, self.axis = max_value, axis

    def __call__(self, w: Any) -> Any:
        B = backend.impl
        norms = B.sqrt(B.sum(B.square(w), axis=self.axis, keepdims=True))
        return w * (B.clip(norms, 0.0, self.max_value) / (norms + 1e-7))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Any:
        B = backend.impl
        return w / (B.sqrt(B.sum(B.square(w), axis=self.axis, keepdims=True)) + 1e-7)

    def get_config(self) -> dict:
        return {"axis": self.axis}


ALL = {"NonNeg": NonNeg, "MaxNorm": MaxNorm, "UnitNorm": UnitNorm}
NAMES = {"non_neg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm}


def get(identifier: Any) -> Callable[[Any], Any] | None:
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        return naming.lookup("constraint", identifier, {**ALL, **NAMES})()
    if isinstance(identifier, dict):
        return naming.lookup("constraint", identifier["class_name"], ALL).from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"A constraint must be a name, a config dict or a callable, got {type(identifier).__name__}.")


def serialize(constraint: Any) -> Any:
    if isinstance(constraint, Constraint):
        return {"module": "lamina.constraints", "class_name": type(constraint).__name__,
                "config": constraint.get_config(), "registered_name": None}
    return constraint
