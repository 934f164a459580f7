"""Lamb: Adam's step rescaled per variable by the ratio of the variable's norm to the step's norm."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Lamb(Optimizer):
    """LAMB (You et al., 2019): layer-wise trust ratios on top of bias-corrected Adam steps."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums, self.velocities = self.slots_like(variables, ["momentum", "velocity"])

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        t = B.cast(self.iterations, "float32") + 1.0
        B.assign_lerp(self.momentums, grads, 1.0 - self.beta_1)
        B.assign_mul(self.velocities, self.beta_2)
        B.assign_addcmul(self.velocities, grads, grads, 1.0 - self.beta_2)
        # step = m_hat / (sqrt(v_hat) + epsilon)
        v_hat = B.foreach_mul(self.velocities, 1.0 / (1.0 - B.power(self.beta_2, t)))
        m_hat = B.foreach_mul(self.momentums, 1.0 / (1.0 - B.power(self.beta_1, t)))
        steps = B.foreach_div(m_hat, B.foreach_add(B.foreach_sqrt(v_hat), self.epsilon))
        # trust ratio ||w|| / ||step|| per variable, 1 where either norm is zero
        weight_norms, step_norms = B.foreach_norm(variables), B.foreach_norm(steps)
        usable = B.logical_and(B.greater(weight_norms, 0.0), B.greater(step_norms, 0.0))
        ratios = B.where(usable, weight_norms / B.where(usable, step_norms, 1.0), 1.0) * (-learning_rate)
        B.assign_add(variables, B.foreach_mul(steps, B.unstack(ratios)))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


__all__ = ["Lamb"]
