"""`LearningRateSchedule`: the base of learning rates that change with the optimizer's step."""

from __future__ import annotations

from typing import Any

from lamina import backend


class LearningRateSchedule:
    """A learning rate as a function of the step: subclasses write `__call__(step)` and `get_config`.

    `step` may be a Python int, a backend integer tensor or variable, or a traced value inside a compiled
    step, so `__call__` uses backend ops only: no host reads and no Python branches on the step.
    """

    def __call__(self, step: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must override __call__(self, step).")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must override get_config(self) to be serialized.")

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        """The schedule that `get_config` described."""
        return cls(**config)


def float_step(step: Any) -> Any:
    """The step as a float32 tensor, whatever it was given as (int, tensor, variable)."""
    B = backend.impl
    return B.cast(B.convert_to_tensor(step), "float32")


def check_positive_steps(value: Any, argument: str) -> None:
    """Raise a clear error unless `value` is a positive number of steps."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"Argument `{argument}` must be a number > 0. Received: {argument}={value!r}")
