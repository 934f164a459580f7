"""Schedule-Free AdamW: no learning rate schedule; the trained variables interpolate between an Adam
iterate and a running average of it.

Keras keeps two sequences: z (the "momentum" slot), where the Adam steps land, and x, the uniform
average of the z iterates; the model's variables hold y = (1 - beta_1) z + beta_1 x. x is never
stored: it is recovered from y and z. Eliminating it gives the update used here, from y and the new z:

    d = lr_t g / (sqrt(v / (1 - beta_2^t)) + epsilon),  z' = z - d,  w = 1 / t
    y' = (1 - w) y + w z' - (1 - w)(1 - beta_1) d

Like Keras, evaluation uses y as it is (no switch to x).
"""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """Schedule-Free AdamW (Defazio et al., 2024), with an optional linear warmup of the learning rate."""

    def __init__(self, learning_rate: float = 0.0025, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, warmup_steps: int = 0, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if int(warmup_steps) != warmup_steps or warmup_steps < 0:
            raise ValueError(f"ScheduleFreeAdamW: warmup_steps must be a non-negative integer, got {warmup_steps!r}.")
        self.beta_1, self.beta_2, self.epsilon, self.warmup_steps = beta_1, beta_2, epsilon, int(warmup_steps)

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum")
        self.velocities = self.slots_like(variables, "velocity")

    def _slot(self, variable: Any, name: str, initial_value: float) -> Any:
        slot = super()._slot(variable, name, initial_value)
        if name == "momentum":  # z starts where the variable is
            slot.assign(backend.impl.copy(variable.value))  # its own buffer (jax donates each state array)
        return slot

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        t = B.cast(self.iterations, "float32") + 1.0
        if self.warmup_steps > 0:
            learning_rate = learning_rate * B.minimum(t / float(self.warmup_steps), 1.0)
        B.assign_mul(self.velocities, self.beta_2)
        B.assign_addcmul(self.velocities, grads, grads, 1.0 - self.beta_2)
        v_hat = B.foreach_mul(self.velocities, 1.0 / (1.0 - B.power(self.beta_2, t)))
        steps = B.foreach_div(B.foreach_mul(grads, learning_rate), B.foreach_add(B.foreach_sqrt(v_hat), self.epsilon))
        B.assign_add(self.momentums, steps, alpha=-1.0)
        weight = 1.0 / t
        B.assign_mul(variables, 1.0 - weight)
        B.assign_add(variables, self.momentums, alpha=weight)
        B.assign_add(variables, steps, alpha=-(1.0 - weight) * (1.0 - self.beta_1))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "warmup_steps": self.warmup_steps}


__all__ = ["ScheduleFreeAdamW"]
