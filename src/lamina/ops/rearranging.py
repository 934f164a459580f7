"""rearrange: einops-style axis reordering, grouping and splitting ("b h w c -> b (h w) c")."""

from __future__ import annotations

import math
import re
from typing import Any

from lamina import backend
from lamina.ops.dispatch import backend_op

__all__ = ["rearrange"]

_TOKEN = re.compile(r"\.\.\.|\(|\)|[A-Za-z_][A-Za-z0-9_]*")


def _groups(side: str, pattern: str) -> list[list[str]]:
    """One side of the pattern as its groups of axis names: "b (h w) c" -> [["b"], ["h", "w"], ["c"]]."""
    if re.sub(r"\.\.\.|[()\sA-Za-z0-9_]", "", side):
        raise ValueError(f"rearrange: the pattern {pattern!r} holds characters other than names, '...' and "
                         f"parentheses.")
    groups: list[list[str]] = []
    inside: list[str] | None = None
    for token in _TOKEN.findall(side):
        if token == "(":
            if inside is not None:
                raise ValueError(f"rearrange: nested parentheses in {pattern!r}.")
            inside = []
        elif token == ")":
            if inside is None:
                raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}.")
            groups.append(inside)
            inside = None
        elif inside is not None:
            inside.append(token)
        else:
            groups.append([token])
    if inside is not None:
        raise ValueError(f"rearrange: unbalanced parentheses in {pattern!r}.")
    return groups


def _expand_ellipsis(groups: list[list[str]], names: list[str]) -> list[list[str]]:
    expanded = []
    for group in groups:
        if group == ["..."]:
            expanded.extend([name] for name in names)
        else:
            expanded.append([part for name in group for part in (names if name == "..." else [name])])
    return expanded


def rearrange(tensor: Any, pattern: str, **axes_lengths: int) -> Any:
    """tensor with its axes reordered, merged and split as pattern says, e.g. "b (h w) c -> b h w c" with h=4."""
    if pattern.count("->") != 1:
        raise ValueError(f"rearrange: the pattern must have one '->', got {pattern!r}.")
    tensor = backend_op("convert_to_tensor")(tensor)
    shape = tuple(backend.impl.shape(tensor))
    left_side, right_side = pattern.split("->")
    left, right = _groups(left_side, pattern), _groups(right_side, pattern)
    explicit = sum(1 for group in left if group != ["..."])
    if sum(group.count("...") for group in left) > 1 or (any("..." in g for g in left) and len(shape) < explicit) \
            or (not any("..." in g for g in left) and len(shape) != len(left)):
        raise ValueError(f"rearrange: the pattern {pattern!r} names {len(left)} axes, the tensor has shape {shape}.")
    ellipsis = [f"...{i}" for i in range(len(shape) - explicit)]
    left, right = _expand_ellipsis(left, ellipsis), _expand_ellipsis(right, ellipsis)
    sizes = dict(axes_lengths)
    for group, size in zip(left, shape):
        unknown = [name for name in group if name not in sizes]
        known = math.prod(sizes[name] for name in group if name in sizes)
        if len(unknown) > 1:
            raise ValueError(f"rearrange: give the lengths of all but one of {group} in {pattern!r}.")
        if unknown:
            sizes[unknown[0]] = size // known
        if math.prod(sizes[name] for name in group) != size:
            raise ValueError(f"rearrange: axes {group} of lengths {[sizes[n] for n in group]} do not make an axis "
                             f"of length {size}.")
    elementary = [name for group in left for name in group]
    wanted = [name for group in right for name in group]
    if sorted(elementary) != sorted(wanted):
        raise ValueError(f"rearrange: both sides of {pattern!r} must name the same axes, got {elementary} and "
                         f"{wanted}.")
    tensor = backend_op("reshape")(tensor, tuple(sizes[name] for name in elementary))
    order = [elementary.index(name) for name in wanted]
    if order != sorted(order):
        tensor = backend_op("transpose")(tensor, order)
    return backend_op("reshape")(tensor, tuple(math.prod(sizes[name] for name in group) for group in right))
