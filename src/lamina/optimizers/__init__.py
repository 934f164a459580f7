"""Optimizers by their Keras names, with Keras's defaults and update formulas."""

from __future__ import annotations

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

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        if not self.momentum:
            B.assign_add(variables, grads, alpha=-learning_rate)
            return
        # velocity = momentum * velocity - lr * grad
        B.assign_mul(self.momentums, self.momentum)
        B.assign_add(self.momentums, grads, alpha=-learning_rate)
        if self.nesterov:  # variable += momentum * velocity - lr * grad
            B.assign_add(variables, self.momentums, alpha=self.momentum)
            B.assign_add(variables, grads, alpha=-learning_rate)
        else:
            B.assign_add(variables, self.momentums)

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

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        backend.impl.adam_update(variables, grads, self.momentums, self.velocities, self.velocity_maxima,
                                 learning_rate, self.iterations, self.beta_1, self.beta_2, self.epsilon)

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


from lamina.optimizers.loss_scale_optimizer import LossScaleOptimizer  # noqa: E402 - it subclasses Optimizer

CLASSES = {"SGD": SGD, "Adam": Adam, "RMSprop": RMSprop, "LossScaleOptimizer": LossScaleOptimizer}
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


__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "LossScaleOptimizer", "get", "serialize"]
