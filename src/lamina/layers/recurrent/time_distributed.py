"""TimeDistributed: the same layer applied to every time step of (batch, time, ...)."""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.layers.recurrent.wrapper import Wrapper


class TimeDistributed(Wrapper):
    """Runs `layer` once on all steps folded into the batch axis: (batch * time, ...) -> (batch, time, ...)."""

    supports_masking = True

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed {self.name!r} expects inputs of rank at least 3 (batch, time, ...), "
                             f"got shape {tuple(input_shape)}.")
        self.layer._build_for((None, *input_shape[2:]))

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        B = backend.impl
        batch, time, *rest = B.shape(inputs)
        kwargs: dict = {"training": training}
        if mask is not None and self.layer._call_takes_mask:
            kwargs["mask"] = B.reshape(mask, (batch * time, *B.shape(mask)[2:]))
        outputs = self.layer(B.reshape(inputs, (batch * time, *rest)), **kwargs)
        return B.reshape(outputs, (batch, time, *B.shape(outputs)[1:]))
