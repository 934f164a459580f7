"""save_model / load_model / save_weights / load_weights: the .keras file of Keras 3, read without trust.

A .keras file is a zip of
    metadata.json       {"keras_version", "lamina_version", "backend", "date_saved"}
    config.json         {"module", "class_name", "config", "registered_name", "compile_config", "build_config"}
    model.weights.h5    every weight by path ("layers/dense/vars/0"), and "optimizer/vars/N" once trained
as Keras 3 writes them (files of earlier Lamina releases hold model.weights.npz instead, and still load).
Loading finds classes and functions by name only: it never imports a module named in the file, unpickles,
or runs stored code.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import warnings
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from lamina import backend, losses, metrics as metrics_module
from lamina.saving import assets, faults, h5_store, keras_file, keras_names, legacy_h5, load_budget, registry, weights

KERAS_VERSION = "3.15.1"  # the Keras release whose file layout Lamina writes
_LOAD_ERRORS = (*keras_file.READ_ERRORS, *faults.FAULTS)


# --- save ------------------------------------------------------------------------------------------------


def _chief_writes(save: Any) -> Any:
    """In a run of several processes, every process calls the save; process 0 writes and the others wait at a
    barrier until it has, so that every process can load the file right after."""

    @functools.wraps(save)
    def run(*args: Any, **kwargs: Any) -> None:
        from lamina import distribution

        current = distribution.current()
        try:
            if current.is_chief:
                save(*args, **kwargs)
        finally:
            current.barrier()

    return run


@_chief_writes
def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True, zipped: bool | None = None,
               **kwargs: Any) -> None:
    """Save architecture, weights, compile arguments and optimizer state to a `.keras` file, atomically (or to
    Keras 2's `.h5` file, which also takes `include_optimizer`)."""
    if legacy_h5.is_legacy_path(filepath):
        unknown = sorted(set(kwargs) - {"include_optimizer", "save_format"})
        if unknown:
            raise ValueError(f"save_model to an .h5 file got unexpected argument(s) {unknown}.")
        return legacy_h5.save_model(model, filepath, overwrite=overwrite,
                                    include_optimizer=kwargs.get("include_optimizer", True))
    if kwargs:
        raise ValueError(f"Argument(s) {sorted(kwargs)} are not supported with the .keras format (Keras 3 refuses "
                         "them too); `include_optimizer` applies to Keras 2's .h5 files only.")
    path = _checked_path(filepath, (".keras",), "save_model")
    if zipped is False:
        raise ValueError("save_model(zipped=False) would write an unzipped folder, which Lamina does not support; "
                         "leave zipped unset to write the .keras zip.")
    _check_overwrite(path, overwrite)
    config = keras_names.to_keras({**registry.serialize_layer(model), "build_config": _build_config(model),
                                   "compile_config": _saved_compile_config(model)})
    metadata = {"keras_version": KERAS_VERSION, "lamina_version": _lamina_version(), "backend": backend.backend(),
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    keras_file.write_archive(path, {"metadata.json": keras_file.encode_json(metadata, "metadata"),
                                    "config.json": keras_file.encode_json(config, f"config of model {model.name!r}"),
                                    keras_file.H5_WEIGHTS_MEMBER: _encode_h5(model), **assets.collect(model)})


def _encode_h5(model: Any) -> bytes:
    """The layers' weights and the optimizer's state in Keras 3's h5 layout."""
    groups: dict[str, tuple[str | None, list]] = {}
    for path, layer in weights.layer_groups(model).items():
        if weights.saves_own_state(layer):
            store: dict[str, Any] = {}
            layer.save_own_variables(store)
            groups[path] = (layer.name, {str(key): np.asarray(value) for key, value in store.items()})
        else:
            groups[path] = (layer.name, list(weights.to_arrays(dict(enumerate(layer._own_variables))).values()))
    optimizer = getattr(model, "optimizer", None)
    state = weights.optimizer_variables(optimizer, model)
    if state:
        groups["optimizer"] = (optimizer.name, list(weights.to_arrays(state).values()))
    return h5_store.encode(groups)


@_chief_writes
def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Save the model's weights to a `.weights.h5` file in Keras 3's layout (with the optimizer's state once it
    is built, as Keras does), or to a `.weights.npz` file (weights only), atomically."""
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.save_weights(model, filepath, overwrite=overwrite)
    path = _checked_path(filepath, (".weights.h5", ".weights.npz"), "save_weights")
    _check_overwrite(path, overwrite)
    if path.name.endswith(".weights.h5"):
        data = _encode_h5(model)
    else:
        data = keras_file.encode_npz(weights.to_arrays(weights.layer_variables(model)))
    keras_file.atomic_write(path, lambda stream: stream.write(data))


def _checked_path(filepath: Any, suffixes: tuple[str, ...], what: str) -> Path:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"{what} expects a file path, got {type(filepath).__name__}: {filepath!r:.100}.")
    path = Path(filepath)
    if path.name.endswith(suffixes):
        return path
    expected = " or ".join(repr(suffix) for suffix in suffixes)
    if path.suffix in (".h5", ".hdf5"):
        raise ValueError(f"{what}: {str(path)!r} is an HDF5 (.h5) path; Lamina does not read or write HDF5 "
                         f"files. Use a path ending in {expected}.")
    raise ValueError(f"{what} expects a path ending in {expected}, got {str(path)!r}.")


def _check_overwrite(path: Path, overwrite: bool) -> None:
    if not overwrite and path.exists():
        raise ValueError(f"{str(path)!r} already exists and overwrite=False; pass overwrite=True to replace it.")


def _lamina_version() -> str:
    import lamina

    return lamina.__version__


def _build_config(model: Any) -> dict | None:
    """{"input_shape": ...} of a built model: what `build` needs to make the weights again."""
    if not model.built:
        return None
    inputs = getattr(model, "inputs", None)
    if inputs:
        shapes = [list(tensor.shape) for tensor in inputs]
        return {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    shapes = model._build_shapes
    return None if shapes is None else {"input_shape": _plain_shapes(shapes)}


def _plain_shapes(shapes: Any) -> Any:
    if isinstance(shapes, dict):
        return {key: _plain_shapes(value) for key, value in shapes.items()}
    return [_plain_shapes(item) if isinstance(item, (list, tuple, dict)) else item for item in shapes]


# --- compile arguments -------------------------------------------------------------------------------------


def _saved_compile_config(model: Any) -> Any:
    """What the model's `get_compile_config` returns, as JSON (a model may return its own objects)."""
    config = model.get_compile_config() if hasattr(model, "get_compile_config") else compile_config(model)
    if config is None:
        return None
    try:
        return _serialize_compile_item(config)
    except ValueError as error:
        warnings.warn(f"Model {model.name!r} is saved without its compile arguments: {error} "
                      "After loading it, call compile() again.", stacklevel=3)
        return None


def compile_config(model: Any) -> dict | None:
    """The compile arguments as JSON, or None (with a warning) when one of them cannot be found by name."""
    given = getattr(model, "_compile_config", None)
    if not getattr(model, "compiled", False) or given is None:
        return None
    try:
        return {"optimizer": _serialize_compile_item(model.optimizer),
                "loss": _serialize_compile_item(given["loss"]),
                "loss_weights": _serialize_compile_item(given["loss_weights"]),
                "metrics": _serialize_compile_item(given["metrics"]),
                "weighted_metrics": _serialize_compile_item(given["weighted_metrics"]),
                "run_eagerly": bool(getattr(model, "run_eagerly", False)),
                "steps_per_execution": int(getattr(model, "steps_per_execution", 1)),
                "jit_compile": getattr(model, "jit_compile", "auto")}
    except ValueError as error:
        warnings.warn(f"Model {model.name!r} is saved without its compile arguments: {error} "
                      "After loading it, call compile() again.", stacklevel=3)
        return None


def _serialize_compile_item(value: Any) -> Any:
    """A loss, metric or optimizer (or a list or dict of them) as a name or a Keras-layout dict."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_serialize_compile_item(item) for item in value]
    if isinstance(value, dict):
        return {key: _serialize_compile_item(item) for key, item in value.items()}
    name = getattr(value, "__name__", None)
    if isinstance(value, type):
        if registry.builtin_module(value) is not None:
            return name  # compile accepts the names of built-in classes
        _require_savable(value)
        return {"module": value.__module__, "class_name": name, "config": {},
                "registered_name": registry.get_registered_name(value)}
    if callable(value) and name is not None and not hasattr(value, "get_config"):
        if losses.FUNCTIONS.get(name) is value or getattr(metrics_module, name, None) is value:
            return name
        return registry.serialize_function(value)
    _require_savable(type(value))
    return registry.serialize_object(value)


def _require_savable(cls: type) -> None:
    if registry.builtin_module(cls) is None and ">" not in registry.get_registered_name(cls):
        raise ValueError(f"{cls.__name__} is not a Lamina built-in and is not registered; decorate it with "
                         "@lamina.saving.register_lamina_serializable().")


def compile_from_config(model: Any, config: Any, custom_objects: dict | None = None) -> None:
    """Compile `model` with the arguments `compile_config` wrote."""
    if not isinstance(config, dict):
        raise ValueError(f"'compile_config' must be a dict or null, got {config!r:.100}.")

    def restore(value: Any) -> Any:
        if isinstance(value, dict) and "class_name" in value:
            return registry.deserialize_object(value, custom_objects)
        if isinstance(value, dict):
            return {key: restore(item) for key, item in value.items()}
        if isinstance(value, list):
            return [restore(item) for item in value]
        return value

    steps = config.get("steps_per_execution", 1)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"'steps_per_execution' in compile_config must be a positive integer, got {steps!r}.")
    model.compile(optimizer=restore(config.get("optimizer", "rmsprop")), loss=restore(config.get("loss")),
                  loss_weights=restore(config.get("loss_weights")), metrics=restore(config.get("metrics")),
                  weighted_metrics=restore(config.get("weighted_metrics")),
                  run_eagerly=bool(config.get("run_eagerly", False)), steps_per_execution=steps)


def _restore_compile(model: Any, config: Any, custom_objects: dict | None) -> None:
    """The model's own `compile_from_config` when its class overrides it, else Lamina's, with the loader's
    custom objects in scope."""
    from lamina.trainers.trainer import Trainer

    if type(model).compile_from_config is Trainer.compile_from_config:
        compile_from_config(model, config, custom_objects)
        return
    with registry.custom_object_scope(custom_objects):
        model.compile_from_config(config)


# --- load ------------------------------------------------------------------------------------------------


def load_model(filepath: str | os.PathLike, custom_objects: dict[str, Any] | None = None, compile: bool = True,
               safe_mode: bool = True) -> Any:
    """Rebuild a model saved by save_model: architecture, weights, and (if compile) compile state.

    Any fault of the file raises ValueError naming the file and the fault. In `safe_mode` (the default) a
    Lambda layer's stored Python lambda is refused; safe_mode=False runs its bytecode: only for trusted files.
    """
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
    path = _checked_path(filepath, (".keras",), "load_model")
    if not path.is_file():
        raise ValueError(f"Cannot load {str(path)!r}: no such file.")
    try:
        budget = load_budget.budget_for(path.stat().st_size, "config.json")
        with keras_file.open_archive(path) as archive:
            config = keras_file.decode_json(
                keras_file.read_member(archive, "config.json", keras_file.MAX_CONFIG_BYTES), "config.json")
            arrays = _read_weights(archive, budget.limit)
            asset_members = assets.read(archive, budget.limit)
        with registry.safe_mode_scope(safe_mode), _closing(arrays), load_budget.active(budget):
            model = _rebuild(config, arrays, custom_objects, compile, str(path), budget)
        assets.load(model, asset_members)
        return model
    except _LOAD_ERRORS as error:
        raise ValueError(f"Cannot load {str(path)!r}: {error}") from error


def _read_weights(archive: Any, budget: int = keras_file.MAX_MEMBER_BYTES) -> Any:
    """The weights of a .keras zip by path: model.weights.h5 (Keras 3, Lamina) or model.weights.npz (earlier
    Lamina releases), inflating and declaring at most `budget` bytes. h5 weights are read lazily: close them
    after use (`_closing`)."""
    names = archive.namelist()
    limit = min(budget, keras_file.MAX_MEMBER_BYTES)
    if keras_file.H5_WEIGHTS_MEMBER in names or keras_file.WEIGHTS_MEMBER not in names:
        member = keras_file.H5_WEIGHTS_MEMBER
        data = keras_file.read_member(archive, member, limit)
        try:
            return h5_store.H5Weights(data, limit)
        except ValueError as error:
            raise ValueError(f"{member}: {error}") from None
    try:
        return keras_file.decode_npz(keras_file.read_member(archive, keras_file.WEIGHTS_MEMBER, limit), limit)
    except ValueError as error:
        raise ValueError(f"{keras_file.WEIGHTS_MEMBER}: {error}") from None


def _read_weights_file(path: Path) -> Any:
    """The weights of a .weights.h5 or .weights.npz file by path."""
    if path.stat().st_size > keras_file.MAX_MEMBER_BYTES:
        raise ValueError(f"it is larger than the limit of {keras_file.MAX_MEMBER_BYTES} bytes.")
    if path.name.endswith(".h5"):
        return h5_store.H5Weights(path.read_bytes(), keras_file.MAX_MEMBER_BYTES)
    return keras_file.decode_npz(path.read_bytes())


@contextlib.contextmanager
def _closing(arrays: Any) -> Iterator[None]:
    try:
        yield
    finally:
        if hasattr(arrays, "close"):
            arrays.close()


def _rebuild(config: Any, arrays: dict, custom_objects: dict | None, compile: bool, where: str,
             budget: load_budget.LoadBudget | None = None) -> Any:
    """The model of a decoded config.json with the weights of `arrays`; each fault names its place."""
    budget = budget or load_budget.budget_for(0, "config.json")
    with faults.located("config.json"):
        model, config = _model_from_config(config, custom_objects, budget)
    member = keras_file.H5_WEIGHTS_MEMBER if isinstance(arrays, h5_store.H5Weights) else keras_file.WEIGHTS_MEMBER
    with faults.located(member):
        _assign_layer_weights(model, arrays)
    if compile and config.get("compile_config") is not None:
        with faults.located("config.json", fallback="compile_config"):
            _restore_compile(model, config["compile_config"], custom_objects)
        with faults.located(member):
            optimizer_arrays = weights.Selection(arrays, weights.is_optimizer_path)
            if optimizer_arrays:
                _restore_optimizer(model, optimizer_arrays, where)
    return model


def _model_from_config(config: Any, custom_objects: dict | None, budget: load_budget.LoadBudget) -> tuple[Any, dict]:
    """The model of a config.json, built as its build_config says, and the config as Lamina reads it."""
    from lamina.models.model import Model

    if not isinstance(config, dict):
        raise ValueError(f"it must hold a JSON object, got {type(config).__name__}.")
    config = keras_names.from_keras(config)
    load_budget.index_layers(budget, config)
    load_budget.check_declared_shapes(budget, config)
    model = registry.deserialize_layer(config, custom_objects)
    if not isinstance(model, Model):
        raise ValueError(f"it describes a {type(model).__name__}, which is not a model.")
    build_config = config.get("build_config")
    if not model.built and isinstance(build_config, dict) and build_config.get("input_shape") is not None:
        with faults.located("config.json", fallback="build_config.input_shape"):
            model.build(_shapes(build_config["input_shape"]))
    return model, config


def _restore_optimizer(model: Any, arrays: Any, where: str) -> None:
    model.optimizer.build(model.trainable_weights)
    try:
        weights.assign(weights.optimizer_variables(model.optimizer, model), arrays, "optimizer variables")
    except ValueError as error:
        # the model itself loaded; only the training state is lost, as when Keras skips it
        warnings.warn(f"{where}: the optimizer state was not restored ({error}); training resumes with a fresh "
                      "optimizer state.", stacklevel=4)


def _shapes(value: Any) -> Any:
    """A saved input shape (JSON lists) as tuples, for one input, a list of inputs or a dict of inputs."""
    if isinstance(value, dict):
        return {key: _shapes(item) for key, item in value.items()}
    if not isinstance(value, list):
        raise ValueError(f"'input_shape' in build_config must be a list, got {value!r:.100}.")
    if all(item is None or (isinstance(item, int) and not isinstance(item, bool)) for item in value):
        return tuple(value)
    return [_shapes(item) for item in value]


# --- weights only ----------------------------------------------------------------------------------------


def _assign_layer_weights(model: Any, arrays: Any) -> None:
    """Every layer's weights from the file's entries; layers that save their own state read their groups."""
    own = weights.own_state_layers(model)
    layer_arrays = weights.Selection(arrays, lambda key: not weights.is_optimizer_path(key)
                                     and not weights.is_own_state_path(key, own))
    weights.assign(weights.layer_variables(model), layer_arrays)
    weights.load_own_states(own, arrays)


def _assign_weights(model: Any, arrays: Any, skip_mismatch: bool, where: str) -> None:
    layer_arrays = weights.Selection(arrays, lambda key: not weights.is_optimizer_path(key))
    if skip_mismatch:
        skipped = weights.assign_matching(weights.layer_variables(model), layer_arrays)
        if skipped:
            warnings.warn(f"{where}: skipped loading the weights of {len(skipped)} layer(s) whose weights in the file "
                          f"are missing or of other shapes: {skipped[:10]}.", stacklevel=4)
    else:
        _assign_layer_weights(model, arrays)
    optimizer_arrays = weights.Selection(arrays, weights.is_optimizer_path)
    if optimizer_arrays and getattr(model, "compiled", False) and getattr(model, "optimizer", None) is not None:
        _restore_optimizer(model, optimizer_arrays, where)


def load_weights(model: Any, filepath: str | os.PathLike, skip_mismatch: bool = False, by_name: bool = False) -> None:
    """Load weights saved by save_weights (`.weights.h5`, `.weights.npz`) or by save_model (`.keras`) into a
    built model, and the optimizer's state that a file holds into a compiled model's optimizer.

    With skip_mismatch=True, a layer whose weights in the file are missing or of other shapes keeps its own,
    with a warning (as in Keras); otherwise any difference raises ValueError and nothing changes.
    """
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_weights(model, filepath, skip_mismatch=skip_mismatch, by_name=by_name)
    if by_name:
        raise ValueError("load_weights(by_name=True) reads only legacy HDF5 weights files ('.h5' or '.hdf5').")
    path = _checked_path(filepath, (".weights.h5", ".weights.npz", ".keras"), "load_weights")
    if not path.is_file():
        raise ValueError(f"Cannot load weights from {str(path)!r}: no such file.")
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built, so it has no weights to load into yet; build it "
                         "(or call it on data) first.")
    try:
        if path.name.endswith(".keras"):
            with keras_file.open_archive(path) as archive:
                arrays = _read_weights(archive)
        else:
            arrays = _read_weights_file(path)
        with _closing(arrays):
            _assign_weights(model, arrays, skip_mismatch, str(path))
    except _LOAD_ERRORS as error:
        raise ValueError(f"Cannot load weights from {str(path)!r}: {error}") from error
