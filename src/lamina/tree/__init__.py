"""Nested structures as Keras's `keras.tree` sees them: lists, tuples, named tuples and dicts around leaves.

A dict's items are visited in sorted key order (an OrderedDict's in its own order) and rebuilt in the dict's
own order; None is a leaf unless `map_structure` is told otherwise. Everything else is a leaf, NumPy arrays
and tensors included.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from typing import Any, Callable, Iterator

__all__ = ["MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
           "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
           "pack_sequence_as", "traverse"]


class MAP_TO_NONE:  # noqa: N801  (Keras's name)
    """What a `traverse` function returns to put None in place of a node (returning None keeps the node)."""


def is_nested(structure: Any) -> bool:
    """Whether `structure` is a list, tuple or mapping (and so has children), not a leaf."""
    return isinstance(structure, (list, tuple, Mapping))


def _keys(node: Any) -> list[Any]:
    """The keys of a node's children in visiting order."""
    if isinstance(node, Mapping):
        if isinstance(node, collections.OrderedDict):
            return list(node)
        try:
            return sorted(node)
        except TypeError:  # keys of mixed types cannot be sorted: keep the mapping's own order
            return list(node)
    return list(range(len(node)))


def _children(node: Any) -> list[Any]:
    return [node[key] for key in _keys(node)]


def _rebuilt(node: Any, children: list[Any]) -> Any:
    """A node of `node`'s type holding `children` (given in visiting order)."""
    if isinstance(node, Mapping):
        by_key = dict(zip(_keys(node), children))
        items = [(key, by_key[key]) for key in node]
        if isinstance(node, collections.defaultdict):
            return collections.defaultdict(node.default_factory, items)
        return type(node)(items) if type(node) is not dict else dict(items)
    if isinstance(node, tuple) and hasattr(node, "_fields"):  # a named tuple
        return type(node)(*children)
    return type(node)(children) if isinstance(node, (list, tuple)) else children


def _walk(structure: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if is_nested(structure):
        for key in _keys(structure):
            yield from _walk(structure[key], path + (key,))
    else:
        yield path, structure


def flatten(structure: Any) -> list[Any]:
    """The leaves of `structure`, in visiting order."""
    return [leaf for _, leaf in _walk(structure)]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """(path, leaf) pairs, a path being the tuple of keys and indices that lead from the root to the leaf."""
    return list(_walk(structure))


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """`structure` with its leaves replaced, in visiting order, by the items of `flat_sequence`."""
    leaves = list(flat_sequence)
    expected = len(flatten(structure))
    if len(leaves) != expected:
        raise ValueError(f"pack_sequence_as: the structure has {expected} leaves but flat_sequence has "
                         f"{len(leaves)} items.")
    remaining = iter(leaves)

    def build(node: Any) -> Any:
        return _rebuilt(node, [build(child) for child in _children(node)]) if is_nested(node) else next(remaining)

    return build(structure)


def _kind(node: Any) -> Any:
    """What two nodes must share to have the same structure: named tuples their type, others list/tuple/mapping."""
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return type(node)
    if isinstance(node, Mapping):
        return Mapping
    return list if isinstance(node, list) else tuple


def _structure_mismatch(a: Any, b: Any, path: tuple = ()) -> str | None:
    """Where and how `a` and `b` differ in structure, or None when they do not."""
    if not is_nested(a) and not is_nested(b):
        return None
    where = f" at {list(path)}" if path else ""
    if is_nested(a) != is_nested(b) or _kind(a) is not _kind(b):
        return f"{type(a).__name__} against {type(b).__name__}{where}"
    keys_a, keys_b = _keys(a), _keys(b)
    if isinstance(a, Mapping) and set(keys_a) != set(keys_b):
        return f"keys {sorted(map(str, keys_a))} against {sorted(map(str, keys_b))}{where}"
    if len(keys_a) != len(keys_b):
        return f"{len(keys_a)} items against {len(keys_b)}{where}"
    for key in keys_a:
        found = _structure_mismatch(a[key], b[key], path + (key,))
        if found:
            return found
    return None


def assert_same_structure(a: Any, b: Any, check_types: Any = None) -> None:
    """Raise a ValueError unless `a` and `b` nest the same way (a list and a tuple differ). `check_types` is
    accepted for Keras 2's callers and ignored: types are always checked."""
    found = _structure_mismatch(a, b)
    if found:
        raise ValueError(f"The structures differ: {found}.")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise a ValueError unless `a` and `b` have leaves at the same paths (a list and a tuple may match)."""
    paths_a = {path for path, _ in _walk(a)}
    paths_b = {path for path, _ in _walk(b)}
    if paths_a != paths_b:
        raise ValueError(f"The structures have different paths: only in a: {sorted(paths_a - paths_b, key=str)}; "
                         f"only in b: {sorted(paths_b - paths_a, key=str)}.")


def map_structure(func: Callable[..., Any], *structures: Any, none_is_leaf: bool = True) -> Any:
    """`func` applied to the leaves at each position of `structures` (which must nest alike), in the shape of
    the first. With `none_is_leaf=False` a None in the first structure stays None and `func` is not called."""
    if not structures:
        raise ValueError("map_structure needs at least one structure.")
    first = structures[0]
    for other in structures[1:]:
        assert_same_structure(first, other)
    columns = zip(*(flatten(structure) for structure in structures))
    leaves = [None if not none_is_leaf and column[0] is None else func(*column) for column in columns]
    return pack_sequence_as(first, leaves)


def _flatten_up_to(shallow: Any, structure: Any, path: tuple = ()) -> list[Any]:
    """The subtrees of `structure` that sit where `shallow` has its leaves."""
    if not is_nested(shallow):
        return [structure]
    if not is_nested(structure) or len(_keys(structure)) != len(_keys(shallow)):
        raise ValueError(f"map_structure_up_to: the structure at {list(path)} does not have the shape of the "
                         f"shallow structure ({type(shallow).__name__} of {len(_keys(shallow))} items), got "
                         f"{structure!r:.80}.")
    if isinstance(shallow, Mapping) and set(_keys(shallow)) != set(_keys(structure)):
        raise ValueError(f"map_structure_up_to: keys {_keys(structure)} at {list(path)} differ from the shallow "
                         f"structure's {_keys(shallow)}.")
    return [part for key in _keys(shallow) for part in _flatten_up_to(shallow[key], structure[key], path + (key,))]


def map_structure_up_to(shallow_structure: Any, func: Callable[..., Any], *structures: Any) -> Any:
    """Like `map_structure`, but descending only as deep as `shallow_structure`: `func` gets whole subtrees."""
    columns = zip(*(_flatten_up_to(shallow_structure, structure) for structure in structures))
    return pack_sequence_as(shallow_structure, [func(*column) for column in columns])


def lists_to_tuples(structure: Any) -> Any:
    """`structure` with every list, at any depth, turned into a tuple."""
    if not is_nested(structure):
        return structure
    children = [lists_to_tuples(child) for child in _children(structure)]
    return tuple(children) if isinstance(structure, list) else _rebuilt(structure, children)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(d, int) or d is None for d in value)


def map_shape_structure(func: Callable[[Any], Any], structure: Any) -> Any:
    """`func` applied to every shape (a tuple or list of ints and None) in `structure`, shapes taken as leaves."""
    if _is_shape(structure) or not is_nested(structure):
        return func(structure)
    return _rebuilt(structure, [map_shape_structure(func, child) for child in _children(structure)])


def traverse(func: Callable[[Any], Any], structure: Any, top_down: bool = True) -> Any:
    """Visit every node, subtrees included. Top-down, `func(node)` returning something other than None
    replaces the node without visiting below it (`MAP_TO_NONE` replaces it with None). Bottom-up, the
    children are visited first and `func` sees the node rebuilt from their results; None keeps it."""

    def result_of(node: Any, returned: Any) -> Any:
        if returned is MAP_TO_NONE:
            return None
        return node if returned is None else returned

    def visit(node: Any) -> Any:
        if top_down:
            returned = func(node)
            if returned is not None:
                return result_of(node, returned)
            return _rebuilt(node, [visit(child) for child in _children(node)]) if is_nested(node) else node
        if is_nested(node):
            node = _rebuilt(node, [visit(child) for child in _children(node)])
        return result_of(node, func(node))

    return visit(structure)
