"""Nadam: Adam with Nesterov momentum and Dozat's momentum schedule."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer

_SCHEDULE_DECAY = 0.96  # mu_t = beta_1 * (1 - 0.5 * 0.96^t)


class Nadam(Optimizer):
    """Nadam (Dozat, 2016): the momentum term looks one step ahead, with a warming momentum schedule."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums, self.velocities = self.slots_like(variables, ["momentum", "velocity"])
        self.u_product = self.add_variable((), initializer="ones", name="u_product")  # prod of the schedule so far

    def _schedule(self, step: Any) -> Any:
        return self.beta_1 * (1.0 - 0.5 * backend.impl.power(_SCHEDULE_DECAY, step))

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        t = B.cast(self.iterations, "float32") + 1.0
        u_t, u_next = self._schedule(t), self._schedule(t + 1.0)
        product = self.u_product.value * u_t
        self.u_product.assign(product)
        B.assign_lerp(self.momentums, grads, 1.0 - self.beta_1)
        B.assign_mul(self.velocities, self.beta_2)
        B.assign_addcmul(self.velocities, grads, grads, 1.0 - self.beta_2)
        # m_hat = u_{t+1} m / (1 - prod_{t+1}) + (1 - u_t) g / (1 - prod_t);  v_hat = v / (1 - beta_2^t)
        m_hat = B.foreach_add(B.foreach_mul(self.momentums, u_next / (1.0 - product * u_next)), grads,
                              alpha=(1.0 - u_t) / (1.0 - product))
        v_hat = B.foreach_mul(self.velocities, 1.0 / (1.0 - B.power(self.beta_2, t)))
        B.assign_add_ratio(variables, m_hat, B.foreach_add(B.foreach_sqrt(v_hat), self.epsilon), -learning_rate)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


__all__ = ["Nadam"]
