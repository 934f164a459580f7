"""RMSprop, plain or centered, with optional momentum."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a moving root mean square of recent gradients."""

    def __init__(self, learning_rate: float = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def build_slots(self, variables: list[Any]) -> None:
        self.velocities = self.slots_like(variables, "velocity")
        self.momentums = self.slots_like(variables, "momentum") if self.momentum else []
        self.average_gradients = self.slots_like(variables, "average_gradient") if self.centered else []

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        B.assign_mul(self.velocities, self.rho)
        B.assign_addcmul(self.velocities, grads, grads, 1.0 - self.rho)
        mean_squares = self.velocities
        if self.centered:  # the variance instead of the raw second moment
            B.assign_lerp(self.average_gradients, grads, 1.0 - self.rho)
            mean_squares = B.foreach_add(self.velocities, B.foreach_mul(self.average_gradients,
                                                                        self.average_gradients), alpha=-1.0)
        denominators = B.foreach_sqrt(B.foreach_add(mean_squares, self.epsilon))
        if not self.momentum:
            B.assign_add_ratio(variables, grads, denominators, -learning_rate)
            return
        B.assign_mul(self.momentums, self.momentum)
        B.assign_add_ratio(self.momentums, grads, denominators, learning_rate)
        B.assign_add(variables, self.momentums, alpha=-1.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


__all__ = ["RMSprop"]
