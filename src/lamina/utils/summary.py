"""model.summary(): a model's layers as a table drawn with rich, then its parameter counts and sizes.

A Sequential model (or a functional one that is a plain chain) gets the columns "Layer (type)",
"Output Shape" and "Param #"; any other functional model also gets "Connected to", which names
the layer outputs feeding each layer as `layer_name[node_index][tensor_index]`.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from lamina.backend.common import standardize_dtype
from lamina.layers.layer import Layer, Node

# Total width and column ends (fractions of it) without and with the "Connected to" column.
CHAIN_LINE_LENGTH, GRAPH_LINE_LENGTH = 84, 108
CHAIN_POSITIONS, GRAPH_POSITIONS = (0.45, 0.84, 1.0), (0.3, 0.6, 0.7, 1.0)
TRAINABLE_WIDTH = 12  # the "Trainable" column, added to the line length when shown
SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


@dataclass
class _Row:
    """One line of the table: a layer (indented when it sits inside a nested model)."""

    layer_and_type: str
    output_shape: str
    params: str
    connected_to: str
    trainable: str


def _nodes_in(model: Layer) -> dict[int, list[tuple[int, Node]]]:
    """The calls (node index, node) of each layer inside this model's graph, keyed by id(layer).

    Found by walking back from the model's outputs; empty for a subclassed model, whose
    inner calls are not recorded as a graph.
    """
    found: dict[int, list[tuple[int, Node]]] = {}
    seen: set[int] = set()
    pending = list(getattr(model, "outputs", None) or [])
    while pending:
        tensor = pending.pop()
        if tensor._history is None:
            continue
        layer, node_index, _ = tensor._history
        node = layer._inbound_nodes[node_index]
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.setdefault(id(layer), []).append((node_index, node))
        pending.extend(node.input_tensors)
    return {key: sorted(calls, key=lambda call: call[0]) for key, calls in found.items()}


def _is_functional(model: Layer) -> bool:
    from lamina.models.functional import Functional

    return isinstance(model, Functional)


def _is_chain(model: Layer, nodes: dict[int, list[tuple[int, Node]]]) -> bool:
    """Whether each layer is called once, on one input, and each output feeds at most one layer."""
    if not _is_functional(model):
        return True
    if len(model.inputs) > 1 or len(model.outputs) > 1:
        return False
    consumers: Counter = Counter()
    for calls in nodes.values():
        if len(calls) > 1:
            return False
        inputs = calls[0][1].input_tensors
        if len(inputs) > 1:
            return False
        consumers.update(id(tensor) for tensor in inputs)
    return all(count == 1 for count in consumers.values())


def _format_shapes(outputs: Any) -> str:
    from lamina.utils import tree

    shapes = [tuple(tensor.shape) for tensor in tree.flatten(outputs)]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _output_shape(layer: Layer, calls: list[tuple[int, Node]]) -> str:
    if calls:
        return _format_shapes(calls[0][1].outputs)
    if layer._inbound_nodes:  # a layer of a subclassed model: its last symbolic call
        return _format_shapes(layer._inbound_nodes[-1].outputs)
    return "?"


def _connected_to(calls: list[tuple[int, Node]]) -> str:
    sources = [f"{t._history[0].name}[{t._history[1]}][{t._history[2]}]"
               for _, node in calls for t in node.input_tensors if t._history is not None]
    return ", ".join(sources) or "-"


def _count(weights: Sequence[Any]) -> int:
    return sum(int(np.prod(weight.shape)) for weight in weights)


def _rows(model: Layer, layers: Sequence[Layer], level: int, expand_nested: bool) -> list[_Row]:
    from lamina.models.model import Model

    nodes = _nodes_in(model)
    rows = []
    for layer in layers:
        calls = nodes.get(id(layer), [])
        params = f"{_count(layer.weights):,}" if layer.built else "0 (unbuilt)"
        trainable = ("Y" if layer.trainable else "N") if layer.weights else "-"
        rows.append(_Row("  " * level + f"{layer.name} ({type(layer).__name__})", _output_shape(layer, calls),
                         params, _connected_to(calls), trainable))
        if expand_nested and isinstance(layer, Model) and layer.layers:
            rows.extend(_rows(layer, layer.layers, level + 1, expand_nested))
    return rows


def _layers_in_range(layers: list[Layer], layer_range: Sequence[str] | None) -> list[Layer]:
    """The layers from the first whose name matches layer_range[0] to the last matching layer_range[1]."""
    if layer_range is None:
        return layers
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be a pair of layer names (or patterns), got {layer_range!r}.")
    starts = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    ends = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not starts or not ends or starts[0] > ends[-1]:
        names = ", ".join(layer.name for layer in layers)
        raise ValueError(f"layer_range {list(layer_range)} selects no layers; the model's layers are: {names}.")
    return layers[starts[0]:ends[-1] + 1]


def _column_widths(positions: Sequence[float], line_length: int) -> list[int]:
    """Column widths from the columns' right ends, given as fractions of the line or in characters."""
    if all(p <= 1 for p in positions):
        positions = [int(line_length * p) for p in positions]
    ends = [int(p) for p in positions]
    widths = [end - start for start, end in zip([0, *ends], ends)]
    if any(width <= 0 for width in widths):
        raise ValueError(f"positions must increase, got {list(positions)}.")
    return widths


def readable_size(num_bytes: float) -> str:
    """A size in bytes as Keras writes it: `0.00 B`, `5.04 KB`, `1.50 MB`."""
    unit = 0
    while num_bytes >= 1024 and unit < len(SIZE_UNITS) - 1:
        num_bytes /= 1024
        unit += 1
    return f"{num_bytes:.2f} {SIZE_UNITS[unit]}"


def _bytes(weights: Sequence[Any]) -> int:
    def itemsize(dtype: Any) -> int:
        name = standardize_dtype(dtype)
        return 2 if name == "bfloat16" else np.dtype(name).itemsize

    return sum(int(np.prod(weight.shape)) * itemsize(weight.dtype) for weight in weights)


def _table(rows: list[_Row], headers: list[str], widths: list[int], show_trainable: bool) -> Table:
    table = Table(box=box.HEAVY_HEAD, show_lines=True)
    # A column's width runs to its right border: the content, one space each side and the border
    # (the first column also holds the table's left border).
    for index, (header, width) in enumerate(zip(headers, widths)):
        justify = "right" if header == "Param #" else "left"
        table.add_column(header, justify=justify, width=max(1, width - (4 if index == 0 else 3)), overflow="fold")
    if show_trainable:
        table.add_column("Trainable", justify="center", width=TRAINABLE_WIDTH - 3, no_wrap=True)
    for row in rows:
        cells = [row.layer_and_type, row.output_shape, row.params]
        if len(headers) == 4:
            cells.append(row.connected_to)
        if show_trainable:
            cells.append(row.trainable)
        table.add_row(*(Text(cell) for cell in cells))
    return table


def format_summary(model: Layer, line_length: int | None = None, positions: Sequence[float] | None = None,
                   expand_nested: bool = False, show_trainable: bool = False,
                   layer_range: Sequence[str] | None = None) -> str:
    """The summary text: the model's name, the table of its layers, then its parameter totals.

    A model not built yet is summarized as Keras does: shapes "?" and "0 (unbuilt)" parameters.
    """
    chain = _is_chain(model, _nodes_in(model))
    headers = ["Layer (type)", "Output Shape", "Param #"] + ([] if chain else ["Connected to"])
    line_length = line_length or (CHAIN_LINE_LENGTH if chain else GRAPH_LINE_LENGTH)
    positions = positions or (CHAIN_POSITIONS if chain else GRAPH_POSITIONS)
    if len(positions) != len(headers):
        raise ValueError(f"positions must give the end of each of the {len(headers)} columns "
                         f"({', '.join(headers)}), got {list(positions)}.")
    widths = _column_widths(positions, line_length)
    rows = _rows(model, _layers_in_range(model.layers, layer_range), 0, expand_nested)
    table = _table(rows, headers, widths, show_trainable)
    width = sum(widths) + (TRAINABLE_WIDTH if show_trainable else 0)
    output = io.StringIO()
    console = Console(file=output, width=width, color_system=None, highlight=False, emoji=False,
                      markup=False, force_terminal=False, force_jupyter=False, legacy_windows=False)
    console.print(table)
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    totals = [("Total", trainable + frozen), ("Trainable", trainable), ("Non-trainable", frozen)]
    lines = [f'Model: "{model.name}"', output.getvalue().rstrip("\n")]
    lines += [f" {label} params: {_count(weights):,} ({readable_size(_bytes(weights))})" for label, weights in totals]
    return "\n".join(lines)


def print_summary(model: Layer, line_length: int | None = None, positions: Sequence[float] | None = None,
                  print_fn: Callable[[str], Any] | None = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range: Sequence[str] | None = None) -> None:
    """Print the summary, or pass its whole text to `print_fn` (for example to log or save it).

    Args:
        line_length: the table's width in characters (default 84, or 108 with "Connected to").
        positions: where each column ends, as fractions of `line_length` or in characters.
        expand_nested: also list the layers inside nested models, indented.
        show_trainable: add a "Trainable" column (Y, N, or - for layers without weights).
        layer_range: two layer names (or regular expressions): list only the layers from the first
            match of the first to the last match of the second.
    """
    text = format_summary(model, line_length, positions, expand_nested, show_trainable, layer_range)
    (print_fn or print)(text)
