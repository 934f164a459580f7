"""keras.ops.numpy: the NumPy-like ops."""

from __future__ import annotations

from lamina.ops.dispatch import family_getattr

# Ops the backend provides under the same name (see lamina.backend.contract).
NAMES = tuple((
    "abs add arange argmax argmin broadcast_to ceil clip concatenate cos cumsum divide einsum equal exp "
    "expand_dims eye flip floor full greater greater_equal isnan less less_equal log log1p logical_and "
    "logical_not logical_or matmul max maximum mean min minimum multiply negative not_equal ones ones_like pad "
    "power prod repeat reshape round sign sin size split sqrt square squeeze stack std subtract sum take "
    "take_along_axis tanh tile transpose var where zeros zeros_like"
).split())
# Ops written here from other ops.
COMPOSED: tuple[str, ...] = ()

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)
