"""CategoryEncoding and Discretization: integer categories and numeric buckets as indices or one-/multi-hot rows."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.structured.data import batches, host_array, plain

ENCODED_MODES = ("one_hot", "multi_hot", "count")


def check_choice(value: Any, name: str, choices: Sequence[Any], owner: str) -> None:
    if value not in choices:
        raise ValueError(f"{owner} {name} must be one of {', '.join(map(repr, choices))}, got {value!r}.")


def check_dense(sparse: Any, owner: str) -> None:
    if sparse:
        raise ValueError(f"{owner} computes dense outputs only: sparse must be False, got {sparse!r}.")


def encoded_shape(input_shape: Sequence[int | None], depth: int, output_mode: str) -> tuple:
    """The output shape of `encode`: one_hot adds an axis (replacing a last axis of size 1), the others
    replace the last axis."""
    shape = tuple(input_shape)
    if not shape:
        return (depth,)
    if output_mode == "one_hot" and (shape[-1] != 1 or len(shape) == 1):
        return shape + (depth,)
    return shape[:-1] + (depth,)


def encode(indices: Any, depth: int, output_mode: str, dtype: str, count_weights: Any = None) -> Any:
    """Integer indices in [0, depth) as one_hot, multi_hot or count rows (the last axis holds the categories)."""
    indices = ops.convert_to_tensor(indices)
    rank = len(indices.shape)
    if rank == 0:
        indices = ops.reshape(indices, (1,))
    elif output_mode == "one_hot" and rank > 1 and indices.shape[-1] == 1:
        indices = ops.squeeze(indices, -1)
    hot = ops.cast(ops.equal(ops.expand_dims(indices, -1), ops.arange(depth, dtype=backend.impl.dtype_of(indices))),
                   dtype)  # (..., n, depth)
    if output_mode == "one_hot":
        return hot if rank > 0 else ops.reshape(hot, (depth,))
    if output_mode == "multi_hot":
        return ops.max(hot, axis=-2)
    if count_weights is not None:
        hot = ops.multiply(hot, ops.expand_dims(ops.cast(ops.convert_to_tensor(count_weights), dtype), -1))
    return ops.sum(hot, axis=-2)


class CategoryEncoding(Layer):
    """Integer categories in [0, num_tokens) as one-hot, multi-hot or count rows (of the layer's dtype).

    one_hot encodes every value (a last axis of size 1 is replaced); multi_hot and count reduce the last
    axis, so a batch of index lists gives one row per list. `count_weights` (count mode) weighs each index.
    Values outside [0, num_tokens) encode as zeros (no error is raised inside the computation)."""

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens < 1:
            raise ValueError(f"CategoryEncoding num_tokens must be a positive int, got {num_tokens!r}.")
        check_choice(output_mode, "output_mode", ENCODED_MODES, "CategoryEncoding")
        check_dense(sparse, "CategoryEncoding")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def call(self, inputs: Any, count_weights: Any = None) -> Any:
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("CategoryEncoding count_weights applies to output_mode='count' only, got output_mode="
                             f"{self.output_mode!r}.")
        return encode(inputs, self.num_tokens, self.output_mode, self.dtype, count_weights)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return encoded_shape(input_shape, self.num_tokens, self.output_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode,
                "sparse": self.sparse}


class Discretization(Layer):
    """Buckets numbers by boundaries: bucket i holds boundaries[i-1] <= x < boundaries[i].

    bin_boundaries: sorted boundaries; or num_bins and `adapt(data)`, which takes the boundaries at the
    1/num_bins quantiles of the data (exact quantiles, computed on the host: Keras approximates them with a
    summary whose error is bounded by `epsilon`, so adapted boundaries may differ slightly). output_mode
    "int" gives the bucket indices (int64), the others encode them as in CategoryEncoding."""

    def __init__(self, bin_boundaries: Sequence[float] | None = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False, dtype: Any = None,
                 name: str | None = None, **kwargs: Any) -> None:
        check_choice(output_mode, "output_mode", ("int", *ENCODED_MODES), "Discretization")
        check_dense(sparse, "Discretization")
        super().__init__(name=name, dtype=dtype or ("int64" if output_mode == "int" else None), **kwargs)
        if (bin_boundaries is None) == (num_bins is None):
            raise ValueError("Discretization needs exactly one of bin_boundaries and num_bins, got "
                             f"bin_boundaries={bin_boundaries!r} and num_bins={num_bins!r}.")
        if num_bins is not None and (not isinstance(num_bins, int) or num_bins < 1):
            raise ValueError(f"Discretization num_bins must be a positive int, got {num_bins!r}.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b > a for a, b in zip(bin_boundaries[1:], bin_boundaries)):
                raise ValueError(f"Discretization bin_boundaries must be sorted, got {bin_boundaries!r}.")
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse

    def adapt(self, data: Any, batch_size: Any = None, steps: int | None = None) -> None:
        """Learn num_bins - 1 boundaries: the data's quantiles at 1/num_bins, 2/num_bins, ..."""
        if self.num_bins is None:
            raise ValueError("Discretization adapt needs num_bins (the layer was given bin_boundaries).")
        values = np.concatenate([host_array(b, "float64").reshape(-1) for b in batches(data, steps)])
        if values.size == 0:
            raise ValueError("Discretization adapt got no data.")
        self.bin_boundaries = np.quantile(values, np.arange(1, self.num_bins) / self.num_bins).tolist()

    def call(self, inputs: Any) -> Any:
        if self.bin_boundaries is None:
            raise ValueError("Discretization has no bin_boundaries yet: pass them, or call adapt(data) first.")
        inputs = ops.convert_to_tensor(inputs)
        floats = inputs if backend.impl.dtype_of(inputs).startswith("float") else ops.cast(inputs, "float32")
        buckets = ops.digitize(floats, np.asarray(self.bin_boundaries, backend.impl.dtype_of(floats)))
        if self.output_mode == "int":
            return ops.cast(buckets, self.dtype)
        return encode(buckets, len(self.bin_boundaries) + 1, self.output_mode, self.dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return encoded_shape(input_shape, depth, self.output_mode)

    def get_config(self) -> dict:
        return {**super().get_config(), "bin_boundaries": plain(self.bin_boundaries), "num_bins": self.num_bins,
                "epsilon": self.epsilon, "output_mode": self.output_mode, "sparse": self.sparse}
