"""Flatten and rebuild nested lists, tuples and dicts of leaves (inputs, outputs, losses)."""

from __future__ import annotations

from typing import Any, Callable


def is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple, dict))


def flatten(x: Any) -> list[Any]:
    """Leaves in order; dicts are walked in sorted key order, as Keras does."""
    if isinstance(x, dict):
        return [leaf for key in sorted(x) for leaf in flatten(x[key])]
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in flatten(item)]
    return [x]


def unflatten_as(structure: Any, leaves: list[Any]) -> Any:
    """`structure` with its leaves replaced, in order, by `leaves`; their counts must match."""
    iterator = iter(leaves)

    def build(s: Any) -> Any:
        if isinstance(s, dict):
            rebuilt = {key: build(s[key]) for key in sorted(s)}
            return {key: rebuilt[key] for key in s}
        if isinstance(s, (list, tuple)):
            return type(s)(build(item) for item in s) if not hasattr(s, "_fields") else type(s)(*[build(i) for i in s])
        return next(iterator)

    rebuilt = build(structure)
    if next(iterator, iterator) is not iterator:
        raise ValueError(f"Too many leaves: the structure takes {len(flatten(structure))}, got {len(leaves)}.")
    return rebuilt


def map_structure(fn: Callable[[Any], Any], x: Any) -> Any:
    return unflatten_as(x, [fn(leaf) for leaf in flatten(x)])
