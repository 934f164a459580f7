"""LossScaleOptimizer: dynamic loss scaling, so that float16 gradients neither underflow nor overflow.

The loss is multiplied by a scale before differentiation and the gradients divided by it before the
update. While the gradients stay finite the scale doubles every `dynamic_growth_steps` steps; a step
with an infinite or NaN gradient updates nothing and halves the scale. Every decision is a selection
on the device (`where`), never a host read, so the step stays compiled as one unit.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend
from lamina.optimizers.optimizer import Optimizer


class LossScaleOptimizer(Optimizer):
    """Wraps `inner_optimizer` with dynamic loss scaling (Keras's defaults: 2**15, doubled every 2000 steps)."""

    def __init__(self, inner_optimizer: Optimizer, initial_scale: float = 2.0**15, dynamic_growth_steps: int = 2000,
                 name: str | None = None, **kwargs: Any) -> None:
        if not isinstance(inner_optimizer, Optimizer):
            raise ValueError(f"LossScaleOptimizer: inner_optimizer must be an Optimizer, got "
                             f"{type(inner_optimizer).__name__}: {inner_optimizer!r}.")
        if not initial_scale > 0:
            raise ValueError(f"LossScaleOptimizer: initial_scale must be positive, got {initial_scale!r}.")
        if int(dynamic_growth_steps) < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be at least 1, got {dynamic_growth_steps!r}.")
        super().__init__(learning_rate=inner_optimizer._initial_learning_rate, name=name, **kwargs)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        self._own_variables: list[Any] = []

    # --- state: its own two variables, then the inner optimizer's ------------------------------------

    @property
    def variables(self) -> list[Any]:
        return self._own_variables + list(self.inner_optimizer.variables)

    @variables.setter
    def variables(self, value: list[Any]) -> None:  # the base class starts with an empty list
        self._own_variables = list(value)

    def build(self, variables: Sequence[Any]) -> None:
        self.inner_optimizer.prepare(list(variables))
        B = backend.impl
        self.step_counter = B.Variable(np.zeros((), np.int64), dtype="int64", trainable=False, name="step_counter",
                                       path=f"{self.name}/step_counter")
        self.dynamic_scale = B.Variable(np.float32(self.initial_scale), dtype="float32", trainable=False,
                                        name="dynamic_scale", path=f"{self.name}/dynamic_scale")
        self._own_variables = [self.step_counter, self.dynamic_scale]
        self._trained_variables = list(variables)
        self.built = True

    def prepare(self, variables: Sequence[Any]) -> None:
        if not self.built:
            self.build(variables)
        else:
            self.inner_optimizer.prepare(list(variables))

    @property
    def iterations(self) -> Any:
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value: Any) -> None:  # the inner optimizer counts the steps
        pass

    @property
    def learning_rate(self) -> float:
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self.inner_optimizer.learning_rate = value

    # --- scaling ---------------------------------------------------------------------------------------

    def scale_loss(self, loss: Any) -> Any:
        if not self.built:  # the scale a fresh optimizer starts from
            return backend.impl.multiply(loss, self.initial_scale)
        return backend.impl.multiply(loss, backend.impl.cast(self.dynamic_scale.value, backend.impl.dtype_of(loss)))

    def apply(self, grads: Sequence[Any], variables: Sequence[Any] | None = None) -> None:
        """Unscale the gradients; apply them where all are finite, else keep everything; adjust the scale."""
        B = backend.impl
        variables = list(self._trained_variables if variables is None else variables)
        if not self.built:
            self.build(variables)
        self.inner_optimizer.prepare(variables)
        grads = self._reduced(list(grads))
        with B.no_grad():
            scale = self.dynamic_scale.value
            grads = [B.divide(B.cast(g, "float32"), scale) for g in grads]
            finite = _all_finite(grads)
            kept = variables + list(self.inner_optimizer.variables)
            before = [B.add(v.value, 0) for v in kept]  # copies: the update may work in place
            self.inner_optimizer.apply(grads, variables)
            for variable, old in zip(kept, before):
                variable.assign(B.where(finite, variable.value, old))
            counter = self.step_counter.value
            grow = B.logical_and(finite, B.greater_equal(counter + 1, self.dynamic_growth_steps))
            self.dynamic_scale.assign(B.where(finite, B.where(grow, scale * 2.0, scale), scale * 0.5))
            self.step_counter.assign(B.where(B.logical_and(finite, B.logical_not(grow)), counter + 1,
                                             B.zeros_like(counter)))

    def finalize_variable_values(self, var_list: Sequence[Any]) -> None:
        """What the inner optimizer does at the end of training (with use_ema: the moving averages)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict:
        from lamina.optimizers import serialize

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config: dict) -> "LossScaleOptimizer":
        from lamina.optimizers import get

        config = dict(config)
        config["inner_optimizer"] = get(config["inner_optimizer"])
        return cls(**config)


def _all_finite(grads: list[Any]) -> Any:
    """A boolean scalar on the device: no gradient holds an infinity or a NaN (inf * 0 and nan * 0 are nan)."""
    B = backend.impl
    total = B.zeros((), "float32")
    for grad in grads:
        total = B.add(total, B.sum(B.multiply(grad, 0.0)))
    return B.logical_not(B.isnan(total))


__all__ = ["LossScaleOptimizer"]
