"""Optimizers by their Keras names, with Keras's defaults and update formulas."""

from __future__ import annotations

import math
from typing import Any

from lamina import backend
from lamina.optimizers.optimizer import Optimizer
from lamina.utils import naming


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum."""

    def __init__(self, learning_rate: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1], got {momentum!r}.")
        self.momentum, self.nesterov = float(momentum), nesterov

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum") if self.momentum else []

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> list[Any]:
        B = backend.impl
        if not self.momentum:
            return B.foreach_add(variables, grads, alpha=-learning_rate)
        # velocity = momentum * velocity - lr * grad
        velocities = B.foreach_add(B.foreach_mul(self.momentums, self.momentum), grads, alpha=-learning_rate)
        B.foreach_assign(self.momentums, velocities)
        if self.nesterov:
            step = B.foreach_add(B.foreach_mul(velocities, self.momentum), grads, alpha=-learning_rate)
            return B.foreach_add(variables, step)
        return B.foreach_add(variables, velocities)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam: bias-corrected moving averages of the gradient and its square."""

    def __init__(self, learning_rate: float = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def build_slots(self, variables: list[Any]) -> None:
        self.momentums = self.slots_like(variables, "momentum")
        self.velocities = self.slots_like(variables, "velocity")
        self.velocity_maxima = self.slots_like(variables, "velocity_hat") if self.amsgrad else []

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> list[Any]:
        B = backend.impl
        t = self._step_count()
        # lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), with beta^t as exp(t log beta) to stay on the device
        corrected_rate = learning_rate * B.sqrt(1.0 - B.exp(t * math.log(self.beta_2))) \
            / (1.0 - B.exp(t * math.log(self.beta_1)))
        momentums = B.foreach_lerp(self.momentums, grads, 1.0 - self.beta_1)
        velocities = B.foreach_lerp(self.velocities, B.foreach_mul(grads, grads), 1.0 - self.beta_2)
        B.foreach_assign(self.momentums, momentums)
        B.foreach_assign(self.velocities, velocities)
        if self.amsgrad:
            velocities = B.foreach_maximum(self.velocity_maxima, velocities)
            B.foreach_assign(self.velocity_maxima, velocities)
        denominators = B.foreach_add(B.foreach_sqrt(velocities), self.epsilon)
        return B.foreach_add(variables, B.foreach_div(momentums, denominators), alpha=-corrected_rate)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


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

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> list[Any]:
        B = backend.impl
        velocities = B.foreach_lerp(self.velocities, B.foreach_mul(grads, grads), 1.0 - self.rho)
        B.foreach_assign(self.velocities, velocities)
        denominators = velocities
        if self.centered:
            averages = B.foreach_lerp(self.average_gradients, grads, 1.0 - self.rho)
            B.foreach_assign(self.average_gradients, averages)
            denominators = B.foreach_add(velocities, B.foreach_mul(averages, averages), alpha=-1.0)
        steps = B.foreach_div(grads, B.foreach_sqrt(B.foreach_add(denominators, self.epsilon)))
        if self.momentum:
            momentums = B.foreach_add(B.foreach_mul(self.momentums, self.momentum), steps, alpha=learning_rate)
            B.foreach_assign(self.momentums, momentums)
            return B.foreach_add(variables, momentums, alpha=-1.0)
        return B.foreach_add(variables, steps, alpha=-learning_rate)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


CLASSES = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop}
NAMES = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop}


def get(identifier: Any) -> Optimizer:
    """An Optimizer for a name, a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return naming.lookup("optimizer", identifier, {**NAMES, **CLASSES})()
    if isinstance(identifier, dict):
        return naming.lookup("optimizer", identifier["class_name"], CLASSES).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(f"optimizer must be a name or an Optimizer, got {type(identifier).__name__}: {identifier!r}.")


def serialize(optimizer: Optimizer) -> dict:
    return {"module": "lamina.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "get", "serialize"]
