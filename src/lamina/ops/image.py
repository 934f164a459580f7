"""keras.ops.image: resizing, affine transforms, crops and colour conversions."""

from __future__ import annotations

from lamina.ops.dispatch import family_getattr

# Ops the backend provides under the same name (see lamina.backend.contract).
NAMES: tuple[str, ...] = ()
# Ops written here from other ops.
COMPOSED: tuple[str, ...] = ()

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)
