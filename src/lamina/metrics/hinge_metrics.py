"""Hinge metrics: the mean hinge, squared hinge and categorical hinge losses."""

from __future__ import annotations

from typing import Any

from lamina.losses.hinge_losses import categorical_hinge, hinge, squared_hinge
from lamina.metrics.regression_metrics import LossMetricWrapper


class Hinge(LossMetricWrapper):
    """The mean hinge loss over samples."""

    def __init__(self, name: str = "hinge", dtype: Any = None) -> None:
        super().__init__(hinge, name, dtype)


class SquaredHinge(LossMetricWrapper):
    """The mean squared hinge loss over samples."""

    def __init__(self, name: str = "squared_hinge", dtype: Any = None) -> None:
        super().__init__(squared_hinge, name, dtype)


class CategoricalHinge(LossMetricWrapper):
    """The mean categorical hinge loss over samples."""

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None) -> None:
        super().__init__(categorical_hinge, name, dtype)


__all__ = ["Hinge", "SquaredHinge", "CategoricalHinge", "hinge", "squared_hinge", "categorical_hinge"]
