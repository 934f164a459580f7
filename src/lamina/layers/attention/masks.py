"""Masks and the masked softmax shared by the attention layers."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from lamina import backend
from lamina.ops.symbolic import KerasTensor


def large_negative(dtype: str) -> float:
    """What masked logits get: far below any real logit, yet finite in the dtype."""
    return -3e4 if dtype == "float16" else -1e9


def causal_mask(target: int, source: int) -> Any:
    """(1, target, source), True where source position <= target position (each step sees itself and before)."""
    B = backend.impl
    rows = B.reshape(B.arange(target, dtype="int32"), (1, target, 1))
    columns = B.reshape(B.arange(source, dtype="int32"), (1, 1, source))
    return B.greater_equal(rows, columns)


def combined_mask(query: Any, value: Any, query_mask: Any, value_mask: Any, key_mask: Any, attention_mask: Any,
                  use_causal_mask: bool) -> Any:
    """The boolean (batch, target, source) mask that attention obeys, or None: the attention_mask given,
    and-ed with the query mask (batch, target), the value and key masks (batch, source) and the causal mask."""
    B = backend.impl
    parts = []
    if query_mask is not None:
        parts.append(B.expand_dims(B.cast(query_mask, "bool"), -1))
    for mask in (value_mask, key_mask):
        if mask is not None:
            parts.append(B.expand_dims(B.cast(mask, "bool"), -2))
    if use_causal_mask:
        parts.append(causal_mask(B.shape(query)[1], B.shape(value)[1]))
    if attention_mask is not None:
        parts.append(B.cast(attention_mask, "bool"))
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined = B.logical_and(combined, part)
    return combined


def masked_softmax(scores: Any, mask: Any, axes: tuple[int, ...] = (-1,)) -> Any:
    """Softmax over `axes` with masked entries left out; a fully masked row gives zeros."""
    B = backend.impl
    if mask is not None:
        keep = B.cast(mask, B.dtype_of(scores))
        scores = B.add(scores, B.multiply(B.subtract(1.0, keep), large_negative(B.dtype_of(scores))))
    if len(axes) == 1:
        weights = B.softmax(scores, axis=axes[0])
    else:
        exponentials = B.exp(B.subtract(scores, B.stop_gradient(B.max(scores, axis=axes, keepdims=True))))
        weights = B.divide(exponentials, B.sum(exponentials, axis=axes, keepdims=True))
    return weights if mask is None else B.multiply(weights, keep)


def expand_mask(mask: Any, rank: int, axis: int) -> Any:
    """mask with length-1 axes inserted at `axis` until it has `rank` axes (the heads' axis)."""
    B = backend.impl
    while mask is not None and len(B.shape(mask)) < rank:
        mask = B.expand_dims(mask, axis)
    return mask


def input_masks(*tensors: Any) -> list[Any] | None:
    """The masks that symbolic inputs carry (Embedding(mask_zero=True) and the like), or None if none has one."""
    masks = [getattr(t, "_keras_mask", None) if isinstance(t, KerasTensor) else None for t in tensors]
    return masks if any(m is not None for m in masks) else None


@contextlib.contextmanager
def masks_hidden(*tensors: Any) -> Iterator[None]:
    """Within: the eager tensors show no carried mask (restored after). Attention applies the masks itself, so
    its projections (which, as in Keras, do not support masking) must not see them."""
    saved = [(t, t._keras_mask) for t in tensors if getattr(t, "_keras_mask", None) is not None]
    for tensor, _ in saved:
        tensor._keras_mask = None
    try:
        yield
    finally:
        for tensor, mask in saved:
            tensor._keras_mask = mask


def split_masks(mask: Any, count: int) -> list[Any]:
    """A container's `mask` argument as one mask (or None) per input: a list, or the first input's mask."""
    if isinstance(mask, (list, tuple)):
        return list(mask) + [None] * (count - len(mask))
    return [mask] + [None] * (count - 1)


def call_masks(query: Any, value: Any, key: Any, query_mask: Any, value_mask: Any, key_mask: Any,
               attention_mask: Any, use_causal_mask: bool, mask: Any) -> tuple[Any, Any, bool]:
    """(key, the combined attention mask, whether a causal mask alone applies) for an attention call: masks
    given by name win over those the inputs carried in `mask`. A causal mask alone is left to the fused
    kernel, which then need not read a mask tensor."""
    key = value if key is None else key
    carried = split_masks(mask, 3)
    query_mask = carried[0] if query_mask is None else query_mask
    value_mask = carried[1] if value_mask is None else value_mask
    key_mask = carried[2] if key_mask is None and key is not value else key_mask
    only_causal = use_causal_mask and all(m is None for m in (query_mask, value_mask, key_mask, attention_mask))
    attention_mask = combined_mask(query, value, query_mask, value_mask, key_mask, attention_mask,
                                   use_causal_mask and not only_causal)
    return key, attention_mask, only_causal
