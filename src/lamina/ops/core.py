"""The ops of keras.ops outside its numpy, nn, linalg and image families: tensors, control flow, math."""

from __future__ import annotations

from lamina.ops.dispatch import family_getattr

# Ops the backend provides under the same name (see lamina.backend.contract), by family.
TENSORS = ("cast", "convert_to_numpy", "convert_to_tensor", "shape", "stop_gradient")
CONTROL_FLOW: tuple[str, ...] = ()
MATH: tuple[str, ...] = ()
SIGNAL: tuple[str, ...] = ()
NAMES = (*TENSORS, *CONTROL_FLOW, *MATH, *SIGNAL)
# Ops written here from other ops.
COMPOSED: tuple[str, ...] = ()

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)
