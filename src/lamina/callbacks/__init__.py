"""Callbacks: objects whose hooks `fit`, `evaluate` and `predict` call as they run."""

from lamina.callbacks.callback import Callback, CallbackList
from lamina.callbacks.early_stopping import EarlyStopping
from lamina.callbacks.history import History
from lamina.callbacks.lambda_callback import LambdaCallback
from lamina.callbacks.progbar_logger import ProgbarLogger

__all__ = [
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "ProgbarLogger",
]
