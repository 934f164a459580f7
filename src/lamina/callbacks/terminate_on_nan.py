"""`TerminateOnNaN`: stop training when the loss becomes NaN or infinite."""

from __future__ import annotations

import math

from lamina.callbacks.callback import Callback, Logs

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops `fit` at the first batch whose loss is NaN or infinite.

    Args:
        raise_error: raise a RuntimeError at once instead of letting the epoch end and stopping.
    """

    _reads_logs_lazily = True  # only the loss is read, not every metric

    def __init__(self, raise_error: bool = False) -> None:
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch: int, logs: Logs = None) -> None:
        """Check the running loss after each training batch."""
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                                   "Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True
