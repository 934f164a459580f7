"""Errors of a load, each named by where it lies in the file ("config.json: config.layers[3].config.units").

Whatever a damaged file makes a layer raise while it is made or built (a TypeError for a string where a
number belongs, a KeyError for a deleted key) becomes one ValueError that names the member of the file, the
path of the layer's entry in it and, where the message names one, the key.
"""

from __future__ import annotations

import contextlib
import re
from typing import Any, Iterator

from lamina.saving import load_budget

# What code that reads a damaged config or weights file can raise; each becomes a located ValueError.
FAULTS = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError, OverflowError,
          ZeroDivisionError, NotImplementedError, UnicodeError, RuntimeError, AssertionError, OSError)


_MISSING_ARGUMENT = re.compile(r"missing \d+ required (?:keyword-only |positional )?arguments?: '(\w+)'")


class LoadError(ValueError):
    """A fault of a file, already located: outer layers of loading pass it on as it is."""


@contextlib.contextmanager
def located(member: str, fallback: str | None = None) -> Iterator[None]:
    """Within the block, a fault becomes a LoadError naming `member` and the place in it: the layer entry
    that raised it if one can be found, else `fallback` (a path in the member) if given."""
    try:
        yield
    except LoadError:
        raise
    except FAULTS as error:
        raise LoadError(describe(error, member, fallback)) from error
    except MemoryError as error:
        # what the budget cannot see: an intermediate result of building a layer (a huge upsampling factor)
        raise LoadError(describe(error, member, fallback)) from None


def describe(error: BaseException, member: str, fallback: str | None = None) -> str:
    """`member: place: message`, the place found from the layer whose making or building raised `error`."""
    message = _message(error)
    if message.startswith(f"{member}:"):
        return message
    budget = load_budget.current()
    place = _place(error) if budget is not None else None
    if place is None:
        return f"{member}: {fallback}: {message}" if fallback else f"{member}: {message}"
    path, inner = place
    where = load_budget.inner_path(path)
    if message.startswith("Unknown class"):
        return f"{member}: {path + '.' if path else ''}class_name: {message}"
    missing = _MISSING_ARGUMENT.search(message) if isinstance(error, TypeError) else None
    if missing is not None and missing.group(1) not in inner:
        return f"{member}: {where} has no key {missing.group(1)!r}, which its class needs."
    key = _key_named(error, message, inner)
    if isinstance(error, KeyError) and key is not None and key not in inner:
        return f"{member}: {where} has no key {key!r}, which its class needs."
    if key is not None and key in inner:
        where = f"{where}.{key}"
    return f"{member}: {where}: {message}"


def _message(error: BaseException) -> str:
    if isinstance(error, KeyError):
        return f"missing key {error.args[0]!r}" if error.args else "a missing key"
    if isinstance(error, RecursionError):
        return "it nests deeper than Lamina reads"
    if isinstance(error, MemoryError):
        budget = load_budget.current()
        limit = f" (far over {budget.describe()})" if budget is not None else ""
        return f"building the model it describes needs more memory than this machine has{limit}: {error}"
    if isinstance(error, ValueError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _place(error: BaseException) -> tuple[str, dict] | None:
    """(path, inner config) of the innermost layer being made or built when `error` was raised."""
    from lamina.layers.layer import Layer

    budget = load_budget.current()
    frames = []
    tb = error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        local = frame.f_locals
        config = local.get("config") if frame.f_code.co_name == "deserialize_layer" else None
        if isinstance(config, dict):
            path = load_budget.config_path(config)
            if path is not None:
                inner = config.get("config")
                return path, inner if isinstance(inner, dict) else {}
        owner = local.get("self")
        if isinstance(owner, Layer):
            name = owner.__dict__.get("name", owner.__dict__.get("_name"))
            if isinstance(name, str) and name in budget.layers:
                return budget.layers[name]
    return None


def _key_named(error: BaseException, message: str, inner: dict) -> str | None:
    """The config key the error is about: a KeyError's key, or a key of `inner` the message quotes."""
    if isinstance(error, KeyError) and error.args and isinstance(error.args[0], str):
        return error.args[0]
    for word in re.findall(r"['\"`]?([A-Za-z_][A-Za-z0-9_]*)['\"`]?", message):
        if word in inner and len(word) > 2:
            return word
    return None
