"""Adadelta: steps scaled by the ratio of moving RMS of past updates to that of past gradients."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), with Keras's learning rate multiplying the step."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.epsilon = rho, epsilon

    def build_slots(self, variables: list[Any]) -> None:
        self.accumulated_grads, self.accumulated_delta_vars = self.slots_like(
            variables, ["accumulated_grad", "accumulated_delta_var"])

    def _rms(self, accumulators: list[Any]) -> list[Any]:
        B = backend.impl
        return B.foreach_sqrt(B.foreach_add(accumulators, self.epsilon))

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        B.assign_mul(self.accumulated_grads, self.rho)
        B.assign_addcmul(self.accumulated_grads, grads, grads, 1.0 - self.rho)
        # the step is -delta: delta = rms(past updates) * g / rms(past gradients)
        delta = B.foreach_div(B.foreach_mul(self._rms(self.accumulated_delta_vars), grads),
                              self._rms(self.accumulated_grads))
        B.assign_mul(self.accumulated_delta_vars, self.rho)
        B.assign_addcmul(self.accumulated_delta_vars, delta, delta, 1.0 - self.rho)
        B.assign_add(variables, delta, alpha=-learning_rate)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


__all__ = ["Adadelta"]
