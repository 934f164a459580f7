"""Symbolic tensors: shapes and dtypes flowing through a model before any data exists."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from lamina import backend
from lamina.backend.common import standardize_dtype
from lamina.utils import tree


class KerasTensor:
    """A placeholder with a shape (None for unknown sizes) and a dtype, and the layer call that made it."""

    def __init__(self, shape: Sequence[int | None], dtype: Any = "float32", name: str | None = None,
                 history: Any = None) -> None:
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = standardize_dtype(dtype)
        self.name = name
        self._history = history  # (layer, node_index, tensor_index) once a layer produced it

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape} dtype={self.dtype}" + (f" name={self.name}>" if self.name else ">")

    def __bool__(self) -> bool:
        raise TypeError("A symbolic tensor has no truth value: it holds no data yet.")


def is_symbolic(x: Any) -> bool:
    return any(isinstance(t, KerasTensor) for t in tree.flatten(x))


def is_shape(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)


def symbolic_inputs(shapes: Any, dtype: Any = "float32") -> Any:
    """KerasTensors for a shape, or for a list or dict of shapes."""
    if is_shape(shapes):
        return KerasTensor(shapes, dtype)
    if isinstance(shapes, dict):
        return {key: symbolic_inputs(value, dtype) for key, value in shapes.items()}
    return [symbolic_inputs(shape, dtype) for shape in shapes]


def _concrete(shape: tuple[int | None, ...], fill: int) -> tuple[int, ...]:
    return tuple(fill if d is None else d for d in shape)


def compute_output_spec(fn: Callable[..., Any], inputs: Any) -> Any:
    """Run fn on stand-ins for the KerasTensors in `inputs`; returns KerasTensors for its outputs.

    Unknown sizes are tried as 2 and then 3: an output size that follows them is unknown too.
    """
    flat = tree.flatten(inputs)
    positions = [i for i, t in enumerate(flat) if isinstance(t, KerasTensor)]
    has_unknown = any(None in flat[i].shape for i in positions)

    def run(fill: int) -> list[Any]:
        specs = [(_concrete(flat[i].shape, fill), flat[i].dtype) for i in positions]

        def flat_fn(*tensors: Any) -> Any:
            filled = list(flat)
            for i, tensor in zip(positions, tensors):
                filled[i] = tensor
            return fn(tree.unflatten_as(inputs, filled))

        outputs = backend.impl.compute_output_spec(flat_fn, specs)
        return outputs

    first = run(2)
    flat_first = tree.flatten(first)
    shapes = [tuple(backend.impl.shape(t)) for t in flat_first]
    if has_unknown:
        second = tree.flatten(run(3))
        shapes = [tuple(a if a == b else None for a, b in zip(s, backend.impl.shape(t)))
                  if len(s) == len(backend.impl.shape(t)) else s for s, t in zip(shapes, second)]
    specs = [KerasTensor(shape, backend.impl.dtype_of(t)) for shape, t in zip(shapes, flat_first)]
    return tree.unflatten_as(first, specs)
