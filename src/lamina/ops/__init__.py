"""Public NumPy-like and neural-network ops, as keras.ops has them.

``lamina.ops.<name>`` finds the op in its family module (``lamina.ops.numpy``, ``nn``, ``linalg``,
``image``, or ``core`` for the rest), as ``keras.ops`` gathers its own submodules. Every op, dispatched or
composed, also takes the symbolic tensors of functional models (see ``lamina.ops.dispatch``).
"""

from __future__ import annotations

from typing import Any

from lamina.ops import core, dispatch, image, linalg, nn, numpy

_FAMILIES = (core, numpy, nn, linalg, image)
for _family in _FAMILIES:
    dispatch.wrap_composed(_family)
_HOME = {name: family for family in reversed(_FAMILIES) for name in family.__all__}
# Ops that indexing a symbolic tensor needs while no family provides them: written in dispatch (reachable by
# name, but listed in no family until one takes them over).
_OWN = {name: dispatch.symbolic_aware(name, getattr(dispatch, name)) for name in ("get_item",) if name not in _HOME}

__all__ = sorted(_HOME)


def backend_names() -> set[str]:
    """The op names that resolve directly to a backend function of the same name."""
    return {name for family in _FAMILIES for name in family.NAMES}


def __getattr__(name: str) -> Any:
    family = _HOME.get(name)
    if family is None:
        if name in _OWN:
            return _OWN[name]
        raise AttributeError(f"lamina.ops has no op {name!r}.")
    return getattr(family, name)


def __dir__() -> list[str]:
    return sorted({*__all__, "core", "image", "linalg", "nn", "numpy"})
