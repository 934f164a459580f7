"""Losses by name: `get` for compile, `serialize` and `deserialize` for configs and files."""

from __future__ import annotations

from typing import Any, Callable

from lamina.losses import ctc_loss, hinge_losses, metric_learning, probabilistic, regression, segmentation
from lamina.losses.loss import Loss, LossFunctionWrapper
from lamina.utils import naming

_FAMILIES = (regression, probabilistic, hinge_losses, segmentation, ctc_loss, metric_learning)

FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for family in _FAMILIES for fn in family.FUNCTIONS}
# Keras's short and legacy names of the functions.
SHORT_NAMES: dict[str, Callable[..., Any]] = {
    "mse": regression.mean_squared_error, "MSE": regression.mean_squared_error,
    "mae": regression.mean_absolute_error, "MAE": regression.mean_absolute_error,
    "mape": regression.mean_absolute_percentage_error, "MAPE": regression.mean_absolute_percentage_error,
    "msle": regression.mean_squared_logarithmic_error, "MSLE": regression.mean_squared_logarithmic_error,
    "kld": probabilistic.kl_divergence, "KLD": probabilistic.kl_divergence,
    "kullback_leibler_divergence": probabilistic.kl_divergence,
    "bce": probabilistic.binary_crossentropy, "BCE": probabilistic.binary_crossentropy,
    "logcosh": regression.log_cosh, "huber_loss": regression.huber,
}
CLASSES: dict[str, type] = {cls.__name__: cls for family in _FAMILIES for cls in family.CLASSES}
CLASSES.update({"Loss": Loss, "LossFunctionWrapper": LossFunctionWrapper})
_CLASS_OF_FUNCTION = {cls.function: cls for cls in CLASSES.values() if getattr(cls, "function", None) is not None}
# Keras's metric shorthands for "the loss's own cross-entropy"; as a loss name, most mean this one.
_SHORTHANDS = {"crossentropy": "categorical_crossentropy", "ce": "categorical_crossentropy"}


def get(identifier: Any) -> Loss:
    """A Loss object for a name, a config dict, a Loss, a loss class or a per-sample function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _SHORTHANDS:
            raise ValueError(f"Unknown loss {identifier!r}. Did you mean {_SHORTHANDS[identifier]!r} "
                             f"(or 'binary_crossentropy', 'sparse_categorical_crossentropy')?")
        found = naming.lookup("loss", identifier, {**FUNCTIONS, **SHORT_NAMES, **_instantiable()})
        if isinstance(found, type):
            return found()
        return _CLASS_OF_FUNCTION[found](name=identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _CLASS_OF_FUNCTION.get(identifier)
        return cls() if cls else LossFunctionWrapper(identifier)
    raise TypeError(f"loss must be a name, a Loss or a function, got {type(identifier).__name__}: {identifier!r}.")


def _instantiable() -> dict[str, type]:
    return {name: cls for name, cls in CLASSES.items() if cls not in (Loss, LossFunctionWrapper)}


def serialize(loss: Any) -> Any:
    """A Loss as Keras's {"module", "class_name", "config", "registered_name"}; a built-in function likewise."""
    from lamina.saving import registry

    if isinstance(loss, Loss) and CLASSES.get(type(loss).__name__) is type(loss):
        return {"module": "lamina.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    return registry.serialize_object(loss)


def deserialize(name: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """A Loss from a serialized dict, or the function (or class) a name stands for."""
    from lamina.saving import registry

    if isinstance(name, str):
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        return naming.lookup("loss", name, {**FUNCTIONS, **SHORT_NAMES, **CLASSES})
    if isinstance(name, dict):
        class_name = name.get("class_name")
        if class_name in _instantiable() and not (custom_objects and class_name in custom_objects):
            config = name.get("config", {})
            if not isinstance(config, dict):
                raise ValueError(f"The 'config' of loss {class_name!r} must be a dict, got {config!r:.200}.")
            return CLASSES[class_name].from_config(config)
        return registry.deserialize_object(name, custom_objects)
    raise TypeError(f"deserialize: name must be a loss name or a serialized loss dict, got "
                    f"{type(name).__name__}: {name!r:.200}.")
