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

    def __iter__(self) -> Any:
        raise TypeError("A symbolic tensor cannot be iterated over: index it (x[:, 0]) or use ops.unstack / "
                        "ops.split instead.")

    # Operators build graph nodes through the public ops, as the ops themselves do on symbolic inputs.
    __hash__ = object.__hash__
    __array_ufunc__ = None  # NumPy defers to the reflected operators below (np.float32(2) * x)

    def __getitem__(self, key: Any) -> "KerasTensor":
        from lamina.ops import dispatch

        return dispatch.symbolic_op("get_item", dispatch.get_item, (self, key), {})

    def __neg__(self) -> "KerasTensor":
        return _op("negative", self)

    def __pos__(self) -> "KerasTensor":
        return self

    def __abs__(self) -> "KerasTensor":
        return _op("abs", self)

    def __invert__(self) -> "KerasTensor":
        return _op("logical_not", self)

    def __add__(self, other: Any) -> "KerasTensor":
        return _op("add", self, other)

    def __radd__(self, other: Any) -> "KerasTensor":
        return _op("add", other, self)

    def __sub__(self, other: Any) -> "KerasTensor":
        return _op("subtract", self, other)

    def __rsub__(self, other: Any) -> "KerasTensor":
        return _op("subtract", other, self)

    def __mul__(self, other: Any) -> "KerasTensor":
        return _op("multiply", self, other)

    def __rmul__(self, other: Any) -> "KerasTensor":
        return _op("multiply", other, self)

    def __truediv__(self, other: Any) -> "KerasTensor":
        return _op("divide", self, other)

    def __rtruediv__(self, other: Any) -> "KerasTensor":
        return _op("divide", other, self)

    def __floordiv__(self, other: Any) -> "KerasTensor":
        return _op("floor_divide", self, other)

    def __rfloordiv__(self, other: Any) -> "KerasTensor":
        return _op("floor_divide", other, self)

    def __mod__(self, other: Any) -> "KerasTensor":
        return _op("mod", self, other)

    def __rmod__(self, other: Any) -> "KerasTensor":
        return _op("mod", other, self)

    def __pow__(self, other: Any) -> "KerasTensor":
        return _op("power", self, other)

    def __rpow__(self, other: Any) -> "KerasTensor":
        return _op("power", other, self)

    def __matmul__(self, other: Any) -> "KerasTensor":
        return _op("matmul", self, other)

    def __rmatmul__(self, other: Any) -> "KerasTensor":
        return _op("matmul", other, self)

    def __and__(self, other: Any) -> "KerasTensor":
        return _op("logical_and", self, other)

    def __rand__(self, other: Any) -> "KerasTensor":
        return _op("logical_and", other, self)

    def __or__(self, other: Any) -> "KerasTensor":
        return _op("logical_or", self, other)

    def __ror__(self, other: Any) -> "KerasTensor":
        return _op("logical_or", other, self)

    def __xor__(self, other: Any) -> "KerasTensor":
        return _op("logical_xor", self, other)

    def __rxor__(self, other: Any) -> "KerasTensor":
        return _op("logical_xor", other, self)

    def __eq__(self, other: Any) -> "KerasTensor":  # type: ignore[override]
        return _op("equal", self, other)

    def __ne__(self, other: Any) -> "KerasTensor":  # type: ignore[override]
        return _op("not_equal", self, other)

    def __lt__(self, other: Any) -> "KerasTensor":
        return _op("less", self, other)

    def __le__(self, other: Any) -> "KerasTensor":
        return _op("less_equal", self, other)

    def __gt__(self, other: Any) -> "KerasTensor":
        return _op("greater", self, other)

    def __ge__(self, other: Any) -> "KerasTensor":
        return _op("greater_equal", self, other)


def _op(name: str, *args: Any) -> Any:
    """The public op `name` applied to args (one of them symbolic): a node of the graph."""
    import lamina.ops

    try:
        op = getattr(lamina.ops, name)
    except AttributeError:
        raise TypeError(f"This operator on a symbolic tensor needs the op {name!r}, which lamina.ops does not "
                        "provide yet.") from None
    return op(*args)


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
    tensors = [_is_array(t) for t in flat_first]
    shapes = [tuple(backend.impl.shape(t)) if is_array else None for t, is_array in zip(flat_first, tensors)]
    if has_unknown:
        second = tree.flatten(run(3))
        shapes = [tuple(a if a == b else None for a, b in zip(s, backend.impl.shape(t)))
                  if s is not None and len(s) == len(backend.impl.shape(t)) else s for s, t in zip(shapes, second)]
    specs = [KerasTensor(shape, backend.impl.dtype_of(t)) if is_array else t  # a plain value stays as it is
             for shape, t, is_array in zip(shapes, flat_first, tensors)]
    return tree.unflatten_as(first, specs)


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, (str, bytes))
