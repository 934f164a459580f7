"""Input signatures: the shapes and dtypes an exported function takes, and sample inputs to trace it with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lamina import backend
from lamina.utils import tree

# Sizes the sample inputs give to unknown axes: above 1, which tracing would fix as a constant, and unequal,
# so that no two unknown axes are taken to be the same size.
SAMPLE_BATCH = 2
SAMPLE_OTHER = 3


@dataclass(frozen=True)
class TensorSpec:
    """One input: its shape (None for a size chosen at run time), dtype and optional name."""

    shape: tuple
    dtype: str
    name: str | None = None


def model_signature(model: Any) -> list:
    """The inputs `model` is called with, as a list of positional arguments (each a TensorSpec or a structure
    of them), with a dynamic batch axis."""
    if not getattr(model, "built", False):
        raise ValueError(f"Model {model.name!r} has not been built yet, so its inputs are unknown: call it on data, "
                         "fit it, or call model.build(input_shape) before exporting it, or pass input_signature.")
    if hasattr(model, "_inputs_structure"):  # functional: one argument holding the inputs' structure
        return [tree.map_structure(_from_symbolic, model._inputs_structure)]
    inputs = _defined_inputs(model)
    if inputs is not None:
        return [tree.map_structure(_from_symbolic, inputs[0] if len(inputs) == 1 else inputs)]
    shapes = getattr(model, "_build_shapes", None)
    if shapes is None:
        raise ValueError(f"Model {model.name!r} does not know the shape of its inputs: pass input_signature (e.g. "
                         "[lamina.Input(shape=(3,))]) to export it.")
    return [_specs_of_shapes(shapes)]


def _defined_inputs(model: Any) -> list | None:
    """A Sequential model's symbolic inputs, when it has them."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return list(inputs) if inputs else None


def _specs_of_shapes(shapes: Any) -> Any:
    if isinstance(shapes, dict):
        return {key: _specs_of_shapes(value) for key, value in shapes.items()}
    if isinstance(shapes, (list, tuple)) and shapes and all(d is None or isinstance(d, int) for d in shapes):
        return TensorSpec((None, *shapes[1:]), backend.floatx())
    if isinstance(shapes, (list, tuple)):
        return type(shapes)(_specs_of_shapes(item) for item in shapes)
    raise ValueError(f"Cannot read an input shape from {shapes!r}: pass input_signature to export this model.")


def _from_symbolic(tensor: Any) -> TensorSpec:
    return TensorSpec((None, *tuple(tensor.shape)[1:]), backend.standardize_dtype(tensor.dtype),
                      getattr(tensor, "name", None))


def normalize_signature(signature: Any) -> list:
    """A user's input_signature as a list of positional arguments whose leaves are TensorSpecs.

    Leaves may be symbolic tensors (lamina.Input), backend tensors or NumPy arrays, whose batch axis becomes
    dynamic as in Keras, or any object with `shape` and `dtype` (a tf.TensorSpec, a Keras InputSpec), whose
    None sizes are dynamic.
    """
    if not isinstance(signature, (list, tuple)):
        signature = [signature]
    return [tree.map_structure(_leaf_spec, argument) for argument in signature]


def _leaf_spec(leaf: Any) -> TensorSpec:
    if isinstance(leaf, (np.ndarray, np.generic)) or backend.impl.is_tensor(leaf) or _is_symbolic(leaf):
        shape = tuple(leaf.shape)
        return TensorSpec((None, *shape[1:]) if shape else shape, backend.standardize_dtype(leaf.dtype),
                          getattr(leaf, "name", None) if _is_symbolic(leaf) else None)
    shape = getattr(leaf, "shape", None)
    if shape is None or isinstance(leaf, (int, float, str)) or not hasattr(leaf, "dtype"):
        raise ValueError("input_signature must hold lamina.Input(...) tensors, arrays, or specs with a shape and a "
                         f"dtype (one per model input), got {leaf!r} ({type(leaf).__name__}).")
    try:
        dims = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_signature: the shape {shape!r} of {leaf!r} must hold ints and None.") from None
    name = getattr(leaf, "name", None)
    return TensorSpec(dims, backend.standardize_dtype(leaf.dtype or backend.floatx()),
                      name if isinstance(name, str) else None)


def _is_symbolic(value: Any) -> bool:
    from lamina.ops.symbolic import KerasTensor

    return isinstance(value, KerasTensor)


def flat_specs(signature: list) -> list[TensorSpec]:
    return tree.flatten(signature)


def sample_inputs(specs: list[TensorSpec], batch: int = SAMPLE_BATCH, other: int = SAMPLE_OTHER) -> list[np.ndarray]:
    """Zeros of each spec's shape (unknown sizes filled in) and dtype, to trace with."""
    samples = []
    for spec in specs:
        shape = tuple(d if d is not None else batch if axis == 0 else other for axis, d in enumerate(spec.shape))
        samples.append(np.zeros(shape, dtype=spec.dtype))
    return samples


def dynamic_axes(specs: list[TensorSpec]) -> list[tuple[int, ...]]:
    return [tuple(axis for axis, d in enumerate(spec.shape) if d is None) for spec in specs]


def input_names(specs: list[TensorSpec]) -> list[str]:
    """Each input's name, or input_<i>; names made unique."""
    names: list[str] = []
    for index, spec in enumerate(specs):
        name = spec.name or f"input_{index}"
        names.append(name if name not in names else f"{name}_{index}")
    return names


def describe(specs: list[TensorSpec]) -> list[dict]:
    """The specs as JSON-ready dicts."""
    return [{"name": name, "shape": list(spec.shape), "dtype": spec.dtype}
            for name, spec in zip(input_names(specs), specs)]
