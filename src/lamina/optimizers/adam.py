"""Adam (Kingma and Ba), with AMSGrad as an option."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Adam: bias-corrected moving averages of the gradient and its square."""

    fuses_weight_decay = True  # the backend applies Keras's decoupled decay in the same pass (AdamW's kernel)

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums, self.velocities = self.slots_like(variables, ["momentum", "velocity"])
        self.velocity_maxima = self.slots_like(variables, "velocity_hat") if self.amsgrad else []

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        backend.impl.adam_update(variables, grads, self.momentums, self.velocities,
                                 self.velocity_maxima if self.amsgrad else None, learning_rate, self.iterations,
                                 self.beta_1, self.beta_2, self.epsilon, self._weight_decay_in_update)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


__all__ = ["Adam"]
