"""Lamina on one backend: the Keras runner's program with `lamina` in place of `keras`.

The backend is chosen by LAMINA_BACKEND, set by the driver before the import. If
`lamina` is not installed in the interpreter, the repository's src/ is tried, so
the benchmark also runs from a plain checkout. Anything that fails while importing
Lamina is reported as "unavailable: <reason>".

Run by benchmarks/run.py; alone: LAMINA_BACKEND=torch python benchmarks/lamina_runner.py --backend torch --quick
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from keras_runner import Api, run

SOURCE = Path(__file__).resolve().parent.parent / "src"


def load_lamina() -> Api:
    try:
        import lamina
    except ModuleNotFoundError as error:
        if error.name != "lamina" or not (SOURCE / "lamina").is_dir():
            raise
        sys.path.insert(0, str(SOURCE))
        import lamina
    import lamina.layers
    import lamina.models

    layers = {name: _attribute(lamina.layers, "lamina.layers", name)
              for name in ("Dense", "Conv2D", "MaxPooling2D", "Flatten", "Embedding", "LSTM")}
    return Api(lamina, lamina.models.Sequential, lamina.Input, **layers, Callback=_callback_class(),
               set_random_seed=_seed_function(), backend_name=lamina.backend.backend, layers=lamina.layers,
               Model=lamina.models.Model)


def _attribute(module: ModuleType, where: str, name: str) -> Any:
    """module.name, or a stand-in that raises when used, so only the workloads needing it fail."""
    if hasattr(module, name):
        return getattr(module, name)

    def missing(*args: Any, **kwargs: Any) -> Any:
        raise ImportError(f"{where} has no {name} yet")

    return missing


def _seed_function() -> Any:
    """lamina.utils.set_random_seed (Keras's spelling), else where Lamina defines it."""
    import lamina.utils

    if not hasattr(lamina.utils, "set_random_seed"):
        import lamina.utils.seeding

        return lamina.utils.seeding.set_random_seed
    return lamina.utils.set_random_seed


def _callback_class() -> type:
    """lamina.callbacks.Callback; if it is missing, a class whose subclasses fail when instantiated."""
    try:
        from lamina.callbacks import Callback

        return Callback
    except ImportError as error:
        reason = f"{type(error).__name__}: {error}"

        class MissingCallback:
            def __init__(self) -> None:
                raise ImportError(f"timing a Lamina fit needs lamina.callbacks.Callback ({reason})")

        return MissingCallback


if __name__ == "__main__":
    run("lamina", load_lamina, "LAMINA_BACKEND")
