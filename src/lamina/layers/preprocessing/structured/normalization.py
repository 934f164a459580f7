"""Normalization: shift and scale features by a mean and variance given or learned with `adapt`."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from lamina import backend, ops
from lamina.layers.layer import Layer
from lamina.layers.preprocessing.structured.data import batches, host_array, plain


def _axis_tuple(axis: Any) -> tuple[int, ...]:
    if axis is None:
        return ()
    if isinstance(axis, int) and not isinstance(axis, bool):
        return (axis,)
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
        return tuple(axis)
    raise ValueError(f"Normalization axis must be an int, a tuple of ints or None, got {axis!r}.")


class Normalization(Layer):
    """Maps inputs to `(x - mean) / max(sqrt(variance), epsilon)` (or back, with `invert=True`).

    axis: the axes that keep their own statistics (an int, a tuple, or None for one scalar mean and variance);
        the statistics are computed over every other axis. mean, variance: given statistics, broadcastable to
        the kept axes' shape; without them `adapt(data)` learns the non-trainable weights "mean", "variance"
        (shaped like the kept axes) and "count". Adapt data is a NumPy array, a tensor, a list, or an
        iterable of such batches; it is read on the host.
    """

    casts_inputs = True
    supports_masking = True

    def __init__(self, axis: int | Sequence[int] | None = -1, mean: Any = None, variance: Any = None,
                 invert: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axis_tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization needs both mean and variance, or neither (to learn them with adapt); "
                             f"got mean={mean!r} and variance={variance!r}.")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._kept: tuple[int, ...] = ()
        self._broadcast_shape: tuple[int, ...] = ()

    # --- shapes ---------------------------------------------------------------------------------------------

    def _kept_axes(self, input_shape: Sequence[int | None]) -> tuple[int, ...]:
        rank = len(input_shape)
        for axis in self.axis:
            if not -rank <= axis < rank:
                raise ValueError(f"Normalization axis {axis} is out of range for inputs of rank {rank} "
                                 f"(shape {tuple(input_shape)}).")
        kept = tuple(sorted({a % rank for a in self.axis}))
        unknown = [a for a in kept if input_shape[a] is None]
        if unknown:
            raise ValueError(f"Normalization needs a known size along the kept axes {self.axis}, got input shape "
                             f"{tuple(input_shape)}.")
        return kept

    def build(self, input_shape: Sequence[int | None]) -> None:
        self._kept = self._kept_axes(input_shape)
        self._reduced = tuple(a for a in range(len(input_shape)) if a not in self._kept)
        kept_shape = tuple(int(input_shape[a]) for a in self._kept)
        self._broadcast_shape = tuple(int(input_shape[a]) if a in self._kept else 1 for a in range(len(input_shape)))
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=kept_shape, initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=kept_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int32", initializer="zeros",
                                         trainable=False)
        else:
            self._mean = self._constant(self.input_mean, "mean", kept_shape)
            self._variance = self._constant(self.input_variance, "variance", kept_shape)

    def _constant(self, value: Any, name: str, kept_shape: tuple[int, ...]) -> Any:
        array = np.asarray(value, dtype="float64")
        try:
            array = np.broadcast_to(array.reshape(kept_shape) if array.size == np.prod(kept_shape) and array.ndim
                                    else array, kept_shape)
        except ValueError:
            raise ValueError(f"Normalization {name} must broadcast to the shape of the kept axes {kept_shape}, "
                             f"got an array of shape {array.shape}.") from None
        return backend.impl.convert_to_tensor(array.reshape(self._broadcast_shape).astype(self.dtype), self.dtype)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)

    # --- the math -------------------------------------------------------------------------------------------

    @property
    def mean(self) -> Any:
        """The mean in use, shaped to broadcast against the inputs (kept axes at their size, others 1)."""
        self._require_built("mean")
        return ops.reshape(self.adapt_mean, self._broadcast_shape) if self.input_mean is None else self._mean

    @property
    def variance(self) -> Any:
        """The variance in use, shaped to broadcast against the inputs."""
        self._require_built("variance")
        if self.input_mean is None:
            return ops.reshape(self.adapt_variance, self._broadcast_shape)
        return self._variance

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise AttributeError(f"Normalization has no {what} before it is built: call adapt(data) or the layer "
                                 "first.")

    def call(self, inputs: Any) -> Any:
        mean, variance = self.mean, self.variance
        scale = ops.maximum(ops.sqrt(variance), backend.epsilon())
        if self.invert:
            return ops.add(mean, ops.multiply(inputs, scale))
        return ops.divide(ops.subtract(inputs, mean), scale)

    # --- adapt ----------------------------------------------------------------------------------------------

    def adapt(self, data: Any, batch_size: Any = None, steps: int | None = None) -> None:
        """Learn the mean and variance of `data` over every axis but `axis` (all of it, or `steps` batches)."""
        if self.input_mean is not None:
            raise ValueError("Normalization was given mean and variance; adapt can only learn them when both are "
                             "None.")
        total_mean = total_variance = None
        total_count = 0
        for batch in batches(data, steps):
            batch = host_array(batch, "float64")
            if not self.built:
                rank = batch.ndim
                keeps_batch = any(a % rank == 0 for a in self.axis) if rank else False
                self._build_for(tuple(s if keeps_batch or i else None for i, s in enumerate(batch.shape)))
            if batch.ndim != len(self._broadcast_shape) or any(
                    batch.shape[a] != self._broadcast_shape[a] for a in self._kept):
                raise ValueError(f"Normalization adapt data must have rank {len(self._broadcast_shape)} and sizes "
                                 f"{self._broadcast_shape} along the kept axes {self._kept}, got a batch of shape "
                                 f"{batch.shape}.")
            count = int(np.prod([batch.shape[a] for a in self._reduced])) if self._reduced else 1
            if count == 0:
                continue
            mean = batch.mean(axis=self._reduced)
            variance = batch.var(axis=self._reduced)
            if total_mean is None:
                total_mean, total_variance, total_count = mean, variance, count
                continue
            # Chan et al.'s pairwise combination of two (mean, variance, count) summaries.
            new_count = total_count + count
            delta = mean - total_mean
            total_variance = (total_variance * total_count + variance * count
                              + delta ** 2 * total_count * count / new_count) / new_count
            total_mean = total_mean + delta * count / new_count
            total_count = new_count
        if total_mean is None:
            raise ValueError("Normalization adapt got no data: the array or iterable of batches was empty.")
        self.adapt_mean.assign(backend.impl.convert_to_tensor(np.asarray(total_mean, self.dtype), self.dtype))
        self.adapt_variance.assign(backend.impl.convert_to_tensor(np.asarray(total_variance, self.dtype), self.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "invert": self.invert,
                "mean": plain(np.asarray(self.input_mean)) if self.input_mean is not None else None,
                "variance": plain(np.asarray(self.input_variance)) if self.input_variance is not None else None}
