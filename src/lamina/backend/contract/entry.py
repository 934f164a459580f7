"""One entry of the backend contract."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """One name of the contract.

    Args:
        name: the attribute of the backend package; "Class.member" for a member of a class it provides.
        signature: the call, as Python text ("sum(x, axis=None, keepdims=False)"); None for a value.
        meaning: what it is for, in one line.
        inference: whether the inference-only numpy backend must provide it too.
    """

    name: str
    signature: str | None
    meaning: str
    inference: bool = True
