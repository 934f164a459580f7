"""Backend selection: the one seam between Lamina and the array libraries.

The backend is chosen once, at import: the ``LAMINA_BACKEND`` environment
variable, else ``~/.lamina/lamina.json`` (``{"backend": "jax"}``), else
``"torch"``. ``impl`` is the chosen backend package; everything above this
package reaches torch, jax or numpy only through it.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Iterator

BACKENDS = ("torch", "jax", "numpy")
TRAINING_BACKENDS = ("torch", "jax")


def _configured_name() -> str:
    name = os.environ.get("LAMINA_BACKEND")
    if name:
        return name
    config_file = Path(os.environ.get("LAMINA_HOME", Path.home() / ".lamina")) / "lamina.json"
    if config_file.is_file():
        try:
            name = json.loads(config_file.read_text()).get("backend")
        except (ValueError, AttributeError) as error:
            raise ValueError(f"{config_file} is not a valid Lamina config: {error}") from None
        if name:
            return name
    return "torch"


def _load(name: str) -> ModuleType:
    if name not in BACKENDS:
        raise ValueError(f"Unknown backend {name!r}: expected one of {', '.join(BACKENDS)}.")
    return importlib.import_module(f"lamina.backend.{name}")


impl: ModuleType = _load(_configured_name())


def backend() -> str:
    """The name of the active backend: ``"torch"``, ``"jax"`` or ``"numpy"``."""
    return impl.NAME


def set_backend(name: str) -> None:
    """Switch the active backend; objects built before keep their old tensors."""
    global impl
    impl = _load(name)


@contextlib.contextmanager
def use(name: str) -> Iterator[ModuleType]:
    """Run a block under another backend, then restore the previous one."""
    previous = impl
    set_backend(name)
    try:
        yield impl
    finally:
        set_backend(previous.NAME)


def require_training(what: str) -> None:
    """Raise if the active backend cannot train (numpy is inference only)."""
    if impl.NAME not in TRAINING_BACKENDS:
        raise RuntimeError(
            f"{what} needs a training backend ({' or '.join(TRAINING_BACKENDS)}); "
            f"the active backend is {impl.NAME!r}, which only runs inference."
        )
