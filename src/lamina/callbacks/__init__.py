"""Callbacks: objects whose hooks `fit`, `evaluate` and `predict` call as they run; one module per callback."""

from lamina.callbacks import (backup_and_restore, callback, csv_logger, early_stopping, history, lambda_callback,
                              learning_rate_scheduler, model_checkpoint, progbar_logger, reduce_lr_on_plateau,
                              remote_monitor, swap_ema_weights, tensorboard, terminate_on_nan)
from lamina.callbacks.callback import Callback, CallbackList
from lamina.callbacks.early_stopping import EarlyStopping
from lamina.callbacks.history import History
from lamina.callbacks.lambda_callback import LambdaCallback
from lamina.callbacks.progbar_logger import ProgbarLogger

_MODULES = (model_checkpoint, backup_and_restore, csv_logger, tensorboard, terminate_on_nan, remote_monitor,
            learning_rate_scheduler, reduce_lr_on_plateau, swap_ema_weights)
for _module in _MODULES:
    globals().update({name: getattr(_module, name) for name in _module.__all__})

__all__ = ["Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback", "ProgbarLogger",
           *(name for module in _MODULES for name in module.__all__)]
