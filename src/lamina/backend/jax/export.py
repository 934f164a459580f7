"""Exported programs are torch's: on jax each export entry explains how to get one."""

from __future__ import annotations

from typing import Any, BinaryIO, Callable, Sequence

__all__ = ["export_program", "program_to_onnx", "save_program"]


def _needs_torch() -> None:
    raise ValueError("Exporting a model (format='onnx', format='torch', ExportArchive) needs the torch backend; the "
                     "active backend is jax. Save the model (model.save('m.keras')), load it with LAMINA_BACKEND=torch "
                     "and export it there: the weights carry over exactly.")


def export_program(fn: Callable[..., Any], variables: Sequence[Any], inputs: Sequence[Any],
                   dynamic_axes: Sequence[Sequence[int]], options: dict | None = None) -> Any:
    _needs_torch()


def save_program(program: Any, stream: BinaryIO) -> None:
    _needs_torch()


def program_to_onnx(program: Any, input_names: Sequence[str], output_names: Sequence[str],
                    opset_version: int | None = None) -> bytes:
    _needs_torch()
