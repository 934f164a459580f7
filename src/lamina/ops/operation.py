"""Operation: one op applied to symbolic tensors, a node of a functional graph like a layer call."""

from __future__ import annotations

from typing import Any, Callable

from lamina.layers.layer import Layer, Node
from lamina.ops.symbolic import KerasTensor, compute_output_spec
from lamina.utils import naming, tree


class Operation(Layer):
    """The op `op` (a name in lamina.ops) as a graph node; it has no weights.

    `config` holds arguments stored with the op rather than with its call (as Keras files keep them).
    """

    _is_operation = True

    def __init__(self, op: str, function: Callable[..., Any] | None = None, name: str | None = None,
                 **config: Any) -> None:
        super().__init__(name=name or naming.unique_name(op))
        self.op = op
        self.function = function if function is not None else resolve(op)
        self.op_config = config
        self.built = True

    def call(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **self.op_config, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from lamina.ops.dispatch import has_symbolic

        if has_symbolic(args, kwargs):
            return self._symbolic_op_call(args, kwargs)
        return self.call(*args, **kwargs)

    def _symbolic_op_call(self, args: tuple, kwargs: dict) -> Any:
        outputs = compute_output_spec(lambda filled: self.call(*filled[0], **filled[1]), (args, kwargs))
        if not any(isinstance(t, KerasTensor) for t in tree.flatten(outputs)):
            return outputs  # not a tensor op (a dtype, a flag): its value, and no node
        node_index = len(self._inbound_nodes)
        for index, tensor in enumerate(tree.flatten(outputs)):
            tensor._history = (self, node_index, index)
        self._inbound_nodes.append(Node(self, tuple(args), dict(kwargs), outputs))
        return outputs

    def get_config(self) -> dict:
        return {"name": self.name, **self.op_config}

    def __repr__(self) -> str:
        return f"<Operation {self.op} name={self.name}>"


def resolve(op: str) -> Callable[..., Any]:
    """The public op of this name (for the active backend)."""
    import lamina.ops

    try:
        return getattr(lamina.ops, op)
    except AttributeError:
        raise ValueError(f"Unknown op {op!r}: lamina.ops has no op of this name.") from None
