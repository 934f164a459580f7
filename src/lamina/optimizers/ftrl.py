"""FTRL-Proximal: per-coordinate learning rates with L1/L2 regularization solved in closed form."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class Ftrl(Optimizer):
    """Follow The Regularized Leader (McMahan et al., 2013), with Keras's L2 shrinkage and beta options."""

    def __init__(self, learning_rate: float = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, l2_shrinkage_regularization_strength: float = 0.0,
                 beta: float = 0.0, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        _check("initial_accumulator_value", initial_accumulator_value, "positive or zero",
               initial_accumulator_value >= 0)
        _check("learning_rate_power", learning_rate_power, "negative or zero", learning_rate_power <= 0)
        for name, value in (("l1_regularization_strength", l1_regularization_strength),
                            ("l2_regularization_strength", l2_regularization_strength),
                            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength)):
            _check(name, value, "positive or zero", value >= 0)
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build_slots(self, variables: list[Any]) -> None:
        self.accumulators, self.linears = self.slots_like(variables, ["accumulator", "linear"],
                                                          [float(self.initial_accumulator_value), 0.0])

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        power = -self.learning_rate_power
        new_accumulators = B.foreach_add(self.accumulators, B.foreach_mul(grads, grads))
        new_powers = B.foreach_pow(new_accumulators, power)
        # sigma = (n_new^p - n^p) / lr;  z += g + 2 * l2_shrinkage * w - sigma * w
        sigma = B.foreach_div(B.foreach_add(new_powers, B.foreach_pow(self.accumulators, power), alpha=-1.0),
                              learning_rate)
        shrinkage = self.l2_shrinkage_regularization_strength
        B.assign_add(self.linears, B.foreach_add(grads, variables, alpha=2.0 * shrinkage) if shrinkage else grads)
        B.assign_add(self.linears, B.foreach_mul(sigma, variables), alpha=-1.0)
        # w = (clip(z, -l1, l1) - z) / (n_new^p / lr + 2 * (l2 + beta / (2 lr)))
        quadratic = B.foreach_add(B.foreach_div(new_powers, learning_rate),
                                  2.0 * self.l2_regularization_strength + self.beta / learning_rate)
        l1 = self.l1_regularization_strength
        B.foreach_assign(variables, B.foreach_div(B.foreach_add(B.foreach_clip(self.linears, -l1, l1), self.linears,
                                                                alpha=-1.0), quadratic))
        B.foreach_assign(self.accumulators, new_accumulators)

    def get_config(self) -> dict:
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


def _check(name: str, value: float, expected: str, ok: bool) -> None:
    if not ok:
        raise ValueError(f"Ftrl: {name} must be {expected}, got {name}={value!r}.")


__all__ = ["Ftrl"]
