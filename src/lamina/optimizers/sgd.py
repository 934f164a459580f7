"""SGD: gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum: m = momentum * m - lr * g; v += m."""

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1], got {momentum!r}.")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum") if self.momentum else []

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        backend.impl.sgd_update(variables, grads, self.momentums if self.momentum else None, learning_rate,
                                self.momentum, self.nesterov)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


__all__ = ["SGD"]
