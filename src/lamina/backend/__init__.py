"""Backend selection: the one seam between Lamina and the array libraries.

The backend is chosen the first time Lamina needs it, in this order: the
``LAMINA_BACKEND`` environment variable, else ``KERAS_BACKEND`` (so that a
Keras user's setting carries over), else ``lamina.json`` in ``LAMINA_HOME``
(default ``~/.lamina``, holding ``{"backend": "jax"}``), else ``"torch"``.
Without such a choice and without torch, Lamina falls back to jax, then to
numpy (inference only). A backend chosen explicitly but not installed is an
error that says which extra to install.

``impl`` is the chosen backend package; everything above this package reaches
torch, jax or numpy only through it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Iterator

BACKENDS = ("torch", "jax", "numpy")
TRAINING_BACKENDS = ("torch", "jax")
DEFAULT = "torch"
# The top-level packages whose absence means that a backend is not installed.
_PACKAGES = {"torch": ("torch",), "jax": ("jax", "jaxlib"), "numpy": ("numpy",)}
INSTALL_HINT = 'pip install "lamina[torch]" or pip install "lamina[jax]"'


@dataclass(frozen=True)
class Selection:
    """The active backend and what chose it.

    Args:
        name: "torch", "jax" or "numpy".
        source: "LAMINA_BACKEND", "KERAS_BACKEND", the config file's path, "default",
            "fallback" (no explicit choice and torch not installed) or "set_backend".
        reason: for a fallback, which backends are missing.
    """

    name: str
    source: str
    reason: str = ""


def install_command(name: str) -> str:
    """The pip command that installs the extra of backend `name`."""
    return f'pip install "lamina[{name}]"'


def config_file() -> Path:
    """Where the config file is read from: ``$LAMINA_HOME/lamina.json``, by default ``~/.lamina/lamina.json``."""
    return Path(os.environ.get("LAMINA_HOME") or Path.home() / ".lamina") / "lamina.json"


def _explicit_choice() -> tuple[str, str] | None:
    """(name, source) of a backend chosen by the environment or the config file, else None."""
    for variable in ("LAMINA_BACKEND", "KERAS_BACKEND"):
        name = os.environ.get(variable, "").strip().lower()
        if name:
            if name not in BACKENDS:
                override = " Set LAMINA_BACKEND to choose Lamina's backend apart from Keras's." \
                    if variable == "KERAS_BACKEND" else ""
                raise ValueError(f"{variable}={name!r} is not a backend Lamina supports: expected one of "
                                 f"{', '.join(BACKENDS)} (numpy runs inference only).{override}")
            return name, variable
    path = config_file()
    if not path.is_file():
        return None
    try:
        name = json.loads(path.read_text()).get("backend")
    except (ValueError, AttributeError) as error:
        raise ValueError(f"{path} is not a valid Lamina config: {error}") from None
    if not name:
        return None
    if name not in BACKENDS:
        raise ValueError(f"{path} asks for backend {name!r}: expected one of {', '.join(BACKENDS)}.")
    return name, str(path)


class _NotInstalled(Exception):
    """The backend's array library is missing (as opposed to installed but failing to import)."""


def _import(name: str) -> ModuleType:
    try:
        return importlib.import_module(f"lamina.backend.{name}")
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] in _PACKAGES[name]:
            raise _NotInstalled(name) from error
        raise


def _load(name: str, chosen_by: str | None = None) -> ModuleType:
    """Import backend `name`, or explain that it is not installed and how to install it."""
    try:
        return _import(name)
    except _NotInstalled as missing:
        origin = f" (chosen by {chosen_by})" if chosen_by else ""
        raise ImportError(f"The {name} backend is not installed{origin}. "
                          f"Install it with: {install_command(name)}") from missing.__cause__


def _select() -> tuple[ModuleType, Selection]:
    explicit = _explicit_choice()
    if explicit is not None:
        name, source = explicit
        chosen_by = f"{source}={name}" if source.endswith("BACKEND") else f"the config file {source}"
        return _load(name, chosen_by), Selection(name, source)
    missing: list[str] = []
    for name in BACKENDS:
        try:
            module = _import(name)
        except _NotInstalled:
            missing.append(name)
            continue
        if not missing:
            return module, Selection(name, "default")
        reason = f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed"
        return module, Selection(name, "fallback", reason)
    raise ImportError(f"No backend can be imported: {', '.join(BACKENDS)} are all missing.")


impl: ModuleType  # the active backend package, chosen on first use (see __getattr__)
_selection: Selection | None = None


def __getattr__(name: str) -> ModuleType:
    # `impl` is loaded on first use, so that `import lamina` and the `lamina` command work (and say
    # how to install a backend) before any backend is installed.
    global impl, _selection
    if name == "impl":
        impl, _selection = _select()
        return impl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def selection() -> Selection:
    """The active backend and what chose it; chooses one if none is active yet."""
    if _selection is None:
        __getattr__("impl")
    assert _selection is not None
    return _selection


def backend() -> str:
    """The name of the active backend: ``"torch"``, ``"jax"`` or ``"numpy"``."""
    return selection().name


def set_backend(name: str) -> None:
    """Switch the active backend; objects built before keep their old tensors."""
    global impl, _selection
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {name!r}: expected one of {', '.join(BACKENDS)}.")
    impl = _load(name)
    _selection = Selection(name, "set_backend")


@contextlib.contextmanager
def use(name: str) -> Iterator[ModuleType]:
    """Run a block under another backend, then restore the previous one."""
    global impl, _selection
    previous = (globals().get("impl"), _selection)
    set_backend(name)
    try:
        yield impl
    finally:
        if previous[0] is None:  # no backend was active before: choose afresh next time
            del impl
        else:
            impl = previous[0]
        _selection = previous[1]


# keras.backend's numeric settings (lamina.config exposes them too): read from the config file's "floatx",
# "epsilon" and "image_data_format" keys (as in Keras's keras.json), else Keras's defaults.
FLOAT_DTYPES = ("bfloat16", "float16", "float32", "float64")
DATA_FORMATS = ("channels_last", "channels_first")
_settings: dict = {}


def _setting(key: str) -> Any:
    if not _settings:
        _settings.update(floatx="float32", epsilon=1e-7, image_data_format="channels_last")
        try:
            found = json.loads(config_file().read_text())
        except (OSError, ValueError):
            found = {}
        found = found if isinstance(found, dict) else {}
        for name, valid in (("floatx", lambda v: v in FLOAT_DTYPES), ("image_data_format", lambda v: v in DATA_FORMATS),
                            ("epsilon", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))):
            if name in found and valid(found[name]):
                _settings[name] = found[name]
    return _settings[key]


def floatx() -> str:
    """The default float dtype of weights and computations, e.g. "float32"."""
    return _setting("floatx")


def set_floatx(value: str) -> None:
    """Set the default float dtype: "float16", "bfloat16", "float32" or "float64"."""
    if value not in FLOAT_DTYPES:
        raise ValueError(f"set_floatx: value must be one of {', '.join(FLOAT_DTYPES)}, got {value!r}.")
    _setting("floatx")
    _settings["floatx"] = str(value)


def epsilon() -> float:
    """The fuzz factor added to denominators (1e-7 by default)."""
    return float(_setting("epsilon"))


def set_epsilon(value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"set_epsilon: value must be a float, got {value!r}.")
    _setting("epsilon")
    _settings["epsilon"] = float(value)


def image_data_format() -> str:
    """Where image layers expect channels by default: "channels_last" or "channels_first"."""
    return _setting("image_data_format")


def set_image_data_format(data_format: str) -> None:
    if not isinstance(data_format, str) or data_format.lower() not in DATA_FORMATS:
        raise ValueError(f"set_image_data_format: data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}.")
    _setting("image_data_format")
    _settings["image_data_format"] = data_format.lower()


def standardize_dtype(dtype: Any) -> str:
    """A dtype's Keras name ("float32", "int64", ...), whatever library it comes from; None is floatx()."""
    from lamina.backend.common import standardize_dtype as standardize

    return floatx() if dtype is None else standardize(dtype)


def is_float_dtype(dtype: Any) -> bool:
    return standardize_dtype(dtype) in FLOAT_DTYPES


def is_int_dtype(dtype: Any) -> bool:
    return standardize_dtype(dtype).startswith(("int", "uint"))


def result_type(*dtypes: Any) -> str:
    """The dtype that mixing `dtypes` gives, as Keras promotes: floats win over ints without widening
    (int64 with float32 is float32), bfloat16 meets float16 in float32; no dtypes give floatx()."""
    import numpy as np

    names = [standardize_dtype(d) for d in dtypes]
    if not names:
        return floatx()
    floats = [name for name in names if name in FLOAT_DTYPES]
    if floats and set(floats) == {"bfloat16"}:
        return "bfloat16"
    if floats:
        return np.result_type(*["float32" if name == "bfloat16" else name for name in floats]).name
    return np.result_type(*names).name


def clear_session(free_memory: bool = True) -> None:
    """Reset Lamina's global state: automatic layer names start again ("dense", not "dense_10") and so do
    `get_uid`'s counters; with `free_memory`, run Python's garbage collector too."""
    import gc

    from lamina.backend import global_state

    global_state.reset()
    if free_memory:
        gc.collect()


def get_uid(prefix: str = "") -> int:
    """1 on the first call with this prefix, then 2, 3, ... until `clear_session`."""
    from lamina.backend import global_state

    global_state.uid_counts[prefix] += 1
    return global_state.uid_counts[prefix]


def require_training(what: str) -> None:
    """Raise if the active backend cannot train (numpy is inference only)."""
    active = selection()
    if active.name in TRAINING_BACKENDS:
        return
    if active.source == "fallback":
        advice = f"{active.reason}; install one with {INSTALL_HINT}."
    else:
        advice = "choose torch or jax with LAMINA_BACKEND or lamina.backend.set_backend."
    raise RuntimeError(f"{what} needs a training backend ({' or '.join(TRAINING_BACKENDS)}); the active backend "
                       f"is {active.name!r}, which only runs inference: {advice}")
