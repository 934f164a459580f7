"""ExportArchive: chosen functions of tracked models written as programs that run without Lamina."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable

import numpy as np

from lamina import backend
from lamina.export import programs
from lamina.export import signature as signatures
from lamina.saving.keras_file import atomic_write

MANIFEST = "archive.json"
ARCHIVE_FORMATS = ("torch", "onnx")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ExportArchive:
    """Endpoints (functions of tracked layers and models) and variable collections, written for inference.

    Keras writes a TensorFlow SavedModel; Lamina writes a folder that torch (format="torch", the default) or
    ONNX Runtime (format="onnx") runs without Lamina installed:

    - `<endpoint>.pt2` (or `<endpoint>.onnx`): one program per endpoint, the function traced with
      torch.export, its tracked variables saved inside it as weights. Load one with
      `torch.export.load(path).module()(x)` (or `onnxruntime.InferenceSession(path)`). One file per endpoint
      keeps each loadable on its own by the runtime's own loader.
    - `variables/<collection>.npz`: each variable collection as NumPy arrays keyed by the variables' paths
      (`numpy.load`; no pickle).
    - `archive.json`: the endpoints' files and input signatures, the collections, and `serving_default`, the
      first endpoint (as Keras aliases it for serving).

    ```python
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, input_signature=[lamina.Input(shape=(3,))])
    archive.write_out("path/to/folder")
    ```
    Exporting needs the torch backend. Input signatures hold `lamina.Input(...)` tensors, arrays or any
    objects with `shape` and `dtype`; a None size (the batch, or any other axis) takes any size at run time.
    """

    def __init__(self, format: str = "torch") -> None:
        self.format = _check_archive_format(format)
        self._tracked: list[Any] = []
        self._endpoints: dict[str, tuple[Any, list]] = {}
        self._collections: dict[str, list[Any]] = {}

    def track(self, resource: Any) -> None:
        """Track the variables of a layer or model, which the endpoints may then use."""
        if not hasattr(resource, "weights") or not hasattr(resource, "built"):
            raise ValueError(f"track() expects a Lamina layer or model, got {resource!r} ({type(resource).__name__}).")
        if not resource.built:
            raise ValueError(f"track(): {type(resource).__name__} {resource.name!r} has not been built yet; call it "
                             "on data or build it first, so that it has its variables.")
        if all(resource is not tracked for tracked in self._tracked):
            self._tracked.append(resource)

    def add_endpoint(self, name: str, fn: Callable[..., Any], input_signature: Any = None, **kwargs: Any) -> Any:
        """Trace `fn` on inputs of `input_signature` (a list with one entry per positional argument) and keep
        it as endpoint `name`; returns the exported program (a torch.export ExportedProgram).

        keyword arguments go to torch.export.export: strict, dynamic_shapes,
        prefer_deferred_runtime_asserts_over_guards, preserve_module_call_signature.
        """
        _check_name(name, "endpoint", self._endpoints)
        if not callable(fn):
            raise ValueError(f"add_endpoint: fn must be callable, got {fn!r}.")
        options = programs.split_options(kwargs, programs.TORCH_OPTIONS, "add_endpoint")
        owner = getattr(fn, "__self__", None)
        if owner is not None and hasattr(owner, "weights") and hasattr(owner, "built"):
            self.track(owner)  # a bound method of a layer uses that layer's variables
        if not self._tracked:
            raise ValueError("add_endpoint: no layer or model is tracked, so the endpoint would have no variables: "
                             "call track(model) first.")
        if input_signature is None:
            if owner is None or not hasattr(owner, "_build_shapes"):
                raise ValueError(f"add_endpoint({name!r}): pass input_signature, e.g. [lamina.Input(shape=(3,))] "
                                 "for a function of one input.")
            input_signature = signatures.model_signature(owner)
        signature = signatures.normalize_signature(input_signature)
        programs.require_torch(self.format)
        program = programs.capture(_inference(fn), signature, self._variables(), options)
        self._endpoints[name] = (program, signature)
        return program

    def track_and_add_endpoint(self, name: str, resource: Any, input_signature: Any = None, **kwargs: Any) -> Any:
        """Track `resource` (a layer or model) and add its call as endpoint `name`."""
        self.track(resource)
        return self.add_endpoint(name, resource, input_signature, **kwargs)

    def add_variable_collection(self, name: str, variables: Any) -> None:
        """Keep `variables` (a list, tuple or set of Variables) to be written as collection `name`."""
        _check_name(name, "variable collection", self._collections)
        if not isinstance(variables, (list, tuple, set)):
            raise ValueError(f"add_variable_collection: variables must be a list, tuple or set of Variables, got "
                             f"{type(variables).__name__}.")
        found = list(variables)
        for variable in found:
            if not hasattr(variable, "numpy") or not hasattr(variable, "path"):
                raise ValueError(f"add_variable_collection({name!r}): {variable!r} is not a Variable.")
        self._collections[name] = found

    def write_out(self, filepath: Any, options: Any = None, verbose: bool = True, format: str | None = None) -> None:
        """Write the archive as a folder (see the class docstring); format "torch" or "onnx" (default: the
        archive's). The folder is written beside the target and renamed into place."""
        if options is not None:
            raise ValueError("write_out: options are TensorFlow SaveOptions, which Lamina does not use; leave it None.")
        format = self.format if format is None else _check_archive_format(format)
        if not self._endpoints:
            raise ValueError("write_out: the archive has no endpoint; add one with add_endpoint(name, fn, "
                             "input_signature) first.")
        target = _folder(filepath)
        members = self._members(format)
        _write_folder(target, members)
        if verbose:
            print(f"Saved artifact at '{target}'. Endpoints: {', '.join(self._endpoints)}.")

    # --- internals ---------------------------------------------------------------------------------------------

    def _variables(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for resource in self._tracked:
            for variable in [*resource.weights, *getattr(resource, "seed_state_variables", [])]:
                seen.setdefault(id(variable), variable)
        return list(seen.values())

    def _members(self, format: str) -> dict[str, Callable[[Any], None]]:
        """file name -> what writes it into an open binary stream."""
        members: dict[str, Callable[[Any], None]] = {}
        manifest: dict[str, Any] = {"format": f"lamina.export.{format}", "endpoints": {}, "variable_collections": {}}
        for name, (program, signature) in self._endpoints.items():
            filename = f"{name}.{'pt2' if format == 'torch' else 'onnx'}"
            specs = signatures.flat_specs(signature)
            if format == "torch":
                members[filename] = _program_writer(program)
            else:
                data = programs.onnx_bytes(program, signature, [], None)
                members[filename] = lambda stream, data=data: stream.write(data)
            manifest["endpoints"][name] = {"file": filename, "inputs": signatures.describe(specs)}
        manifest["serving_default"] = "serving_default" if "serving_default" in self._endpoints \
            else next(iter(self._endpoints))
        for name, variables in self._collections.items():
            filename = f"variables/{name}.npz"
            arrays = {_array_key(variable, index): np.asarray(variable.numpy())
                      for index, variable in enumerate(variables)}
            members[filename] = lambda stream, arrays=arrays: stream.write(_npz(arrays))
            manifest["variable_collections"][name] = {"file": filename, "paths": list(arrays)}
        text = json.dumps(manifest, indent=2).encode("utf-8")
        members[MANIFEST] = lambda stream: stream.write(text)
        return members


def _inference(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A layer or model is called in inference mode; any other function as it is."""
    if hasattr(fn, "weights") and hasattr(fn, "built"):
        return lambda *arguments: fn(*arguments, training=False)
    return fn


def _program_writer(program: Any) -> Callable[[Any], None]:
    return lambda stream: backend.impl.save_program(program, stream)


def _check_archive_format(format: Any) -> str:
    if format in ("saved_model", "tf_saved_model"):
        programs.check_format("tf_saved_model")
    if format not in ARCHIVE_FORMATS:
        raise ValueError(f"ExportArchive: unsupported format={format!r}; Lamina writes {list(ARCHIVE_FORMATS)}.")
    return format


def _check_name(name: Any, what: str, taken: dict) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"The {what} name must be a Python identifier (letters, digits, underscores), got {name!r}.")
    if name in taken:
        raise ValueError(f"There is already a {what} named {name!r}.")


def _array_key(variable: Any, index: int) -> str:
    path = getattr(variable, "path", None) or f"variable_{index}"
    return str(path)


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _folder(filepath: Any) -> Path:
    if not isinstance(filepath, (str, os.PathLike)):
        raise ValueError(f"write_out: filepath must be a str or a path, got {filepath!r}.")
    path = Path(filepath)
    if path.exists() and not path.is_dir():
        raise ValueError(f"write_out writes a folder, but {str(path)!r} is a file.")
    if path.is_dir() and any(path.iterdir()) and not (path / MANIFEST).is_file():
        raise ValueError(f"write_out: {str(path)!r} is a folder that holds other files; choose an empty or new "
                         "folder (an archive written before is replaced).")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _write_folder(target: Path, members: dict[str, Callable[[Any], None]]) -> None:
    """Write every member into a new folder beside the target, then move it into place, so that the target is
    never a half-written archive; an archive already there is replaced."""
    staging = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    staging.mkdir()
    try:
        for name, write in members.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, write)
        retired = None
        if target.exists():
            retired = target.parent / f".{target.name}.{secrets.token_hex(6)}.old"
            os.replace(target, retired)
        try:
            os.replace(staging, target)
        except BaseException:
            if retired is not None:
                os.replace(retired, target)
            raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if retired is not None:
        with contextlib.suppress(OSError):
            shutil.rmtree(retired)
