"""Exponential, inverse-time, polynomial and piecewise-constant decay of the learning rate."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend
from lamina.optimizers.schedules.base import LearningRateSchedule, check_positive_steps, float_step

__all__ = ["ExponentialDecay", "InverseTimeDecay", "PolynomialDecay", "PiecewiseConstantDecay"]


class _RateDecay(LearningRateSchedule):
    """A decay driven by `decay_rate` and the progress `step / decay_steps` (floored with `staircase`)."""

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False,
                 name: str | None = None) -> None:
        check_positive_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__

    def _progress(self, step: Any) -> Any:
        progress = float_step(step) / float(self.decay_steps)
        return backend.impl.floor(progress) if self.staircase else progress

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`; with `staircase`, the exponent is floored."""

    def __call__(self, step: Any) -> Any:
        return float(self.initial_learning_rate) * backend.impl.power(float(self.decay_rate), self._progress(step))


class InverseTimeDecay(_RateDecay):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`; with `staircase`, the ratio is floored."""

    def __call__(self, step: Any) -> Any:
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * self._progress(step))


class PolynomialDecay(LearningRateSchedule):
    """From `initial_learning_rate` to `end_learning_rate` over `decay_steps` as `(1 - step / decay_steps) ** power`.

    Past `decay_steps` the rate stays at `end_learning_rate`, unless `cycle`: then the decay restarts over the
    next multiple of `decay_steps`, from the same initial rate.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, end_learning_rate: float = 0.0001,
                 power: float = 1.0, cycle: bool = False, name: str = "PolynomialDecay") -> None:
        check_positive_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> Any:
        B = backend.impl
        step = float_step(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            # The first multiple of decay_steps at or past the step; at step 0, decay_steps itself.
            multiple = B.where(B.equal(step, 0.0), 1.0, B.ceil(step / decay_steps))
            p = step / (decay_steps * multiple)
        else:
            p = B.minimum(step, decay_steps) / decay_steps
        end = float(self.end_learning_rate)
        return (float(self.initial_learning_rate) - end) * B.power(1.0 - p, float(self.power)) + end

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` up to and including step `boundaries[0]`, `values[1]` up to `boundaries[1]`, ..., then
    `values[-1]` past the last boundary."""

    def __init__(self, boundaries: Sequence[float], values: Sequence[float], name: str = "PiecewiseConstant") -> None:
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of values. Received: "
                             f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of length "
                             f"{len(values)}.")
        if any(later < earlier for earlier, later in zip(boundaries, boundaries[1:])):
            raise ValueError(f"boundaries must be in increasing order, got {boundaries}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> Any:
        B = backend.impl
        step = B.convert_to_tensor(step)
        # Built from the step, not from a new host value: no copy to the device inside a captured step.
        rate = B.zeros_like(float_step(step)) + float(self.values[-1])
        # From the last interval back: the first boundary at or past the step picks its value.
        for boundary, value in zip(reversed(self.boundaries), reversed(self.values[:-1])):
            rate = B.where(B.less_equal(step, boundary), float(value), rate)
        return rate

    def get_config(self) -> dict:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}
