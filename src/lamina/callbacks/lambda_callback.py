"""`LambdaCallback`: a callback made of plain functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina.callbacks.callback import ALIASES, HOOKS, Callback

_NAMES = (*HOOKS, *ALIASES.values())


class LambdaCallback(Callback):
    """A callback whose hooks are the functions given, e.g. `on_epoch_end=lambda epoch, logs: ...`.

    Hooks that take a step or epoch number receive `(number, logs)`; the others receive `(logs)`. Any
    other hook of `Callback` (`on_test_end`, `on_batch_end`, ...) may be given as a keyword too.
    """

    def __init__(
        self,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_begin: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
        on_train_batch_begin: Callable[..., Any] | None = None,
        on_train_batch_end: Callable[..., Any] | None = None,
        **kwargs: Callable[..., Any] | None,
    ) -> None:
        super().__init__()
        unknown = sorted(set(kwargs) - set(_NAMES))
        if unknown:
            raise TypeError(
                f"LambdaCallback got unknown hook {', '.join(unknown)}; "
                f"expected hook names among {', '.join(_NAMES)}"
            )
        kwargs.update(
            on_epoch_begin=on_epoch_begin,
            on_epoch_end=on_epoch_end,
            on_train_begin=on_train_begin,
            on_train_end=on_train_end,
            on_train_batch_begin=on_train_batch_begin,
            on_train_batch_end=on_train_batch_end,
        )
        # An instance attribute replaces the no-op method of that hook.
        for name, function in kwargs.items():
            if function is not None:
                if not callable(function):
                    raise TypeError(f"LambdaCallback {name} must be callable, got {function!r}")
                setattr(self, name, function)
