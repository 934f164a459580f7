"""Model.export: the model's inference forward pass as an ONNX file or a torch.export program."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lamina.export import programs
from lamina.export import signature as signatures


def export_model(model: Any, filepath: Any, format: str = "tf_saved_model", verbose: bool | None = None,
                 input_signature: Any = None, **kwargs: Any) -> None:
    """Write `model`'s forward pass (`call` with training=False) for inference without Lamina.

    format="onnx": an ONNX model (run it with onnxruntime.InferenceSession); keyword opset_version.
    format="torch": a torch.export ExportedProgram (`.pt2`; torch.export.load(path).module()(x)); keywords
    strict, dynamic_shapes, prefer_deferred_runtime_asserts_over_guards, preserve_module_call_signature.
    A filepath naming a folder (existing, or ending with "/") receives model.onnx or model.pt2. Both go through
    torch.export on the torch backend, with a batch axis of any size (and any other axis the signature leaves
    as None). The file is written to a temporary file in the same folder and renamed, so that it appears whole.
    """
    programs.check_format(format)
    if format == "onnx":
        options = programs.split_options(kwargs, ("opset_version",), "export(format='onnx')")
    else:
        options = programs.split_options(kwargs, programs.TORCH_OPTIONS, "export(format='torch')")
    programs.require_torch(format)
    signature = signatures.model_signature(model) if input_signature is None \
        else signatures.normalize_signature(input_signature)
    if format == "onnx":
        path = programs.file_target(filepath, "model.onnx", None, "export(format='onnx')")
        program = _capture_model(model, signature, {})
        data = programs.onnx_bytes(program, signature, _output_names(model), options.get("opset_version"))
        programs.write_bytes(path, data)
    else:
        path = programs.file_target(filepath, "model.pt2", ".pt2", "export(format='torch')")
        programs.write_program(path, _capture_model(model, signature, options))
    if verbose is None or verbose:
        kind = "ONNX model" if format == "onnx" else "PyTorch ExportedProgram"
        print(f"Saved {kind} at '{Path(path)}'.")


def _capture_model(model: Any, signature: list, options: dict) -> Any:
    def forward(*arguments: Any) -> Any:
        return model(*arguments, training=False)

    return programs.capture(forward, signature, [*model.weights, *model.seed_state_variables], options)


def _output_names(model: Any) -> list[str]:
    try:
        return list(model.output_names)
    except (AttributeError, ValueError):
        return []
