"""Lambda: a layer made from a function of its inputs.

Its config names a registered or named function; a Python lambda's code is stored as Keras 3 stores it
(base64 marshal bytecode, its defaults and closure) and is run again only outside safe mode: a loader given
safe_mode=False, or after lamina.config.enable_unsafe_deserialization().
"""

from __future__ import annotations

import base64
import binascii
import builtins
import dis
import inspect
import marshal
import types
import warnings
from typing import Any, Callable

from lamina import backend
from lamina.layers.layer import Layer


def _is_lambda(fn: Any) -> bool:
    return isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>"


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of defaults and closure contents (tuples become lists)."""
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def function_to_config(fn: Callable[..., Any]) -> Any:
    """A function's config: a lambda as its bytecode (Keras's layout), any other function by name."""
    from lamina.saving import registry

    if _is_lambda(fn):
        closure = [cell.cell_contents for cell in fn.__closure__] if fn.__closure__ else None
        return {"class_name": "__lambda__",
                "config": {"code": base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii"),
                           "defaults": _plain(fn.__defaults__), "closure": _plain(closure)}}
    try:
        return registry.serialize_function(fn)
    except ValueError:
        if not isinstance(fn, types.FunctionType):
            raise
    # an unregistered named function is stored by name, as Keras stores it; loading finds it in custom_objects
    return {"module": fn.__module__, "class_name": "function", "config": fn.__name__,
            "registered_name": fn.__name__}


def function_from_config(value: Any, custom_objects: dict | None = None, owner: str | None = None) -> Any:
    """The inverse of function_to_config (callables and None pass through); a lambda only outside safe mode."""
    from lamina.saving import registry

    if value is None or callable(value):
        return value
    if isinstance(value, dict) and value.get("class_name") == "__lambda__":
        if registry.in_safe_mode():
            raise ValueError(registry.lambda_refusal(owner))
        return _load_lambda(value.get("config"), owner, custom_objects)
    return registry.deserialize_function(value, custom_objects)


def _load_lambda(stored: Any, owner: str | None, custom_objects: dict | None = None) -> Callable[..., Any]:
    where = owner or "A Lambda layer"
    if not isinstance(stored, dict) or not isinstance(stored.get("code"), str):
        raise ValueError(f"{where}: a stored lambda needs a 'config' with its 'code' as a base64 string, got "
                         f"{stored!r:.100}.")
    try:
        code = marshal.loads(base64.b64decode(stored["code"]))
    except (binascii.Error, ValueError, EOFError, TypeError) as error:
        raise ValueError(f"{where}: the stored lambda's code is not valid bytecode of this Python ({error}).") \
            from None
    if not isinstance(code, types.CodeType):
        raise ValueError(f"{where}: the stored lambda's code is a {type(code).__name__}, not a code object.")
    closure, defaults = stored.get("closure"), stored.get("defaults")
    if closure is not None and not isinstance(closure, list) or defaults is not None and not isinstance(defaults, list):
        raise ValueError(f"{where}: a stored lambda's 'closure' and 'defaults' must be lists or null.")
    if len(closure or ()) != len(code.co_freevars):
        raise ValueError(f"{where}: the stored lambda uses {len(code.co_freevars)} closure value(s), the config "
                         f"holds {len(closure or ())}.")
    cells = tuple(types.CellType(item) for item in closure) if closure else None
    import lamina
    from lamina import ops

    # names a lambda written for Keras (keras.ops...) or Lamina may use
    namespace = {"__builtins__": builtins, "ops": ops, "backend": backend, "keras": lamina, "lamina": lamina}
    _add_globals(code, namespace, custom_objects, where)
    return types.FunctionType(code, namespace, code.co_name, tuple(defaults) if defaults else None, cells)


def _global_names(code: types.CodeType) -> set[str]:
    """The global names the code (and the code nested in it) reads."""
    names = {instruction.argval for instruction in dis.get_instructions(code)
             if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _add_globals(code: types.CodeType, namespace: dict, custom_objects: dict | None, where: str) -> None:
    """Give the lambda the globals it reads from custom_objects; a file carries only its closure, so a global
    found nowhere is named now rather than failing inside the first call."""
    from lamina.saving import registry

    missing = []
    for name in sorted(_global_names(code)):
        if name in namespace or hasattr(builtins, name):
            continue
        found = registry.get_registered_object(name, custom_objects)
        if found is None:
            missing.append(name)
        else:
            namespace[name] = found
    if missing:
        raise ValueError(f"{where}: the stored lambda reads the global name(s) {missing}, which a saved file does "
                         "not carry (only the lambda's closure is saved); pass them in custom_objects.")


class Lambda(Layer):
    """Wraps `function(inputs, **arguments)` as a layer (it also gets `mask` and `training` if it takes them).

    output_shape: the output shape without the batch axis, or a function of the input shape; by default it
    is inferred by running the function on shapes.
    mask: the mask of the outputs, or a function (inputs, mask) -> mask; without it, as in Keras, the
    outputs carry no mask.
    """

    def __init__(self, function: Callable[..., Any], output_shape: Any = None, mask: Any = None,
                 arguments: dict | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda function must be callable, got {type(function).__name__}.")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda arguments must be a dict of keyword arguments, got {type(arguments).__name__}.")
        if output_shape is not None and not callable(output_shape) and not isinstance(output_shape, (list, tuple)):
            raise TypeError(f"Lambda output_shape must be a tuple, a function or None, got {output_shape!r}.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        parameters = _parameters(function)
        self._function_takes_mask = "mask" in parameters
        self._function_takes_training = "training" in parameters

    def call(self, inputs: Any, mask: Any = None, training: bool | None = None) -> Any:
        if mask is not None and self.mask is None and not getattr(self, "_warned_about_mask", False):
            # as Keras 3: the function still gets the mask, but without `mask=` the output has none
            self._warned_about_mask = True
            warnings.warn(f"Lambda {self.name!r} does not support masking (it was made without `mask=`), but its "
                          "input carries a mask: the mask stops here and later layers see none.", stacklevel=2)
        kwargs = dict(self.arguments)
        if self._function_takes_mask:
            kwargs["mask"] = mask
        if self._function_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    @property
    def _creates_mask(self) -> bool:
        return self.mask is not None

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape[0] if input_shape else None
        batch = first[0] if isinstance(first, (list, tuple)) else first  # several inputs: the first one's batch
        return (batch, *self._output_shape)

    def get_config(self) -> dict:
        config_ = {**super().get_config(), "function": function_to_config(self.function)}
        if callable(self.mask):
            config_["mask"] = function_to_config(self.mask)
        if self._output_shape is not None:
            config_["output_shape"] = (function_to_config(self._output_shape) if callable(self._output_shape)
                                       else list(self._output_shape))
        from lamina.saving import registry

        config_["arguments"] = registry.serialize_object(self.arguments)
        return config_

    @classmethod
    def from_config(cls, config_: dict, custom_objects: dict | None = None) -> "Lambda":
        config_ = dict(config_)
        if "function" not in config_:
            raise ValueError(f"A Lambda layer's config needs a 'function', got keys {sorted(config_)}.")
        owner = f"Lambda layer {config_.get('name', 'lambda')!r}"
        config_["function"] = function_from_config(config_["function"], custom_objects, owner)
        for key in ("mask", "output_shape"):
            if isinstance(config_.get(key), dict):
                config_[key] = function_from_config(config_[key], custom_objects, owner)
        if config_.get("arguments"):
            from lamina.saving import registry

            config_["arguments"] = {key: registry.deserialize_object(value, custom_objects)
                                    if isinstance(value, dict) and "class_name" in value else value
                                    for key, value in config_["arguments"].items()}
        return cls(**config_)


def _parameters(function: Callable[..., Any]) -> set[str]:
    try:
        return set(inspect.signature(function).parameters)
    except (TypeError, ValueError):  # some builtins have no signature
        return set()
