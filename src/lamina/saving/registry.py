"""The registry of serializable objects: built-in classes found by name, user classes and functions by
"package>Name", and the Keras-layout dicts ({"module", "class_name", "config", "registered_name"}) they make.

Loading looks names up in tables; it never imports the module a file names, nor runs code stored in it.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from typing import Any, Callable, Iterator

_REGISTERED: dict[str, Any] = {}  # "package>Name" -> class or function
_NAMES: dict[Any, str] = {}  # class or function -> "package>Name"
_SCOPES: list[dict[str, Any]] = []  # custom objects of the active custom_object_scope blocks, innermost last

_LAMBDA_HINT = ("Lamina never stores code in a file, and never runs code from one (safe mode). Use a named "
                "function decorated with @lamina.saving.register_lamina_serializable() instead.")


# --- registering -------------------------------------------------------------------------------------


def register_lamina_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: make a class or function savable under "package>name" (name defaults to its own)."""
    if ">" in package:
        raise ValueError(f"register_lamina_serializable: package must not contain '>', got {package!r}.")

    def register(obj: Any) -> Any:
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register class {obj.__name__}: it needs a get_config() method that "
                             "returns its constructor arguments.")
        registered_name = f"{package}>{name or obj.__name__}"
        _REGISTERED[registered_name] = obj
        _NAMES[obj] = registered_name
        return obj

    return register


register_keras_serializable = register_lamina_serializable


def get_registered_name(obj: Any) -> str:
    """The name `obj` (a class or function) is saved under: "package>Name" if registered, else its own name."""
    return _NAMES.get(obj, getattr(obj, "__name__", type(obj).__name__))


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The class or function for a name: custom_objects, then active scopes, then the registry; else None."""
    for table in (custom_objects or {}, *reversed(_SCOPES), _REGISTERED):
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The global table of custom objects by name ("package>Name" for registered ones). Entries added to it are
    found when loading, as in Keras: `get_custom_objects()["MyLayer"] = MyLayer`."""
    return _REGISTERED


@contextlib.contextmanager
def custom_object_scope(custom_objects: dict[str, Any] | None) -> Iterator[None]:
    """Within the block, loading finds these classes and functions by name (as if passed as custom_objects)."""
    _SCOPES.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _SCOPES.pop()


# --- built-in names --------------------------------------------------------------------------------------


def _builtin_tables() -> list[tuple[str, Callable[[str], Any]]]:
    """(module, lookup) per family; each lookup maps a class name to a Lamina class, or None."""
    from lamina import constraints, initializers, layers, losses, metrics, models, optimizers, regularizers

    def public_layer(name: str) -> Any:
        # getattr keeps layers added to lamina.layers later visible; the checks refuse anything else it holds
        if not name.isidentifier() or name.startswith("_"):
            return None
        found = getattr(layers, name, None)
        return found if inspect.isclass(found) and issubclass(found, layers.Layer) else None

    model_classes = {"Sequential": models.Sequential, "Functional": models.Functional, "Model": models.Model}
    return [("lamina.layers", public_layer), ("lamina.models", model_classes.get),
            ("lamina.optimizers", optimizers.CLASSES.get), ("lamina.losses", losses.CLASSES.get),
            ("lamina.metrics", metrics.CLASSES.get), ("lamina.initializers", initializers.ALL.get),
            ("lamina.regularizers", regularizers.ALL.get), ("lamina.constraints", constraints.ALL.get)]


def _builtin_functions() -> list[tuple[str, dict[str, Callable[..., Any]]]]:
    from lamina import activations, losses

    return [("lamina.activations", activations.ALL), ("lamina.losses", {**losses.FUNCTIONS, **losses.SHORT_NAMES})]


def builtin_module(cls: type) -> str | None:
    """"lamina.layers" (say) if `cls` is the built-in class of its name, else None."""
    for module, lookup in _builtin_tables():
        if lookup(cls.__name__) is cls:
            return module
    return None


def _builtin_class(class_name: str, module: str | None) -> Any:
    """The built-in class of this name; a module naming a family ("keras.losses") picks that family first."""
    tables = _builtin_tables()
    parts = set(module.split(".")) if isinstance(module, str) else set()
    tables.sort(key=lambda table: table[0].split(".")[-1] not in parts)  # the named family first
    for _, lookup in tables:
        found = lookup(class_name)
        if found is not None:
            return found
    return None


def _find_class(config: dict, custom_objects: dict[str, Any] | None) -> Any:
    class_name, registered_name = config["class_name"], config.get("registered_name")
    names = [n for n in (registered_name, class_name) if isinstance(n, str)]
    for table in (custom_objects or {}, *reversed(_SCOPES)):
        for name in names:
            if name in table:
                return table[name]
    for name in names:  # the registered name first, then a plain name a user put in get_custom_objects()
        if name in _REGISTERED:
            return _REGISTERED[name]
    found = _builtin_class(class_name, config.get("module"))
    if found is None:
        described = f"{class_name!r}" + (f" (registered as {registered_name!r})" if registered_name else "")
        raise ValueError(f"Unknown class {described}: it is not a Lamina built-in. Pass it in "
                         f"custom_objects={{{class_name!r}: {class_name}}} or decorate the class with "
                         "@lamina.saving.register_lamina_serializable().")
    return found


def _checked(config: Any, what: str) -> dict:
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"A serialized {what} must be a dict with a 'class_name' string, got {config!r:.200}.")
    return config


def _inner_config(config: dict) -> dict:
    inner = config.get("config", {})
    if not isinstance(inner, dict):
        raise ValueError(f"The 'config' of {config['class_name']!r} must be a dict, got {inner!r:.200}.")
    return inner


# --- functions ---------------------------------------------------------------------------------------------


def serialize_function(fn: Callable[..., Any]) -> dict:
    """A registered or built-in function as a name; lambdas and unregistered functions raise ValueError."""
    registered_name = _NAMES.get(fn) if _hashable(fn) else None
    if registered_name is not None:
        return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": registered_name,
                "registered_name": registered_name}
    for module, table in _builtin_functions():
        name = getattr(fn, "__name__", None)
        if table.get(name) is fn:
            return {"module": module, "class_name": "function", "config": name, "registered_name": None}
    name = getattr(fn, "__qualname__", repr(fn))
    if getattr(fn, "__name__", None) == "<lambda>":
        raise ValueError(f"Cannot save the lambda {name}: a lambda can only be restored by executing its code. "
                         + _LAMBDA_HINT)
    raise ValueError(f"Cannot save the function {name!r}: it is not registered, so it could not be found by name "
                     "when loading. Decorate it with @lamina.saving.register_lamina_serializable().")


def deserialize_function(config: Any, custom_objects: dict[str, Any] | None = None) -> Callable[..., Any]:
    """The function a serialize_function dict (or a bare name) stands for, found by name only."""
    if isinstance(config, str):
        config = {"class_name": "function", "config": config, "registered_name": None}
    config = _checked(config, "function")
    if config["class_name"] == "__lambda__":
        raise ValueError("The config holds a lambda (Python bytecode); Lamina refuses to run code from a file. "
                         + _LAMBDA_HINT)
    name = config.get("config")
    if config["class_name"] != "function" or not isinstance(name, str):
        raise ValueError(f"Expected a serialized function, got {config!r:.200}.")
    registered_name = config.get("registered_name")
    for key in (registered_name, name):
        found = get_registered_object(key, custom_objects) if isinstance(key, str) else None
        if found is not None:
            return found
    parts = set(config["module"].split(".")) if isinstance(config.get("module"), str) else set()
    for _, table in sorted(_builtin_functions(), key=lambda t: t[0].split(".")[-1] not in parts):
        if name in table:
            return table[name]
    raise ValueError(f"Unknown function {name!r}: pass it in custom_objects={{{name!r}: {name}}} or decorate it "
                     "with @lamina.saving.register_lamina_serializable().")


def _hashable(obj: Any) -> bool:
    try:
        hash(obj)
    except TypeError:
        return False
    return True


def _resolve_functions(value: Any, custom_objects: dict[str, Any] | None, owner: str | None = None) -> Any:
    """A copy of a config with serialized functions turned back into functions.

    A lambda's bytecode is refused in safe mode, naming the layer that holds it; outside safe mode it is left
    as it is for its layer (only a Lambda layer loads one; anything else refuses it).
    """
    if isinstance(value, dict):
        if value.get("class_name") == "__lambda__":
            if in_safe_mode():
                raise ValueError(lambda_refusal(owner))
            return value
        if value.get("class_name") == "function":
            return deserialize_function(value, custom_objects)
        inner = value.get("config")
        if "class_name" in value and isinstance(inner, dict) and isinstance(inner.get("name"), str):
            owner = f"{value['class_name']} layer {inner['name']!r}"
        return {key: _resolve_functions(item, custom_objects, owner) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_functions(item, custom_objects, owner) for item in value]
    return value


# --- safe mode ---------------------------------------------------------------------------------------------


class _SafeModeState(threading.local):
    def __init__(self) -> None:
        self.stack: list[bool] = []


_SAFE_MODE = _SafeModeState()


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool | None = True) -> Iterator[None]:
    """Within the block, deserialization refuses (True) or allows (False) a lambda's stored bytecode."""
    _SAFE_MODE.stack.append(safe_mode is not False)
    try:
        yield
    finally:
        _SAFE_MODE.stack.pop()


def in_safe_mode() -> bool:
    """True unless the active safe_mode_scope says False or lamina.config.enable_unsafe_deserialization() ran
    (which, as in Keras, wins over a loader's default safe_mode=True)."""
    from lamina import config

    if config.is_unsafe_deserialization_enabled():
        return False
    return _SAFE_MODE.stack[-1] if _SAFE_MODE.stack else True


def lambda_refusal(owner: str | None) -> str:
    """The safe-mode error for a stored Python lambda held by `owner` (say "Lambda layer 'lambda'")."""
    holder = owner or "The config"
    return (f"{holder} holds a Python lambda stored as bytecode; loading it would run code from the file, which "
            "safe mode refuses. Pass safe_mode=False to the loading function only if you trust the file's source "
            "(or call lamina.config.enable_unsafe_deserialization()).")


# --- layers and other objects ------------------------------------------------------------------------------


def serialize_layer(layer: Any) -> dict:
    """A layer (or model) as {"module", "class_name", "config", "registered_name"}."""
    cls = type(layer)
    serialized = {"module": builtin_module(cls) or cls.__module__, "class_name": cls.__name__,
                  "config": layer.get_config(), "registered_name": _NAMES.get(cls)}
    build_config = layer.get_build_config() if layer.built and _builds_its_own_way(layer) else None
    if build_config is not None:  # what the layer's own `build_from_config` needs, as Keras writes it
        serialized["build_config"] = build_config
    return serialized


def deserialize_layer(config: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """A new layer (or model) from serialize_layer's dict; classes are found by name, never imported."""
    from lamina.layers import Layer

    config = _checked(config, "layer")
    cls = _find_class(config, custom_objects)
    if not (inspect.isclass(cls) and issubclass(cls, Layer)):
        raise ValueError(f"{config['class_name']!r} is not a layer class, so it cannot be rebuilt as a layer.")
    with custom_object_scope(custom_objects):
        inner = _inner_config(config)
        owner = f"{config['class_name']} layer {inner['name']!r}" if isinstance(inner.get("name"), str) else None
        layer = cls.from_config(_resolve_functions(inner, custom_objects, owner))
    build_config = config.get("build_config")
    if isinstance(build_config, dict) and not layer.built and _builds_its_own_way(layer):
        layer.build_from_config(build_config)
    return layer


def _builds_its_own_way(layer: Any) -> bool:
    """Whether the layer's class overrides `build_from_config` or `get_build_config` (a user's layer whose
    build takes more than the input shape): its build config is saved and used. Other layers are built by
    their model from the shapes that flow in, whatever a file's build_config spells (Keras writes some
    layers' shapes under names of their own)."""
    from lamina.layers import Layer

    return (type(layer).build_from_config is not Layer.build_from_config
            or type(layer).get_build_config is not Layer.get_build_config)


def serialize_object(obj: Any) -> Any:
    """Any savable value in the Keras layout: plain values as they are, functions by name, objects by config."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_object(item) for item in obj]
    if isinstance(obj, dict):
        return {key: serialize_object(item) for key, item in obj.items()}
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return serialize_function(obj)
    from lamina.layers import Layer

    if isinstance(obj, Layer):
        return serialize_layer(obj)
    if not hasattr(obj, "get_config"):
        raise ValueError(f"Cannot serialize {obj!r:.200}: it has no get_config() method.")
    cls = type(obj)
    return {"module": builtin_module(cls) or cls.__module__, "class_name": cls.__name__,
            "config": obj.get_config(), "registered_name": _NAMES.get(cls)}


def deserialize_object(config: Any, custom_objects: dict[str, Any] | None = None, safe_mode: bool = True) -> Any:
    """The inverse of serialize_object. `safe_mode=False` lets a Lambda layer's stored lambda load; inside a
    load, the loader's safe_mode applies (as in Keras)."""
    if not _SAFE_MODE.stack:
        with safe_mode_scope(safe_mode):
            return deserialize_object(config, custom_objects)
    if config is None or isinstance(config, (str, int, float, bool)):
        return config
    if isinstance(config, list):
        return [deserialize_object(item, custom_objects) for item in config]
    config = _checked(config, "object")
    if config["class_name"] in ("function", "__lambda__"):
        return deserialize_function(config, custom_objects)
    cls = _find_class(config, custom_objects)
    from lamina.layers import Layer

    if inspect.isclass(cls) and issubclass(cls, Layer):
        return deserialize_layer(config, custom_objects)
    if not inspect.isclass(cls):
        raise ValueError(f"{config['class_name']!r} names {cls!r:.100}, which is not a class.")
    inner = _resolve_functions(_inner_config(config), custom_objects)
    with custom_object_scope(custom_objects):
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
