"""plot_model and model_to_dot (a model's layer graph, drawn by Graphviz through pydot) and plot_history.

The graph is written as DOT text here; pydot parses it into the `pydot.Dot` that model_to_dot returns,
and Graphviz's `dot` program renders it in plot_model.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

__all__ = ["model_to_dot", "plot_history", "plot_model"]

PYDOT_MISSING = "You must install pydot (`pip install pydot`) for {caller} to work."
GRAPHVIZ_MISSING = ("You must install Graphviz, whose `dot` program draws the graph (see "
                    "https://graphviz.gitlab.io/download/: e.g. `apt install graphviz`, `brew install graphviz` or "
                    "`conda install graphviz`), for {caller} to work.")


def _pydot(caller: str) -> Any:
    try:
        import pydot
    except ImportError as error:
        raise ImportError(PYDOT_MISSING.format(caller=caller)) from error
    return pydot


def _layer_graph(model: Any) -> tuple[list[Any], list[tuple[Any, Any]], dict[int, Any]]:
    """(layers in drawing order, (source, destination) layer pairs, first call node of each layer by id)."""
    from lamina.utils.summary import _nodes_in

    calls = _nodes_in(model)
    if not calls:  # Sequential without a graph, or a subclassed model: a chain of its layers
        layers = list(model.layers)
        return layers, list(zip(layers, layers[1:])), {}
    layers: list[Any] = []
    edges: list[tuple[Any, Any]] = []
    for layer_calls in calls.values():
        for _, node in layer_calls:
            for tensor in node.input_tensors:
                if tensor._history is not None:
                    source = tensor._history[0]
                    destination = node.layer
                    if (source, destination) not in edges:
                        edges.append((source, destination))
    found = {id(layer): layer for pair in edges for layer in pair}
    order = {id(layer): i for i, layer in enumerate(getattr(model, "layers", []))}
    for layer in list(found.values()) + [t._history[0] for t in model.outputs if t._history is not None]:
        if layer not in layers:
            layers.append(layer)
    layers.sort(key=lambda layer: order.get(id(layer), -1))
    first_calls = {key: layer_calls[0][1] for key, layer_calls in calls.items()}
    return layers, edges, first_calls


def _shape_text(tensors: Any) -> str:
    from lamina.utils import tree

    shapes = [tuple(t.shape) for t in tree.flatten(tensors)]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _label(layer: Any, node: Any, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        name = getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)
        lines.append(f"Activation: {name}")
    if show_dtype:
        lines.append(f"dtype: {getattr(layer, 'dtype', '?')}")
    if show_shapes:
        if node is not None:
            lines.append(f"Input shape: {_shape_text(node.input_tensors) if node.input_tensors else '-'}")
            lines.append(f"Output shape: {_shape_text(node.outputs)}")
        elif getattr(layer, "_inbound_nodes", None):
            lines.append(f"Output shape: {_shape_text(layer._inbound_nodes[-1].outputs)}")
    if show_trainable:
        lines.append(f"Trainable: {bool(getattr(layer, 'trainable', True))}")
    return "\\n".join(line.replace('"', '\\"') for line in lines)


def dot_source(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
               rankdir: str = "TB", dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, splines: str = "ortho") -> str:
    """The model's layer graph as Graphviz DOT text: one box per layer, one arrow per connection."""
    if not getattr(model, "built", True):
        raise ValueError("This model has not yet been built: build it first by calling build() or by calling the "
                         "model on a batch of data.")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir must be 'TB' (vertical) or 'LR' (horizontal), got {rankdir!r}.")
    layers, edges, first_calls = _layer_graph(model)
    lines = ["digraph G {", f"rankdir={rankdir};", "concentrate=true;", f"dpi={int(dpi)};", f'splines="{splines}";',
             "node [shape=box];"]
    for layer in layers:
        label = _label(layer, first_calls.get(id(layer)), show_shapes, show_dtype, show_layer_names,
                       show_layer_activations, show_trainable)
        lines.append(f'"{id(layer)}" [label="{label}"];')
    lines += [f'"{id(source)}" -> "{id(destination)}" [penwidth=2];' for source, destination in edges]
    lines.append("}")
    return "\n".join(lines)


def model_to_dot(model: Any, show_shapes: bool = False, show_dtype: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200, subgraph: bool = False,
                 show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
                 **kwargs: Any) -> Any:
    """The model's layer graph as a `pydot.Dot` (nested models are drawn as one box each)."""
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    source = dot_source(model, show_shapes, show_dtype, show_layer_names, rankdir, dpi, show_layer_activations,
                        show_trainable, splines)
    pydot = _pydot("model_to_dot")
    return pydot.graph_from_dot_data(source)[0]


def plot_model(model: Any, to_file: str = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
               **kwargs: Any) -> Any:
    """Draw the model's layer graph into `to_file` (format from its extension, PNG without one).

    Returns an IPython Image of the file when IPython is installed (not for PDF), else None.
    """
    _pydot("plot_model")
    if shutil.which("dot") is None:
        raise ImportError(GRAPHVIZ_MISSING.format(caller="plot_model"))
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                       splines=splines, **kwargs)
    to_file = str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None


def plot_history(history: Any, metrics: Any = None, to_file: str | None = None) -> Any:
    """Draw loss and metrics per epoch with matplotlib: one panel per metric, its val_ twin on the same axes.

    `history` is what fit returns (or its `.history` dict); saved to `to_file` if given. Returns the figure.
    """
    try:
        import matplotlib.pyplot as plt  # without a display, matplotlib picks a backend that draws to files
    except ImportError as error:
        raise ImportError("You must install matplotlib (`pip install matplotlib`) for plot_history to work.") \
            from error
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"history must be what fit returns (or its .history dict), got {type(history).__name__}.")
    if metrics is None:  # the loss first, then the metrics in the order fit logged them
        names = sorted((name for name in logs if not name.startswith("val_")), key=lambda name: name != "loss")
    else:
        names = list(metrics)
    if not names:
        raise ValueError(f"metrics must name at least one logged value; the history has {sorted(logs)}.")
    missing = [name for name in names if name not in logs]
    if missing:
        raise ValueError(f"metrics {missing} are not in the history, which has {sorted(logs)}.")
    figure, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3), squeeze=False)
    for axis, name in zip(axes[0], names):
        epochs = range(1, len(logs[name]) + 1)
        axis.plot(epochs, logs[name], label=name)
        if f"val_{name}" in logs:
            axis.plot(epochs, logs[f"val_{name}"], label=f"val_{name}")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.legend()
    figure.tight_layout()
    if to_file is not None:
        figure.savefig(to_file)
    return figure
