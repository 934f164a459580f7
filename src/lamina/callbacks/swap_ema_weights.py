"""SwapEMAWeights: evaluate, predict and save with the optimizer's moving averages of the weights."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.callbacks.callback import Callback, Logs


class SwapEMAWeights(Callback):
    """Swaps the optimizer's exponential moving averages (`use_ema=True`) into the model for evaluation and
    prediction, and the trained weights back afterwards. With `swap_on_epoch`, the averages are also in the
    model from each epoch's end to the next epoch's start, so checkpoints written at epoch end hold them; after
    the last epoch the averages stay in the model."""

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _ema_optimizers(self) -> list[Any]:
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer's
        candidates = list(getattr(optimizer, "optimizers", [optimizer]))  # a MultiOptimizer's
        chosen = [o for o in candidates if getattr(o, "use_ema", False)]
        if not chosen:
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. Received: "
                             f"use_ema={getattr(optimizer, 'use_ema', None)} on {type(optimizer).__name__}.")
        return [o for o in chosen if o.built]

    def _swap_variables(self) -> None:
        B = backend.impl
        for optimizer in self._ema_optimizers():
            variables, averages = list(optimizer._trained_variables), list(optimizer._averages)
            # Copies: two variables sharing one buffer could not both be donated to a jitted step (jax).
            trained = B.foreach_mul(variables, 1.0)
            B.foreach_assign(variables, B.foreach_mul(averages, 1.0))
            B.foreach_assign(averages, trained)

    def _finalize_ema_values(self) -> None:
        """After the last epoch the model keeps the averages; the optimizer's averages become them too."""
        for optimizer in self._ema_optimizers():
            B = backend.impl
            B.foreach_assign(list(optimizer._averages), B.foreach_mul(optimizer._trained_variables, 1.0))

    def on_epoch_begin(self, epoch: int, logs: Logs = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: Logs = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs: Logs = None) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def on_test_end(self, logs: Logs = None) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_predict_begin(self, logs: Logs = None) -> None:
        self.on_test_begin(logs)

    def on_predict_end(self, logs: Logs = None) -> None:
        self.on_test_end(logs)


__all__ = ["SwapEMAWeights"]
