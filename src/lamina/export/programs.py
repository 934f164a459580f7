"""Capturing a function as a program, and writing programs to disk atomically."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from lamina import backend
from lamina.export import signature as signatures
from lamina.saving.keras_file import atomic_write
from lamina.utils import tree

# Keras's format names, and what Lamina offers in place of those it does not write.
FORMATS = ("tf_saved_model", "onnx", "openvino", "litert", "torch")
WRITTEN = ("onnx", "torch")
_INSTEAD = {
    "tf_saved_model": "Lamina does not write TensorFlow SavedModels (TensorFlow is not one of its backends). "
                      "Export with format='onnx' (served by ONNX Runtime, Triton, OpenVINO and most serving stacks) "
                      "or format='torch' (a torch.export program), or keep the whole model with model.save('m.keras').",
    "openvino": "Lamina does not write OpenVINO IR: export with format='onnx', which OpenVINO reads directly "
                "(or converts with openvino.convert_model).",
    "litert": "Lamina does not write LiteRT (TFLite) files: export with format='torch' or format='onnx' and convert "
              "that file with a LiteRT converter.",
}
# torch.export.export's options that format="torch" and ExportArchive endpoints pass on.
TORCH_OPTIONS = ("strict", "dynamic_shapes", "prefer_deferred_runtime_asserts_over_guards",
                 "preserve_module_call_signature")


def check_format(format: Any, allowed: Sequence[str] = FORMATS) -> str:
    """The format if Lamina writes it; a clear error for an unknown one and for one Lamina does not write."""
    if not isinstance(format, str) or format not in allowed:
        raise ValueError(f"Unrecognized format={format!r}. Supported formats are: {list(allowed)} (Lamina writes "
                         f"{' and '.join(repr(f) for f in WRITTEN)}).")
    if format in _INSTEAD:
        raise ValueError(f"format={format!r}: {_INSTEAD[format]}")
    return format


def require_torch(format: str) -> None:
    """Exporting captures the model with torch.export: say how to get there from another backend."""
    name = backend.backend()
    if name != "torch":
        raise ValueError(f"format={format!r} export needs the torch backend (it captures the model with "
                         f"torch.export); the active backend is {name}. Save the model with model.save('m.keras'), "
                         "load it with LAMINA_BACKEND=torch and export it there: the weights carry over exactly.")


def split_options(kwargs: dict, allowed: Sequence[str], where: str) -> dict:
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"{where} got unexpected keyword arguments {unknown}; it accepts {list(allowed)}.")
    return dict(kwargs)


def capture(fn: Callable[..., Any], signature: list, variables: Sequence[Any], options: dict | None = None) -> Any:
    """fn(*arguments of signature) as an exported program whose weights are the variables."""
    specs = signatures.flat_specs(signature)

    def flat_fn(*flat: Any) -> Any:
        return fn(*tree.unflatten_as(signature, list(flat)))

    _run_eagerly(flat_fn, specs)
    samples = signatures.sample_inputs(specs)
    return backend.impl.export_program(flat_fn, list(variables), samples, signatures.dynamic_axes(specs), options)


def _run_eagerly(flat_fn: Callable[..., Any], specs: list) -> None:
    """One eager call before tracing: a signature that does not fit fails here with the layers' own message.

    Its open sizes are 1 (8 if 1 does not run), never the traced sizes: a layer remembers the last input shape
    it checked, and comparing the traced sizes with remembered equal ones would fix them as constants.
    """
    for other in (1, 8):
        samples = signatures.sample_inputs(specs, batch=1, other=other)
        try:
            flat_fn(*[backend.impl.convert_to_tensor(sample) for sample in samples])
            return
        except Exception as error:
            failure = error
    shown = ", ".join(f"{list(spec.shape)} {spec.dtype}" for spec in specs)
    raise ValueError(f"The function being exported does not run on inputs of the input signature ({shown}): "
                     f"{failure}") from failure


def onnx_bytes(program: Any, signature: list, output_names: Sequence[str], opset_version: int | None) -> bytes:
    names = signatures.input_names(signatures.flat_specs(signature))
    return backend.impl.program_to_onnx(program, names, list(output_names), opset_version)


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda stream: stream.write(data))


def write_program(path: Path, program: Any) -> None:
    atomic_write(path, lambda stream: backend.impl.save_program(program, stream))


def file_target(filepath: Any, default_name: str, suffix: str | None, what: str) -> Path:
    """Where to write: the path itself, or `default_name` inside it when it is (or ends like) a folder."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"filepath must be a str or a path, got {filepath!r} ({type(filepath).__name__}).")
    text = os.fspath(filepath)
    path = Path(text)
    if path.is_dir() or text.endswith(("/", os.sep)):
        path = path / default_name
    elif suffix is not None and path.suffix != suffix:
        raise ValueError(f"{what} writes a {suffix} file: filepath must end with {suffix!r} (or name a folder, "
                         f"which then receives {default_name!r}), got {text!r}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
