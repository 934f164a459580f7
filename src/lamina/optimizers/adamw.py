"""AdamW: Adam with decoupled weight decay (Loshchilov and Hutter)."""

from __future__ import annotations

from typing import Any

from lamina.optimizers.adam import Adam


class AdamW(Adam):
    """Adam whose variables first shrink by `1 - learning_rate * weight_decay` every step (Keras's default 0.004)."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")


__all__ = ["AdamW"]
