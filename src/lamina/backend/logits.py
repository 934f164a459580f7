"""The logits behind a softmax or sigmoid output, for the cross-entropies of every backend.

From probabilities, a cross-entropy must clip them away from 0 and 1 before the log, which changes
its value once a softmax saturates and stops its gradient there; from the logits it needs no clip.
So the jax and numpy backends' `softmax` and `sigmoid` record their input here, keyed by the identity
of their output and only for as long as that output lives (jax arrays, traced ones too, and numpy
arrays take weak references but no attributes), and the losses ask `logits_of(y_pred)` for it. The
torch backend keeps the logits as an attribute of its output tensor instead, which torch.compile can
trace; every backend finds the same logits and computes the same value.
"""

from __future__ import annotations

import weakref
from typing import Any

# id(probabilities) -> (weak reference to them, logits, "softmax" or "sigmoid", softmax axis or None)
_RECORDS: dict[int, tuple[weakref.ref, Any, str, int | None]] = {}
ACTIVATIONS = ("softmax", "sigmoid")


def _forget(key: int, reference: weakref.ref) -> None:
    entry = _RECORDS.get(key)
    if entry is not None and entry[0] is reference:
        del _RECORDS[key]


def record_logits(probabilities: Any, logits: Any, activation: str, axis: int | None = None) -> Any:
    """Note that `activation` (over `axis` for a softmax) made `probabilities` from `logits`; returns them."""
    key = id(probabilities)
    try:
        reference = weakref.ref(probabilities, lambda dead: _forget(key, dead))
    except TypeError:  # a numpy scalar takes no weak reference: no record, the loss clips
        return probabilities
    if axis is not None:
        axis = axis % max(probabilities.ndim, 1)
    _RECORDS[key] = (reference, logits, activation, axis)
    return probabilities


def logits_of(probabilities: Any, activation: str = "softmax", axis: int = -1) -> Any | None:
    """The logits that this backend's `activation` ("softmax" over `axis`, or "sigmoid") turned into
    exactly this `probabilities` object, or None when it came from anywhere else."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}.")
    entry = _RECORDS.get(id(probabilities))
    if entry is None or entry[0]() is not probabilities or entry[2] != activation:
        return None
    if activation == "softmax" and entry[3] != axis % max(probabilities.ndim, 1):
        return None
    return entry[1]
