"""Adafactor: Adam-like steps whose second moments of matrices are kept factored as row and column means."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class _Shaped(NamedTuple):
    """Stands for a variable where only the shape of its slot differs."""
    shape: tuple
    path: str


class Adafactor(Optimizer):
    """Adafactor (Shazeer and Stern, 2018): for variables of rank 2 or more the second moment is the outer
    product of its running row and column means (last two axes); vectors keep a full running mean."""

    def __init__(self, learning_rate: float = 0.001, beta_2_decay: float = -0.8, epsilon_1: float = 1e-30,
                 epsilon_2: float = 1e-3, clip_threshold: float = 1.0, relative_step: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step

    def build_slots(self, variables: list[Any]) -> None:
        # r, c: the factored second moment (means over the last and the second-to-last axis); velocity: the
        # full second moment of vectors and scalars
        self.row_means, self.column_means, self.velocities = self.slots_like(variables, ["r", "c", "velocity"])

    def _slot(self, variable: Any, name: str, initial_value: float) -> Any:
        """Slots shaped by their role: r and c for matrices (rank >= 2), a scalar placeholder for the others
        (so every slot list follows the variables); the velocity has the variable's shape whatever its rank,
        unused for matrices, as in Keras, whose files hold it."""
        shape = tuple(variable.shape)
        factored = len(shape) >= 2
        shape = {"r": shape[:-1] if factored else (), "c": shape[:-2] + shape[-1:] if factored else (),
                 "velocity": shape}[name]
        return super()._slot(_Shaped(shape, variable.path), name, initial_value)

    def update(self, grads: list[Any], variables: list[Any], learning_rate: Any) -> None:
        B = backend.impl
        t = B.cast(self.iterations, "float32") + 1.0
        # Keras caps the rate at 1/sqrt(t) with or without relative_step, so the option changes nothing here.
        rate = B.minimum(learning_rate, 1.0 / B.sqrt(t))
        beta = 1.0 - B.power(t, self.beta_2_decay)
        squares = B.foreach_add(B.foreach_mul(grads, grads), self.epsilon_1)
        factored = [i for i, v in enumerate(variables) if len(v.shape) >= 2]
        plain = [i for i, v in enumerate(variables) if len(v.shape) < 2]
        second_moments: list[Any] = [None] * len(variables)
        if plain:
            velocities = [self.velocities[i] for i in plain]
            B.assign_mul(velocities, beta)
            B.assign_add(velocities, [squares[i] for i in plain], alpha=1.0 - beta)
            for i in plain:
                second_moments[i] = self.velocities[i].value
        if factored:
            rows, columns = [self.row_means[i] for i in factored], [self.column_means[i] for i in factored]
            B.assign_mul(rows + columns, beta)
            B.assign_add(rows + columns, [B.mean(squares[i], axis=-1) for i in factored]
                         + [B.mean(squares[i], axis=-2) for i in factored], alpha=1.0 - beta)
            for i, row, column in zip(factored, rows, columns):
                row = row.value
                second_moments[i] = B.multiply(B.expand_dims(row / B.mean(row, axis=-1, keepdims=True), -1),
                                               B.expand_dims(column.value, -2))
        steps = B.foreach_div(grads, B.foreach_sqrt(second_moments))
        # per variable: alpha = max(epsilon_2, rms(w)) * rate, the step clipped to an RMS of clip_threshold;
        # rms(x) = ||x / sqrt(size)||, the sizes as Python numbers (no host-to-device copy in the step)
        inverse_roots = [1.0 / math.sqrt(max(math.prod(v.shape), 1)) for v in variables]
        alphas = B.maximum(B.foreach_norm(B.foreach_mul(variables, inverse_roots)), self.epsilon_2) * rate
        step_rms = B.foreach_norm(B.foreach_mul(steps, inverse_roots))
        scales = alphas / B.maximum(step_rms / self.clip_threshold, 1.0)
        B.assign_add(variables, B.foreach_mul(steps, B.unstack(-scales)))

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step}


__all__ = ["Adafactor"]
