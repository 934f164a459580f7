"""What TorchModuleWrapper needs from torch: a module's tensors turned into Variables, and its forward run."""

from __future__ import annotations

from typing import Any

import torch
import torch.utils._pytree as pytree

from lamina.backend.torch.core import DEVICE, Variable

__all__ = ["call_module", "flatten_pytree", "unflatten_pytree", "wrap_module_parameters"]


def _check_module(module: Any) -> None:
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"TorchModuleWrapper expected module to be a torch.nn.Module, got "
                        f"{type(module).__name__}: {module!r:.100}.")


def _has_lazy_parameters(module: torch.nn.Module) -> bool:
    return any(isinstance(t, torch.nn.parameter.UninitializedTensorMixin)
               for t in [*module.parameters(), *module.buffers()])


def _zeros(shape: Any) -> Any:
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [_zeros(s) for s in shape]
    return torch.zeros(tuple(1 if d is None else int(d) for d in shape), device=DEVICE)


def wrap_module_parameters(module: Any, input_shape: Any = None) -> list[tuple[str, Variable]] | None:
    """Replace the module's parameters and buffers in place by Variables, which the module then computes
    with: (state_dict key, Variable) pairs, parameters first. A module with lazy parameters is first run
    once on zeros of input_shape (None: returns None and changes nothing)."""
    _check_module(module)
    module.to(DEVICE)
    if _has_lazy_parameters(module):
        if input_shape is None:
            return None
        with torch.no_grad():
            module(_zeros(input_shape))
    wrapped: dict[int, Variable] = {}
    pairs: list[tuple[str, Variable]] = []
    for kind in ("_parameters", "_buffers"):
        for prefix, submodule in module.named_modules(remove_duplicate=False):
            table = getattr(submodule, kind)
            for name, tensor in list(table.items()):
                if tensor is None:
                    continue
                key = f"{prefix}.{name}" if prefix else name
                if id(tensor) not in wrapped:
                    if isinstance(tensor, Variable):
                        variable = tensor
                    else:
                        trainable = kind == "_parameters" and tensor.requires_grad
                        variable = Variable(tensor.detach(), trainable=trainable, name=key)
                    wrapped[id(tensor)] = variable
                    pairs.append((key, variable))
                table[name] = wrapped[id(tensor)]
    return pairs


def call_module(module: Any, args: Any, kwargs: Any, training: Any = None) -> Any:
    """The module's forward on these arguments, in training mode unless training is False."""
    _check_module(module)
    mode = training is not False
    if module.training != mode:
        module.train(mode)
    return module(*args, **kwargs)


def flatten_pytree(tree: Any) -> tuple[list, Any]:
    """The leaves of a nested structure, and what rebuilds it from new leaves."""
    return pytree.tree_flatten(tree)


def unflatten_pytree(treedef: Any, leaves: Any) -> Any:
    return pytree.tree_unflatten(list(leaves), treedef)
