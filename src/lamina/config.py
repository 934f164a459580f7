"""Global settings, by keras.config's names: default float dtype, fuzz factor, image layout, backend, and
switches (unsafe deserialization, interactive logging, training caps).

floatx, epsilon and image_data_format start from the config file that also chooses the backend
(``$LAMINA_HOME/lamina.json``, keys as in Keras's keras.json), else Keras's defaults.
"""

from __future__ import annotations

import json
from typing import Any

from lamina import backend as _backend

FLOAT_DTYPES = ("bfloat16", "float16", "float32", "float64")
DATA_FORMATS = ("channels_last", "channels_first")

_settings: dict[str, Any] = {}


def _from_file() -> dict[str, Any]:
    """The settings the config file gives; an unreadable file is reported by backend selection, not here."""
    try:
        found = json.loads(_backend.config_file().read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _defaults() -> dict[str, Any]:
    settings: dict[str, Any] = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}
    found = _from_file()
    if found.get("floatx") in FLOAT_DTYPES:
        settings["floatx"] = found["floatx"]
    if isinstance(found.get("epsilon"), (int, float)) and not isinstance(found.get("epsilon"), bool):
        settings["epsilon"] = float(found["epsilon"])
    if found.get("image_data_format") in DATA_FORMATS:
        settings["image_data_format"] = found["image_data_format"]
    settings.update(unsafe_deserialization=False, interactive_logging=True, traceback_filtering=True,
                    flash_attention=None, max_epochs=None, max_steps_per_epoch=None)
    return settings


def _get(key: str) -> Any:
    if not _settings:
        _settings.update(_defaults())
    return _settings[key]


def _set(key: str, value: Any) -> None:
    _get(key)
    _settings[key] = value


# --- numbers and layouts ---------------------------------------------------------------------------


def floatx() -> str:
    """The default float dtype of weights and computations, e.g. "float32"."""
    return _get("floatx")


def set_floatx(value: str) -> None:
    """Set the default float dtype: "float16", "bfloat16", "float32" or "float64"."""
    if value not in FLOAT_DTYPES:
        raise ValueError(f"set_floatx: value must be one of {', '.join(FLOAT_DTYPES)}, got {value!r}.")
    _set("floatx", str(value))


def epsilon() -> float:
    """The fuzz factor added to denominators to avoid division by zero (1e-7 by default)."""
    return _get("epsilon")


def set_epsilon(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"set_epsilon: value must be a float, got {value!r}.")
    _set("epsilon", float(value))


def image_data_format() -> str:
    """Where image layers expect channels by default: "channels_last" or "channels_first"."""
    return _get("image_data_format")


def set_image_data_format(data_format: str) -> None:
    if not isinstance(data_format, str) or data_format.lower() not in DATA_FORMATS:
        raise ValueError(f"set_image_data_format: data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    _set("image_data_format", data_format.lower())


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
           "disable_unsafe_deserialization", "enable_flash_attention", "enable_interactive_logging",
           "enable_traceback_filtering", "enable_unsafe_deserialization", "epsilon", "floatx",
           "image_data_format", "is_flash_attention_enabled", "is_interactive_logging_enabled", "is_nnx_enabled",
           "is_traceback_filtering_enabled", "is_unsafe_deserialization_enabled", "max_epochs",
           "max_steps_per_epoch", "set_backend", "set_epsilon", "set_floatx", "set_image_data_format",
           "set_max_epochs", "set_max_steps_per_epoch", "standardize_data_format"]
