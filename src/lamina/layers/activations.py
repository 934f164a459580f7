"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""

from __future__ import annotations

__all__: list[str] = []
