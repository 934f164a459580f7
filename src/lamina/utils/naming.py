"""Names: snake_case class names, unique layer names, and lookups that suggest the closest name."""

from __future__ import annotations

import difflib
import re
from typing import Any, Mapping

from lamina.backend import global_state

_name_counts = global_state.name_counts


def to_snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(base: str) -> str:
    """'dense', then 'dense_1', 'dense_2', ... for the life of the process."""
    count = _name_counts[base]
    _name_counts[base] += 1
    return base if count == 0 else f"{base}_{count}"


def lookup(kind: str, identifier: str, table: Mapping[str, Any]) -> Any:
    """table[identifier], or a ValueError that names the closest valid names."""
    if identifier in table:
        return table[identifier]
    folded = {key.lower(): key for key in table}
    if identifier.lower() in folded:
        return table[folded[identifier.lower()]]
    close = difflib.get_close_matches(identifier, list(table), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    valid = ", ".join(sorted(k for k in table if k.islower() or "_" in k)[:40])
    raise ValueError(f"Unknown {kind} {identifier!r}.{hint} Valid names include: {valid}.")


def resolve(kind: str, identifier: Any, base: type, classes: Mapping[str, type], names: Mapping[str, type]) -> Any:
    """An object of a family (initializer, regularizer, ...) from an instance, a name, a config dict or a callable.

    Config dicts name a built-in class, or a user class registered for saving.
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        return lookup(kind, identifier, {**classes, **names})()
    if isinstance(identifier, dict):
        if identifier.get("class_name") in classes:
            return classes[identifier["class_name"]].from_config(identifier.get("config", {}))
        from lamina.saving import registry

        return registry.deserialize_object(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"A {kind} must be a name, a config dict or a callable, got {type(identifier).__name__}.")


def describe(module: str, value: Any, base: type, classes: Mapping[str, type]) -> Any:
    """The Keras-layout config of a family object; user classes go through the saving registry."""
    if not isinstance(value, base):
        return value
    if classes.get(type(value).__name__) is type(value):
        return {"module": module, "class_name": type(value).__name__, "config": value.get_config(),
                "registered_name": None}
    from lamina.saving import registry

    return registry.serialize_object(value)
