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


l1 = L1
l2 = L2


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An L1L2 with both penalties; its defaults (0.01 each) are also what the name 'l1_l2' gives."""
    return L1L2(l1, l2)


ALL = {"L1": L1, "L2": L2, "L1L2": L1L2}
NAMES = {"l1": L1, "l2": L2, "l1_l2": l1_l2}


def get(identifier: Any) -> Callable[[Any], Any] | None:
    """A regularizer from a name, a config dict, an instance or a callable."""
    return naming.resolve("regularizer", identifier, Regularizer, ALL, NAMES)


def serialize(regularizer: Any) -> Any:
    return naming.describe("lamina.regularizers", regularizer, Regularizer, ALL)
