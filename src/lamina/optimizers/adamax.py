"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Adamax(Optimizer):
    """Adamax (Kingma and Ba, section 7): a moving average of the gradient over a decaying max of its size."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums, self.norms = self.slots_like(variables, ["momentum", "norm"])

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        t = B.cast(self.iterations, "float32") + 1.0
        B.assign_lerp(self.momentums, grads, 1.0 - self.beta_1)
        # u = max(beta_2 * u, |g|)
        B.foreach_assign(self.norms, B.foreach_maximum(B.foreach_mul(self.norms, self.beta_2), B.foreach_abs(grads)))
        rate = learning_rate / (1.0 - B.power(self.beta_1, t))
        B.assign_add_ratio(variables, self.momentums, B.foreach_add(self.norms, self.epsilon), -rate)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


__all__ = ["Adamax"]
