"""Adagrad: per-variable rates that shrink with the sum of the squared gradients."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Adagrad(Optimizer):
    """Adagrad: a += g * g; v -= lr * g / sqrt(a + epsilon), the accumulators starting at
    `initial_accumulator_value`."""

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1, epsilon: float = 1e-7,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if isinstance(initial_accumulator_value, bool) or not isinstance(initial_accumulator_value, (int, float)) \
                or initial_accumulator_value < 0:
            raise ValueError("Adagrad initial_accumulator_value must be a number >= 0, got "
                             f"{initial_accumulator_value!r}.")
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def build_slots(self, variables: list[Any]) -> None:
        self.accumulators = self.slots_like(variables, "accumulator", float(self.initial_accumulator_value))

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        backend.impl.adagrad_update(variables, grads, self.accumulators, learning_rate, self.epsilon,
                                    float(self.initial_accumulator_value))

    def get_config(self) -> dict:
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


__all__ = ["Adagrad"]
