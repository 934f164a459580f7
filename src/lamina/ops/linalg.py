"""keras.ops.linalg: decompositions, solves and norms."""

from __future__ import annotations

from lamina.ops.dispatch import family_getattr

# Ops the backend provides under the same name (see lamina.backend.contract).
NAMES = tuple(("cholesky cholesky_inverse det eig eigh inv jvp lstsq lu_factor matrix_rank norm pinv qr solve "
               "solve_triangular svd").split())
# Ops written here from other ops.
COMPOSED: tuple[str, ...] = ()

__all__ = [*NAMES, *COMPOSED]
__getattr__ = family_getattr(__name__, NAMES)
