"""SGD: gradient descent with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1], got {momentum!r}.")
        self.momentum, self.nesterov = float(momentum), nesterov

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum") if self.momentum else []

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        if not self.momentum:
            B.assign_add(variables, grads, alpha=-learning_rate)
            return
        # velocity = momentum * velocity - lr * grad
        B.assign_mul(self.momentums, self.momentum)
        B.assign_add(self.momentums, grads, alpha=-learning_rate)
        if self.nesterov:  # variable += momentum * velocity - lr * grad
            B.assign_add(variables, self.momentums, alpha=self.momentum)
            B.assign_add(variables, grads, alpha=-learning_rate)
        else:
            B.assign_add(variables, self.momentums)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


__all__ = ["SGD"]
