"""How SimpleRNN, LSTM, GRU and ConvLSTM pass their arguments to their cell and show them in configs."""

from __future__ import annotations

from typing import Any

from lamina.layers.recurrent.rnn import RNN

# Arguments that belong to the base Layer, not to the cell.
LAYER_ONLY = ("name", "trainable", "dtype", "batch_input_shape")


class CellLayer(RNN):
    """An RNN over a built-in cell made from the layer's own arguments (LSTM over an LSTMCell, ...).

    The cell's arguments read through the layer (`lstm.units`), and `get_config` lists them flat, as Keras does.
    """

    def __init__(self, cell: Any, use_cudnn: Any = "auto", activity_regularizer: Any = None, **kwargs: Any) -> None:
        kwargs.pop("implementation", None)  # Keras 2 configs: a choice of kernel layout, the same numbers
        if kwargs.pop("time_major", False):
            raise ValueError(f"{type(self).__name__} takes (batch, time, ...) inputs; "
                             "time_major=True is not supported.")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"{type(self).__name__} use_cudnn must be 'auto', True or False, got {use_cudnn!r}.")
        super().__init__(cell, activity_regularizer=activity_regularizer, **kwargs)
        self.use_cudnn = use_cudnn

    def __getattr__(self, name: str) -> Any:
        cell = self.__dict__.get("cell")
        if cell is not None and not name.startswith("_") and name in cell.__dict__:
            return cell.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self) -> dict:
        cell_config = {k: v for k, v in self.cell.get_config().items() if k not in LAYER_ONLY}
        base = {k: v for k, v in RNN.get_config(self).items() if k != "cell"}
        return {**base, **cell_config}

    @classmethod
    def from_config(cls, config: dict) -> "CellLayer":
        return cls(**config)
