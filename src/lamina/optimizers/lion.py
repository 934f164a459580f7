"""Lion: the sign of an interpolated momentum as the step."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023): every coordinate moves by the learning rate, in the direction of a momentum sign."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0.0 < beta_1 <= 1.0:
            raise ValueError(f"Lion: beta_1 must be in (0, 1] (at 0 it is sign descent), got beta_1={beta_1!r}.")
        self.beta_1, self.beta_2 = beta_1, beta_2

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum")

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        direction = B.foreach_sign(B.foreach_lerp(self.momentums, grads, 1.0 - self.beta_1))
        B.assign_add(variables, direction, alpha=-learning_rate)
        B.assign_lerp(self.momentums, grads, 1.0 - self.beta_2)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


__all__ = ["Lion"]
