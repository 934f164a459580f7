"""Weight penalties added to the training loss: L1, L2 and both."""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable

from lamina import backend
from lamina.utils import naming


class Regularizer:
    """Call with a weight to get its penalty (a scalar tensor)."""

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)


def _factor(value: Any, name: str) -> float:
    """A penalty factor: a finite float >= 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= value < math.inf:
        raise ValueError(f"{name} must be a non-negative float, got {value!r}.")
    return float(value)


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x ** 2)."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1, self.l2 = _factor(l1, "l1"), _factor(l2, "l2")

    def __call__(self, x: Any) -> Any:
        B = backend.impl
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * B.sum(B.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * B.sum(B.square(x))
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x ** 2)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthogonality.

    The penalty is factor times the mean |dot product| between distinct L2-normalized rows (mode="rows")
    or columns (mode="columns").
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer mode must be 'rows' or 'columns', got {mode!r}.")
        self.factor, self.mode = _factor(factor, "factor"), mode

    def __call__(self, x: Any) -> Any:
        B = backend.impl
        shape = tuple(B.shape(x))
        if len(shape) != 2:
            raise ValueError(f"OrthogonalRegularizer needs a 2-D weight, got shape {shape}.")
        vectors = x if self.mode == "rows" else B.transpose(x)
        size = shape[0] if self.mode == "rows" else shape[1]
        if size < 2:
            return B.sum(vectors) * 0.0  # one vector is orthogonal to nothing else
        norms = B.sqrt(B.maximum(B.sum(B.square(vectors), axis=1, keepdims=True), 1e-12))
        unit = vectors / norms
        product = B.matmul(unit, B.transpose(unit))
        off_diagonal = product * (1.0 - B.eye(size, dtype=B.dtype_of(product)))
        return self.factor * B.sum(B.abs(off_diagonal)) / float(size * (size - 1))

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An L1L2 with both penalties; its defaults (0.01 each) are also what the name 'l1_l2' gives."""
    return L1L2(l1, l2)


ALL = {"L1": L1, "L2": L2, "L1L2": L1L2, "OrthogonalRegularizer": OrthogonalRegularizer}
NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "orthogonal_regularizer": OrthogonalRegularizer}


def get(identifier: Any) -> Callable[[Any], Any] | None:
    """A regularizer from a name, a config dict, an instance or a callable."""
    return naming.resolve("regularizer", identifier, Regularizer, ALL, NAMES)


def serialize(regularizer: Any) -> Any:
    return naming.describe("lamina.regularizers", regularizer, Regularizer, ALL)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """A regularizer from serialize's output (a name or a Keras-layout dict)."""
    if isinstance(config, str) or (isinstance(config, dict) and config.get("class_name") in ALL
                                   and not custom_objects):
        return get(config)
    from lamina.saving import registry

    return registry.deserialize_object(config, custom_objects)
