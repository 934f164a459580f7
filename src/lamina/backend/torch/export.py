"""What exporting needs from torch: a forward pass captured by torch.export, saved as .pt2, or turned into ONNX.

A Lamina Variable is itself a torch Parameter, so a small Module that registers the variables and calls the
model's forward lets torch.export (strict mode: TorchDynamo follows Lamina's Python code) see the weights as
the program's parameters and everything else as a graph of ATen ops. The non-strict mode cannot be used: it
swaps a module's parameters for fake tensors through the module's attributes, and Lamina's layers read their
variables from their own attributes instead.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from typing import Any, BinaryIO, Callable, Iterator, Sequence

import numpy as np
import torch

from lamina.backend.torch.core import DEVICE, Variable

__all__ = ["export_program", "program_to_onnx", "save_program"]

BATCH = "batch"


class _Forward(torch.nn.Module):
    """Holds the variables as parameters (so that they become the program's weights) and runs fn."""

    def __init__(self, fn: Callable[..., Any], variables: Sequence[Any]) -> None:
        super().__init__()
        self._fn = fn
        seen: set[int] = set()
        for index, variable in enumerate(variables):
            if isinstance(variable, torch.nn.Parameter) and id(variable) not in seen:
                seen.add(id(variable))
                # named after the variable's path (dense/kernel -> dense_kernel): the names the weights get in
                # the program's state_dict and among the ONNX initializers
                name = re.sub(r"\W", "_", str(getattr(variable, "path", "") or "")) or "weight"
                self.register_parameter(name if not hasattr(self, name) else f"{name}_{index}", variable)

    def forward(self, *inputs: Any) -> Any:
        return self._fn(*inputs)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the notes torch prints while tracing (side effects on thread-locals, optional torchvision ops)."""
    names = ("torch.onnx", "torch._dynamo", "torch.export", "torch._export", "torch._subclasses", "torch.fx",
             "torch._guards")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)  # a failure is raised with its message; the log would repeat it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _dynamic_shapes(dynamic_axes: Sequence[Sequence[int]]) -> tuple:
    """Axis 0 of every input is the one shared batch size; other listed axes each take their own size."""
    batch = torch.export.Dim(BATCH)
    shapes = []
    for axes in dynamic_axes:
        shapes.append({axis: batch if axis == 0 else torch.export.Dim.DYNAMIC for axis in axes} or None)
    return tuple(shapes)


def _plain(tensor: torch.Tensor) -> torch.Tensor:
    """A Variable's value as a torch Parameter of the base class, so that the program loads without Lamina."""
    value = tensor.detach().clone().as_subclass(torch.Tensor)
    return torch.nn.Parameter(value, requires_grad=False) if isinstance(tensor, torch.nn.Parameter) else value


def export_program(fn: Callable[..., Any], variables: Sequence[Any], inputs: Sequence[Any],
                   dynamic_axes: Sequence[Sequence[int]], options: dict | None = None) -> Any:
    """fn(*inputs) as a torch.export ExportedProgram whose weights are the variables and whose listed axes
    (per input; axis 0 is the batch, shared by every input) take any size."""
    options = dict(options or {})
    options.setdefault("strict", True)
    given = options.get("dynamic_shapes")
    if given is None:
        given = _dynamic_shapes(dynamic_axes)
    elif isinstance(given, dict) and len(inputs) == 1:  # {axis: Dim} for a single input, as Keras takes it
        given = (given,)
    options["dynamic_shapes"] = (tuple(given),)  # forward takes *inputs: one tuple of per-input specs
    samples = tuple(torch.as_tensor(np.asarray(x), device=DEVICE) for x in inputs)
    with _quiet(), torch.no_grad():
        try:
            program = torch.export.export(_Forward(fn, variables), samples, **options)
        except KeyError as error:  # torch could not name a parameter it met: one the module does not hold
            raise ValueError(f"The function reads a variable that is not among the exported ones ({error}): track "
                             "the layer or model that holds it.") from error
        except Exception as error:
            summary = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise RuntimeError(f"torch.export could not capture the model: {summary} The usual causes: an axis "
                               "the input signature leaves open (None) that the model needs fixed, such as the time "
                               "axis of a recurrent layer (give it a size: lamina.Input(shape=(20,)) rather than "
                               "(None,)); control flow on tensor values; an operation torch.export does not "
                               "support.") from error
    for key, value in list(program.state_dict.items()):
        if isinstance(value, Variable):
            program.state_dict[key] = _plain(value)
    for key, value in list(program.constants.items()):
        if isinstance(value, Variable):
            program.constants[key] = _plain(value)
    return program


def save_program(program: Any, stream: BinaryIO) -> None:
    """Write an ExportedProgram (.pt2) to an open binary stream."""
    with _quiet():
        torch.export.save(program, stream)


def program_to_onnx(program: Any, input_names: Sequence[str], output_names: Sequence[str],
                    opset_version: int | None = None) -> bytes:
    """The ExportedProgram as the bytes of an ONNX model, through torch's dynamo-based ONNX exporter.

    The older TorchScript exporter (dynamo=False) traces with concrete sizes: it fails on LayerNormalization's
    shapes inside a Transformer block and would fix sizes computed in Python; translating the program that
    torch.export already made keeps the batch axis symbolic throughout.
    """
    count = len(program.graph_signature.user_outputs)
    if len(output_names) != count or len(set(output_names)) != count:
        output_names = [f"output_{index}" for index in range(count)]
    try:
        import onnxscript  # noqa: F401  (torch's ONNX exporter needs it, and onnx)
    except ImportError as error:
        raise ImportError('ONNX export needs the onnx and onnxscript packages: pip install "lamina[export]"') \
            from error
    with _quiet():
        onnx_program = torch.onnx.export(program, (), input_names=list(input_names),
                                         output_names=list(output_names), opset_version=opset_version,
                                         dynamo=True, verbose=False, optimize=True)
    model = onnx_program.model_proto
    _name_batch_axis(model)
    return model.SerializeToString()


def _name_batch_axis(model: Any) -> None:
    """torch names dynamic sizes s0, s1, ...: the one shared by the inputs' axis 0 is called "batch" instead."""
    graph = model.graph
    symbols = {value.type.tensor_type.shape.dim[0].dim_param for value in graph.input
               if value.type.tensor_type.shape.dim}
    symbols.discard("")
    if len(symbols) != 1:
        return
    pattern = re.compile(rf"\b{re.escape(symbols.pop())}\b")
    for value in [*graph.input, *graph.output, *graph.value_info]:
        for dim in value.type.tensor_type.shape.dim:
            if dim.dim_param:
                dim.dim_param = pattern.sub(BATCH, dim.dim_param)
