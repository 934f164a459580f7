"""lamina.tree: Keras's nested-structure helpers, on lists, tuples, named tuples and dicts."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from lamina import tree

Point = collections.namedtuple("Point", "x y")
NESTED = {"b": 1, "a": [2, None, (3,)]}


def test_flatten_visits_dict_keys_in_sorted_order_and_keeps_none():
    assert tree.flatten(NESTED) == [2, None, 3, 1]
    assert tree.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]
    assert tree.flatten(None) == [None] and tree.flatten(3) == [3] and tree.flatten({}) == []
    assert tree.flatten(Point(1, [2])) == [1, 2]


def test_is_nested():
    assert tree.is_nested([]) and tree.is_nested({}) and tree.is_nested(Point(1, 2))
    assert not any(tree.is_nested(v) for v in (None, "ab", 3, np.zeros(2)))


def test_flatten_with_path():
    assert tree.flatten_with_path({"b": 1, "a": [2, (3,)]}) == [(("a", 0), 2), (("a", 1, 0), 3), (("b",), 1)]
    assert tree.flatten_with_path([1, {"x": Point(2, 3)}]) == [((0,), 1), ((1, "x", 0), 2), ((1, "x", 1), 3)]


def test_pack_sequence_as_fills_sorted_keys_and_keeps_the_dict_order():
    packed = tree.pack_sequence_as({"b": 0, "a": [0, 0]}, [1, 2, 3])
    assert packed == {"b": 3, "a": [1, 2]} and list(packed) == ["b", "a"]
    assert tree.pack_sequence_as(Point(0, (0,)), [5, 6]) == Point(5, (6,))
    with pytest.raises(ValueError, match="2 leaves but flat_sequence has 1"):
        tree.pack_sequence_as([0, 0], [1])


def test_map_structure_over_several_structures():
    assert tree.map_structure(lambda a, b: (a, b), [1, None], [2, 3]) == [(1, 2), (None, 3)]
    assert tree.map_structure(lambda a: a * 2, Point(1, 2)) == Point(2, 4)
    assert tree.map_structure(lambda a: a + 1, [1, None], none_is_leaf=False) == [2, None]
    with pytest.raises(ValueError, match="2 items against 1"):
        tree.map_structure(lambda a, b: a, [1, 2], [1])


def test_map_structure_up_to_passes_whole_subtrees():
    result = tree.map_structure_up_to([1, [2]], lambda a, b: (a, b), [[1, 2], [3]], [["x", "y"], [4]])
    assert result == [([1, 2], ["x", "y"]), [(3, 4)]]
    with pytest.raises(ValueError, match="shallow structure"):
        tree.map_structure_up_to([1, [2]], lambda a: a, [1, 2])


def test_assert_same_structure_tells_lists_from_tuples_and_assert_same_paths_does_not():
    tree.assert_same_structure({"a": [1, (2,)]}, {"a": [5, (6,)]})
    with pytest.raises(ValueError, match="list against tuple"):
        tree.assert_same_structure([1, 2], (1, 2))
    with pytest.raises(ValueError, match="int against list at \\[1\\]"):
        tree.assert_same_structure([1, 2], [1, [2]])
    tree.assert_same_paths([1, 2], (1, 2))
    with pytest.raises(ValueError, match="only in a: \\[\\('a',\\)\\]; only in b: \\[\\('b',\\)\\]"):
        tree.assert_same_paths({"a": 1}, {"b": 1})


def test_lists_to_tuples_and_shapes_as_leaves():
    assert tree.lists_to_tuples([1, [2, {"a": [3]}]]) == (1, (2, {"a": (3,)}))
    shapes = {"a": (None, 3), "b": [(2,), [1, None]], "c": ()}
    assert tree.map_shape_structure(len, shapes) == {"a": 2, "b": [1, 2], "c": 0}


def test_traverse_top_down_and_bottom_up():
    visited = []
    assert tree.traverse(lambda node: visited.append(node), [1, [2, 3]]) == [1, [2, 3]]
    assert visited == [[1, [2, 3]], 1, [2, 3], 2, 3]
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None, [1, [2, 3]]) == [1, [None, 3]]
    replaced = tree.traverse(lambda x: "X" if x == [2, 3] else None, [1, [2, 3]], top_down=False)
    assert replaced == [1, "X"]
    # top-down, a replaced node is not visited below
    seen = []
    tree.traverse(lambda x: seen.append(x) or ("cut" if x == [2, 3] else None), [1, [2, 3]])
    assert 2 not in seen
