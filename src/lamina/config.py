"""Global settings, by keras.config's names: default float dtype, fuzz factor, image layout, backend, and
switches (unsafe deserialization, interactive logging, training caps).

floatx, epsilon and image_data_format live in lamina.backend (keras.backend has them too) and start from
the config file that also chooses the backend (``$LAMINA_HOME/lamina.json``, keys as in Keras's
keras.json), else Keras's defaults.
"""

from __future__ import annotations

from typing import Any

from lamina import backend as _backend
from lamina.dtype_policies import dtype_policy, set_dtype_policy
from lamina.backend import (DATA_FORMATS, epsilon, floatx, image_data_format, set_epsilon, set_floatx,
                            set_image_data_format)

_settings: dict[str, Any] = {}
_DEFAULTS = {"unsafe_deserialization": False, "interactive_logging": True, "traceback_filtering": True,
             "flash_attention": None, "max_epochs": None, "max_steps_per_epoch": None}


def _get(key: str) -> Any:
    return _settings.get(key, _DEFAULTS[key])


def _set(key: str, value: Any) -> None:
    _settings[key] = value


def standardize_data_format(data_format: str | None) -> str:
    """A layer's data_format argument: None means image_data_format(); anything else must be valid."""
    if data_format is None:
        return image_data_format()
    if not isinstance(data_format, str) or data_format.lower() not in DATA_FORMATS:
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {data_format!r}.")
    return data_format.lower()


# --- the backend ---------------------------------------------------------------------------------------


def backend() -> str:
    """The name of the active backend: "torch", "jax" or "numpy"."""
    return _backend.backend()


def set_backend(backend: str) -> None:
    """Switch the active backend; layers and models built before keep their old tensors."""
    _backend.set_backend(backend)


# --- switches ----------------------------------------------------------------------------------------


def enable_unsafe_deserialization() -> None:
    """Allow loading to rebuild lambdas from the Python bytecode stored in a config: only for trusted files."""
    _set("unsafe_deserialization", True)


def is_unsafe_deserialization_enabled() -> bool:
    return _get("unsafe_deserialization")


def disable_unsafe_deserialization() -> None:
    _set("unsafe_deserialization", False)


def enable_interactive_logging() -> None:
    """Progress is printed to stdout (the default)."""
    _set("interactive_logging", True)


def disable_interactive_logging() -> None:
    """Progress goes to Python's logging instead of stdout."""
    _set("interactive_logging", False)


def is_interactive_logging_enabled() -> bool:
    return _get("interactive_logging")


def enable_traceback_filtering() -> None:
    _set("traceback_filtering", True)


def disable_traceback_filtering() -> None:
    _set("traceback_filtering", False)


def is_traceback_filtering_enabled() -> bool:
    """Kept for Keras programs that read it; Lamina's errors carry short tracebacks either way."""
    return _get("traceback_filtering")


def enable_flash_attention() -> None:
    """Ask attention layers for the backend's fused attention kernel where it applies."""
    _set("flash_attention", True)


def disable_flash_attention() -> None:
    _set("flash_attention", False)


def is_flash_attention_enabled() -> bool | None:
    """True or False once set; None (the default) lets each layer decide."""
    return _get("flash_attention")


def is_nnx_enabled() -> bool:
    """Flax NNX integration: not part of Lamina, so always False."""
    return False


def _cap(value: Any, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
        raise ValueError(f"{name} must be a positive int or None, got {value!r}.")
    return value


def max_epochs() -> int | None:
    """A cap on the epochs of every fit (None: no cap)."""
    return _get("max_epochs")


def set_max_epochs(max_epochs: int | None) -> None:
    _set("max_epochs", _cap(max_epochs, "max_epochs"))


def max_steps_per_epoch() -> int | None:
    """A cap on the steps of every epoch (None: no cap)."""
    return _get("max_steps_per_epoch")


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    _set("max_steps_per_epoch", _cap(max_steps_per_epoch, "max_steps_per_epoch"))


__all__ = ["backend", "disable_flash_attention", "disable_interactive_logging", "disable_traceback_filtering",
           "disable_unsafe_deserialization", "dtype_policy", "enable_flash_attention", "enable_interactive_logging",
           "enable_traceback_filtering", "enable_unsafe_deserialization", "epsilon", "floatx",
           "image_data_format", "is_flash_attention_enabled", "is_interactive_logging_enabled", "is_nnx_enabled",
           "is_traceback_filtering_enabled", "is_unsafe_deserialization_enabled", "max_epochs",
           "max_steps_per_epoch", "set_backend", "set_dtype_policy", "set_epsilon", "set_floatx", "set_image_data_format",
           "set_max_epochs", "set_max_steps_per_epoch", "standardize_data_format"]
