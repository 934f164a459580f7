"""What JaxLayer needs from jax: its pytrees of parameters flattened to leaves and rebuilt."""

from __future__ import annotations

from typing import Any

import jax

__all__ = ["call_module", "flatten_pytree", "unflatten_pytree", "wrap_module_parameters"]


def flatten_pytree(tree: Any) -> tuple[list, Any]:
    """The leaves of a pytree, and what rebuilds it from new leaves."""
    return jax.tree_util.tree_flatten(tree)


def unflatten_pytree(treedef: Any, leaves: Any) -> Any:
    return jax.tree_util.tree_unflatten(treedef, list(leaves))


def _needs_torch(what: str) -> None:
    raise ValueError(f"{what} wraps a torch.nn.Module and needs the torch backend; the active backend is jax. "
                     "Set LAMINA_BACKEND=torch.")


def wrap_module_parameters(module: Any, input_shape: Any = None) -> Any:
    _needs_torch("TorchModuleWrapper")


def call_module(module: Any, args: Any, kwargs: Any, training: Any = None) -> Any:
    _needs_torch("TorchModuleWrapper")
