"""scikit-learn estimators around a compiled model: SKLearnClassifier, SKLearnRegressor, SKLearnTransformer.

scikit-learn is imported when one of them is first asked for, so `import lamina` does not pay for it.
"""

from __future__ import annotations

import importlib

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


def __getattr__(name: str) -> object:
    if name in __all__:
        return getattr(importlib.import_module("lamina.wrappers.sklearn_wrapper"), name)
    raise AttributeError(f"module 'lamina.wrappers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
