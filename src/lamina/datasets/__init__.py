"""Data sets to load, as (x_train, y_train), (x_test, y_test)."""

from lamina.datasets import digits

__all__ = ["digits"]
