"""Nested structures of inputs and outputs: flattening order, rebuilding, mapping."""

from __future__ import annotations

from collections import namedtuple

import pytest

from lamina.utils import tree

Pair = namedtuple("Pair", ["first", "second"])


def test_leaves_are_anything_but_lists_tuples_and_dicts() -> None:
    assert tree.flatten(3) == [3]
    assert tree.flatten(None) == [None]
    assert tree.flatten("text") == ["text"]
    assert not tree.is_nested(3) and not tree.is_nested("text")
    assert tree.is_nested([]) and tree.is_nested(()) and tree.is_nested({})


def test_flatten_walks_dicts_in_sorted_key_order() -> None:
    # Keras's order: the order of a dict's keys does not change the order of its leaves.
    assert tree.flatten({"b": 2, "a": 1, "c": [3, 4]}) == [1, 2, 3, 4]
    assert tree.flatten({"c": [3, 4], "a": 1, "b": 2}) == [1, 2, 3, 4]


def test_flatten_nested_lists_tuples_and_dicts() -> None:
    structure = [1, (2, {"y": 4, "x": 3}), [], {"z": [5, (6,)]}]
    assert tree.flatten(structure) == [1, 2, 3, 4, 5, 6]
    assert tree.flatten([[], (), {}]) == []


@pytest.mark.parametrize("structure", [
    [1, (2, 3), {"b": 5, "a": 4}],
    {"second": [1, 2], "first": (3, {"k": 4})},
    (1,),
    Pair(1, [2, 3]),
    [Pair(first={"u": 1}, second=2)],
    7,
])
def test_unflatten_rebuilds_the_same_structure(structure) -> None:
    rebuilt = tree.unflatten_as(structure, tree.flatten(structure))
    assert rebuilt == structure
    assert type(rebuilt) is type(structure)


def test_unflatten_keeps_the_structures_key_order_and_container_types() -> None:
    structure = {"b": [0, 0], "a": (0,)}
    rebuilt = tree.unflatten_as(structure, ["a0", "b0", "b1"])  # leaves in flatten's (sorted) order
    assert rebuilt == {"b": ["b0", "b1"], "a": ("a0",)}
    assert list(rebuilt) == ["b", "a"]
    assert isinstance(rebuilt["b"], list) and isinstance(rebuilt["a"], tuple)
    pair = tree.unflatten_as(Pair(0, 0), ["x", "y"])
    assert isinstance(pair, Pair) and pair.first == "x" and pair.second == "y"


def test_map_structure_applies_to_every_leaf() -> None:
    structure = {"b": [1, 2], "a": (3, {"c": 4})}
    assert tree.map_structure(lambda x: x * 10, structure) == {"b": [10, 20], "a": (30, {"c": 40})}
    assert tree.map_structure(str, 5) == "5"
    calls = []
    tree.map_structure(calls.append, {"z": 1, "y": 2})
    assert calls == [2, 1]  # sorted key order, as flatten


def test_unflatten_with_too_many_leaves_raises() -> None:
    with pytest.raises(ValueError):
        tree.unflatten_as([0, 0], [1, 2, 3])


def test_unflatten_with_too_few_leaves_raises() -> None:
    with pytest.raises((ValueError, RuntimeError, StopIteration)):
        tree.unflatten_as([0, (0, 0)], [1, 2])
