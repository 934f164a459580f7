"""Cosine decay of the learning rate, with an optional linear warmup, and with warm restarts (SGDR)."""

from __future__ import annotations

import math
from typing import Any

from lamina import backend
from lamina.optimizers.schedules.base import LearningRateSchedule, check_positive_steps, float_step

__all__ = ["CosineDecay", "CosineDecayRestarts"]


def _cosine(fraction: Any, alpha: float) -> Any:
    """`(1 - alpha) * (1 + cos(pi * fraction)) / 2 + alpha`: from 1 at fraction 0 to alpha at fraction 1."""
    return (1.0 - alpha) * (0.5 * (1.0 + backend.impl.cos(math.pi * fraction))) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay over `decay_steps` down to `alpha` times the starting rate, after an optional warmup.

    Without `warmup_target` the decay starts from `initial_learning_rate`. With it, the rate first rises
    linearly from `initial_learning_rate` to `warmup_target` over `warmup_steps`, then decays from
    `warmup_target`.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0, name: str = "CosineDecay",
                 warmup_target: float | None = None, warmup_steps: int = 0) -> None:
        check_positive_steps(decay_steps, "decay_steps")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, float)) or warmup_steps < 0:
            raise ValueError(f"Argument `warmup_steps` must be a number >= 0. Received: warmup_steps={warmup_steps!r}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def __call__(self, step: Any) -> Any:
        B = backend.impl
        step = float_step(step)
        initial, decay_steps, alpha = float(self.initial_learning_rate), float(self.decay_steps), float(self.alpha)
        if self.warmup_target is None:
            return initial * _cosine(B.minimum(step, decay_steps) / decay_steps, alpha)
        target, warmup_steps = float(self.warmup_target), float(self.warmup_steps)
        step = B.minimum(step, decay_steps + warmup_steps)
        # Both branches are computed and one is selected, so the warmup's division must stay finite.
        warming = initial + (target - initial) * (step / max(warmup_steps, 1.0))
        decaying = target * _cosine((step - warmup_steps) / decay_steps, alpha)
        return B.where(B.less(step, warmup_steps), warming, decaying)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay that restarts: the i-th period lasts `first_decay_steps * t_mul ** i` steps and starts
    from `initial_learning_rate * m_mul ** i`; each period decays to `alpha` times the initial rate."""

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0, m_mul: float = 1.0,
                 alpha: float = 0.0, name: str = "SGDRDecay") -> None:
        check_positive_steps(first_decay_steps, "first_decay_steps")
        if not isinstance(t_mul, (int, float)) or t_mul <= 0:
            raise ValueError(f"Argument `t_mul` must be a number > 0. Received: t_mul={t_mul!r}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    @property
    def t_mul(self) -> float:
        return self._t_mul

    @property
    def m_mul(self) -> float:
        return self._m_mul

    def __call__(self, step: Any) -> Any:
        B = backend.impl
        periods = float_step(step) / float(self.first_decay_steps)  # in units of the first period
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            restart = B.floor(periods)
            fraction = periods - restart
        else:
            # Periods 0..i-1 last (1 - t_mul**i) / (1 - t_mul) first periods together; solve for i.
            restart = B.floor(B.log(1.0 - periods * (1.0 - t_mul)) / math.log(t_mul))
            restart = self._corrected(restart, periods, t_mul)
            elapsed = (1.0 - B.power(t_mul, restart)) / (1.0 - t_mul)
            fraction = (periods - elapsed) / B.power(t_mul, restart)
        scale = B.power(float(self._m_mul), restart)
        alpha = float(self.alpha)
        return float(self.initial_learning_rate) * ((1.0 - alpha) * scale * 0.5 * (1.0 + B.cos(math.pi * fraction))
                                                    + alpha)

    @staticmethod
    def _corrected(restart: Any, periods: Any, t_mul: float) -> Any:
        """The period index after rounding: float32 logarithms can land one below an exact restart step."""
        B = backend.impl
        next_start = (1.0 - B.power(t_mul, restart + 1.0)) / (1.0 - t_mul)
        restart = B.where(B.greater_equal(periods, next_start), restart + 1.0, restart)
        start = (1.0 - B.power(t_mul, restart)) / (1.0 - t_mul)
        return B.where(B.less(periods, start), restart - 1.0, restart)

    def get_config(self) -> dict:
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self._t_mul, "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}
