"""The ops of keras.ops.nn written from other ops: label encodings, CTC decoding, PSNR, depth and space."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lamina import backend
from lamina.ops.dispatch import backend_op

__all__ = ["ctc_decode", "depth_to_space", "multi_hot", "one_hot", "psnr", "space_to_depth"]


def _dense_only(sparse: bool, op: str) -> None:
    if sparse:
        raise ValueError(f"{op}: sparse=True is not supported; Lamina's tensors are dense (pass sparse=False).")


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype: Any = None, sparse: bool = False) -> Any:
    """Integer labels x as one-hot vectors on a new axis; a negative label gives a vector of zeros."""
    _dense_only(sparse, "one_hot")
    x = backend_op("convert_to_tensor")(x)
    outside = backend_op("less")(x, 0)
    encoded = backend_op("one_hot")(backend_op("where")(outside, num_classes, x), num_classes + 1,
                                    dtype=dtype or "float32")[..., :num_classes]
    rank = len(backend.impl.shape(encoded))
    if axis < -rank or axis >= rank:
        raise ValueError(f"one_hot: axis must be in [{-rank}, {rank}) for an input of rank {rank - 1}, got {axis}.")
    axis %= rank
    if axis == rank - 1:
        return encoded
    order = list(range(rank - 1))
    order.insert(axis, rank - 1)
    return backend_op("transpose")(encoded, order)


def multi_hot(inputs: Any, num_classes: int | None = None, axis: int = -1, dtype: Any = None,
              sparse: bool = False, **kwargs: Any) -> Any:
    """Integer labels (batch, labels) as (batch, num_classes) with a 1 for each label a sample has."""
    _dense_only(sparse, "multi_hot")
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)  # the Keras 2 name
    if kwargs:
        raise TypeError(f"multi_hot got unexpected arguments {sorted(kwargs)}.")
    if num_classes is None:
        raise ValueError("multi_hot needs num_classes, the number of classes.")
    inputs = backend_op("convert_to_tensor")(inputs)
    reduced_axis = 1 if len(backend.impl.shape(inputs)) > 1 else 0
    return backend_op("max")(one_hot(backend_op("cast")(inputs, "int32"), num_classes, axis=axis, dtype=dtype),
                             axis=reduced_axis)


def ctc_decode(inputs: Any, sequence_lengths: Any, strategy: str = "greedy", beam_width: int = 100,
               top_paths: int = 1, merge_repeated: bool = True, mask_index: int = 0) -> tuple[Any, Any]:
    """Decode CTC logits (batch, time, classes) into label sequences padded with -1.

    "greedy" gives the labels (1, batch, time) and the scores (batch, 1), minus the sum of the chosen logits;
    "beam_search" the top_paths most probable label sequences (top_paths, batch, time) and their log
    probabilities (batch, top_paths), by a prefix beam search of beam_width prefixes run on the host.
    """
    if strategy == "greedy":
        return backend_op("ctc_greedy_decode")(inputs, sequence_lengths, merge_repeated=merge_repeated,
                                               mask_index=mask_index)
    if strategy == "beam_search":
        return _ctc_beam_search(inputs, sequence_lengths, beam_width, top_paths, mask_index)
    raise ValueError(f'ctc_decode: strategy must be "greedy" or "beam_search", got {strategy!r}.')


def _ctc_beam_search(inputs: Any, sequence_lengths: Any, beam_width: int, top_paths: int,
                     mask_index: int) -> tuple[Any, Any]:
    try:
        logits = np.asarray(backend.impl.convert_to_numpy(inputs), np.float64)
        lengths = np.asarray(backend.impl.convert_to_numpy(sequence_lengths))
    except Exception as error:  # a traced value: the search reads every step's beams on the host
        raise ValueError('ctc_decode with strategy="beam_search" runs eagerly on the host, not inside a '
                         'compiled function.') from error
    shifted = logits - logits.max(-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    batch, steps, _ = logits.shape
    paths = np.full((top_paths, batch, steps), -1, np.int32)
    scores = np.full((batch, top_paths), -np.inf, np.float32)
    for sample in range(batch):
        best = _prefix_beam_search(log_probabilities[sample, :int(lengths[sample])], beam_width, mask_index)
        for rank, (prefix, score) in enumerate(best[:top_paths]):
            paths[rank, sample, :len(prefix)] = prefix
            scores[sample, rank] = score
    return backend_op("convert_to_tensor")(paths), backend_op("convert_to_tensor")(scores)


def _prefix_beam_search(log_probabilities: np.ndarray, beam_width: int, blank: int) -> list[tuple[tuple, float]]:
    """The most probable label sequences of one sample (time, classes) and their log probabilities, each the
    sum over every alignment of the sequence; at most beam_width prefixes survive each step."""
    classes = np.array([c for c in range(log_probabilities.shape[1]) if c != blank])
    # prefix -> (log probability of its alignments ending in a blank, of those ending in its last label)
    beams: dict[tuple, tuple[float, float]] = {(): (0.0, -np.inf)}
    for step in log_probabilities:
        grown: dict[tuple, list[float]] = {}

        def add(prefix: tuple, which: int, value: Any) -> None:
            entry = grown.setdefault(prefix, [-np.inf, -np.inf])
            entry[which] = np.logaddexp(entry[which], value)

        for prefix, (ends_blank, ends_label) in beams.items():
            total = np.logaddexp(ends_blank, ends_label)
            add(prefix, 0, total + step[blank])
            last = prefix[-1] if prefix else -1
            # a label repeating the last one extends the prefix only after a blank; else it merges into it
            extended = np.where(classes == last, ends_blank, total) + step[classes]
            for label, value in zip(classes.tolist(), extended.tolist()):
                add(prefix + (label,), 1, value)
            if last >= 0:
                add(prefix, 1, ends_label + step[last])
        ranked = sorted(grown.items(), key=lambda item: -np.logaddexp(*item[1]))[:beam_width]
        beams = {prefix: (value[0], value[1]) for prefix, value in ranked}
    results = [(prefix, float(np.logaddexp(*value))) for prefix, value in beams.items()]
    return sorted(results, key=lambda item: -item[1])


def psnr(x1: Any, x2: Any, max_val: Any) -> Any:
    """The peak signal-to-noise ratio in decibels of x2 against x1 (one number for the whole tensors)."""
    x1, x2 = backend_op("convert_to_tensor")(x1), backend_op("convert_to_tensor")(x2)
    if backend.impl.shape(x1) != backend.impl.shape(x2):
        raise ValueError(f"psnr needs x1 and x2 of one shape, got {backend.impl.shape(x1)} and "
                         f"{backend.impl.shape(x2)}.")
    mse = backend_op("mean")(backend_op("square")(backend_op("subtract")(x1, x2)))
    peak = backend_op("log")(backend_op("convert_to_tensor")(max_val, dtype=backend.impl.dtype_of(x2)))
    return backend_op("divide")(backend_op("subtract")(backend_op("multiply")(peak, 20.0),
                                                       backend_op("multiply")(backend_op("log")(mse), 10.0)),
                                math.log(10.0))


def _image_shape(x: Any, op: str, data_format: str) -> tuple[int, ...]:
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f'{op}: data_format must be "channels_last" or "channels_first", got {data_format!r}.')
    shape = tuple(backend.impl.shape(x))
    if len(shape) != 4:
        raise ValueError(f"{op} expects a 4D batch of images, got shape {shape}.")
    return shape


def depth_to_space(x: Any, block_size: int, data_format: str = "channels_last") -> Any:
    """Channels moved into block_size x block_size spatial blocks: (n, h, w, c) -> (n, h*b, w*b, c/b**2)."""
    x = backend_op("convert_to_tensor")(x)
    shape, b = _image_shape(x, "depth_to_space", data_format), block_size
    if data_format == "channels_last":
        n, h, w, c = shape
        _check_divisible(c, b * b, "depth_to_space", "channels")
        x = backend_op("reshape")(x, (n, h, w, b, b, c // (b * b)))
        x = backend_op("transpose")(x, (0, 1, 3, 2, 4, 5))
        return backend_op("reshape")(x, (n, h * b, w * b, c // (b * b)))
    n, c, h, w = shape
    _check_divisible(c, b * b, "depth_to_space", "channels")
    # channels first orders the channels as torch's pixel_shuffle does: (channel, block row, block column)
    x = backend_op("reshape")(x, (n, c // (b * b), b, b, h, w))
    x = backend_op("transpose")(x, (0, 1, 4, 2, 5, 3))
    return backend_op("reshape")(x, (n, c // (b * b), h * b, w * b))


def space_to_depth(x: Any, block_size: int, data_format: str = "channels_last") -> Any:
    """block_size x block_size spatial blocks moved into channels: (n, h, w, c) -> (n, h/b, w/b, c*b**2)."""
    x = backend_op("convert_to_tensor")(x)
    shape, b = _image_shape(x, "space_to_depth", data_format), block_size
    if data_format == "channels_last":
        n, h, w, c = shape
        _check_divisible(h, b, "space_to_depth", "height")
        _check_divisible(w, b, "space_to_depth", "width")
        x = backend_op("reshape")(x, (n, h // b, b, w // b, b, c))
        x = backend_op("transpose")(x, (0, 1, 3, 2, 4, 5))
        return backend_op("reshape")(x, (n, h // b, w // b, c * b * b))
    n, c, h, w = shape
    _check_divisible(h, b, "space_to_depth", "height")
    _check_divisible(w, b, "space_to_depth", "width")
    x = backend_op("reshape")(x, (n, c, h // b, b, w // b, b))
    x = backend_op("transpose")(x, (0, 1, 3, 5, 2, 4))
    return backend_op("reshape")(x, (n, c * b * b, h // b, w // b))


def _check_divisible(size: int, block: int, op: str, what: str) -> None:
    if size % block:
        raise ValueError(f"{op}: the {what} ({size}) must be a multiple of {block}.")
