"""model.summary(): a table of layers, output shapes and parameter counts."""

from __future__ import annotations

from typing import Any


def _output_shape(layer: Any) -> str:
    if not layer._inbound_nodes:
        return "?"
    outputs = layer._inbound_nodes[-1].outputs
    shapes = [t.shape for t in (outputs if isinstance(outputs, (list, tuple)) else [outputs])]
    return str(shapes[0]) if len(shapes) == 1 else str(shapes)


def _params(layer: Any) -> int:
    return sum(int(_size(v.shape)) for v in layer.weights)


def _size(shape: Any) -> int:
    total = 1
    for dim in shape:
        total *= int(dim)
    return total


def format_summary(model: Any, width: int = 80) -> str:
    """The summary text, one row per layer, with totals (trainable and not)."""
    columns = (int(width * 0.45), int(width * 0.35), width - int(width * 0.45) - int(width * 0.35))
    row = lambda cells: "".join(str(c).ljust(w)[:w] for c, w in zip(cells, columns)).rstrip()  # noqa: E731
    lines = [f'Model: "{model.name}"', "━" * width, row(("Layer (type)", "Output Shape", "Param #")), "━" * width]
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        lines.append(row((f"{layer.name} ({type(layer).__name__})", _output_shape(layer), f"{_params(layer):,}")))
    lines.append("━" * width)
    trainable = sum(_size(v.shape) for v in model.trainable_weights)
    frozen = sum(_size(v.shape) for v in model.non_trainable_weights)
    lines += [f" Total params: {trainable + frozen:,}", f" Trainable params: {trainable:,}",
              f" Non-trainable params: {frozen:,}"]
    return "\n".join(lines)
