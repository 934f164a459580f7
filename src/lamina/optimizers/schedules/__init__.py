"""Learning-rate schedules by their Keras names: callables from the optimizer's step to a learning rate."""

from __future__ import annotations

from lamina.optimizers.schedules.base import LearningRateSchedule

__all__ = ["LearningRateSchedule"]
