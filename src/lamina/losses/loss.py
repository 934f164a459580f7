"""The Loss base class: per-sample values weighted, masked and reduced to a scalar, as Keras reduces them."""

from __future__ import annotations

import weakref
from typing import Any, Callable

from lamina import backend
from lamina.backend.common import is_float_dtype
from lamina.utils import naming

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


# --- shapes and dtypes ------------------------------------------------------------------------------------

def squeeze_or_expand_to_same_rank(x1: Any, x2: Any, expand_rank_1: bool = True) -> tuple[Any, Any]:
    """Match ranks that differ by a trailing axis of size 1: (n,) against (n, 1) gives two (n, 1)."""
    B = backend.impl
    shape1, shape2 = B.shape(x1), B.shape(x2)
    if len(shape1) == len(shape2) + 1 and shape1[-1] == 1:
        return (x1, B.expand_dims(x2, -1)) if len(shape2) == 1 and expand_rank_1 else (B.squeeze(x1, -1), x2)
    if len(shape2) == len(shape1) + 1 and shape2[-1] == 1:
        return (B.expand_dims(x1, -1), x2) if len(shape1) == 1 and expand_rank_1 else (x1, B.squeeze(x2, -1))
    return x1, x2


def prediction(y_pred: Any) -> Any:
    """y_pred as a float tensor."""
    B = backend.impl
    y_pred = B.convert_to_tensor(y_pred)
    return y_pred if is_float_dtype(B.dtype_of(y_pred)) else B.cast(y_pred, "float32")


def targets_and_predictions(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Both as tensors of y_pred's float dtype, with matching ranks."""
    y_pred = prediction(y_pred)
    return squeeze_or_expand_to_same_rank(backend.impl.cast(y_true, backend.impl.dtype_of(y_pred)), y_pred)


def logits_if_known(y_pred: Any, from_logits: bool, activation: str, axis: int = -1) -> tuple[Any, bool]:
    """The logits behind y_pred when the backend's own softmax or sigmoid made it, else y_pred itself.

    From logits, every backend computes the cross-entropy without clipping the probabilities, so a
    saturated softmax keeps its exact value and its gradient.
    """
    if not from_logits:
        logits = backend.impl.logits_of(y_pred, activation, axis)
        if logits is not None:
            return logits, True
    return y_pred, from_logits


def divide_no_nan(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator, and 0 (with a zero gradient) where the denominator is 0."""
    B = backend.impl
    if not B.is_tensor(denominator):
        return numerator / denominator if denominator else B.zeros_like(numerator)
    zero = B.equal(denominator, 0.0)
    return B.where(zero, 0.0, numerator / B.where(zero, 1.0, denominator))


# --- masks: Keras's `_keras_mask` of a tensor ------------------------------------------------------------

# jax arrays take no attributes: their masks are kept here by identity, for as long as the array lives.
_MASKS: dict[int, tuple[weakref.ref, Any]] = {}


def get_keras_mask(x: Any) -> Any:
    """The mask a layer or loss set on x, or None."""
    mask = getattr(x, "_keras_mask", None)
    if mask is not None:
        return mask
    entry = _MASKS.get(id(x))
    return entry[1] if entry is not None and entry[0]() is x else None


def set_keras_mask(x: Any, mask: Any) -> Any:
    """Attach mask to x (as an attribute where the tensor type allows); returns x."""
    try:
        x._keras_mask = mask
        return x
    except AttributeError:
        pass
    key = id(x)
    try:
        reference = weakref.ref(x, lambda dead: _MASKS.pop(key, None) if _MASKS.get(key, (None,))[0] is dead
                                else None)
    except TypeError:
        return x
    _MASKS[key] = (reference, mask)
    return x


# --- reduction ------------------------------------------------------------------------------------------

def standardize_reduction(reduction: str | None) -> str | None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
    return reduction


def apply_mask(sample_weight: Any, mask: Any, dtype: str, reduction: str | None) -> Any:
    """Sample weights with masked entries set to 0; for the mean reductions the kept entries are scaled up so
    that dividing by the number of all entries averages over the kept ones."""
    if mask is None:
        return sample_weight
    B = backend.impl
    float_mask = B.cast(mask, dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        float_mask = float_mask * divide_no_nan(float(B.size(float_mask)), B.sum(float_mask))
    if sample_weight is None:
        return float_mask
    float_mask, sample_weight = _match_weight(float_mask, B.cast(sample_weight, dtype))
    return sample_weight * float_mask


def _match_weight(values: Any, weight: Any) -> tuple[Any, Any]:
    """Values and weights of the same rank; a weight per sample (or per timestep) covers the trailing axes."""
    B = backend.impl
    values, weight = squeeze_or_expand_to_same_rank(values, weight)
    while len(B.shape(weight)) < len(B.shape(values)):
        weight = B.expand_dims(weight, -1)
    return values, weight


def reduce_values(values: Any, sample_weight: Any = None, reduction: str | None = "sum_over_batch_size") -> Any:
    """Weighted values reduced: "sum", a mean over every entry, or over the sum of the weights."""
    B = backend.impl
    shape = tuple(B.shape(values))
    if reduction in ("none", None) or shape in ((), (0,)):
        return values
    total = B.sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        # The sum of the weights as given: a weight per sample counts once, not once per timestep, as in Keras.
        return divide_no_nan(total, B.sum(sample_weight))
    size = 1
    for dim in shape:
        size *= dim
    return divide_no_nan(total, float(size))


def reduce_weighted_values(values: Any, sample_weight: Any = None, mask: Any = None,
                           reduction: str | None = "sum_over_batch_size", dtype: str | None = None) -> Any:
    """Per-sample losses times their weights (and mask), then reduced."""
    B = backend.impl
    reduction = standardize_reduction(reduction)
    values = B.convert_to_tensor(values)
    dtype = dtype or B.dtype_of(values)
    if B.dtype_of(values) != dtype:
        values = B.cast(values, dtype)
    sample_weight = apply_mask(sample_weight, mask, dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = _match_weight(values, B.cast(sample_weight, dtype))
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


# --- the classes ----------------------------------------------------------------------------------------

class Loss:
    """A loss: `call` gives per-sample values, `__call__` weights, masks and reduces them.

    Args:
        name: the loss's name (the snake_case class name when None).
        reduction: "sum_over_batch_size" (the mean over every entry), "sum", "mean" (the same as
            "sum_over_batch_size"), "mean_with_sample_weight" (the sum over the sum of the weights),
            or "none" / None (no reduction).
        dtype: the dtype the loss computes in (a name or a DTypePolicy; the global floatx when None).
    """

    # Whether the targets are class ids, used as integers (Keras casts them to floats and back).
    integer_targets = False

    def __init__(self, name: str | None = None, reduction: str | None = "sum_over_batch_size",
                 dtype: Any = None) -> None:
        from lamina import dtype_policies

        self.name = name or naming.to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype_argument = dtype
        self._dtype = dtype_policies.get(dtype or backend.floatx()).compute_dtype

    @property
    def dtype(self) -> str:
        return self._dtype

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        in_mask = get_keras_mask(y_pred)
        y_true, y_pred = self._targets(y_true), self._as_dtype(y_pred)
        values = self.call(y_true, y_pred)
        out_mask = get_keras_mask(values)
        if in_mask is not None and out_mask is not None:
            B = backend.impl
            in_mask, out_mask = squeeze_or_expand_to_same_rank(B.cast(in_mask, "bool"), B.cast(out_mask, "bool"))
            mask = B.logical_and(in_mask, out_mask)
        else:
            mask = out_mask if in_mask is None else in_mask
        return reduce_weighted_values(values, sample_weight, mask, self.reduction, self.dtype)

    def _targets(self, y_true: Any) -> Any:
        """y_true in the loss's dtype; integer class ids stay integers for a loss that takes them as such."""
        if self.integer_targets:
            y_true = backend.impl.convert_to_tensor(y_true)
            if not is_float_dtype(backend.impl.dtype_of(y_true)):
                return y_true
        return self._as_dtype(y_true)

    def _as_dtype(self, x: Any) -> Any:
        """x as a tensor of the loss's dtype; the same object when it already is one (it may carry logits)."""
        B = backend.impl
        x = B.convert_to_tensor(x)
        return x if B.dtype_of(x) == self.dtype else B.cast(x, self.dtype)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss values; a built-in loss applies its function to ranks matched as Keras matches them."""
        fn = getattr(self, "fn", None)
        if fn is None:
            raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return fn(y_true, y_pred, **self.function_options)

    def get_config(self) -> dict:
        config = {"name": self.name, "reduction": self.reduction}
        if self._dtype_argument is not None:  # a policy is saved by its name, as a plain value
            config["dtype"] = getattr(self._dtype_argument, "name", self._dtype_argument)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A per-sample function `fn(y_true, y_pred, **kwargs)` reduced like a built-in loss.

    The built-in losses are its subclasses: `function` names their per-sample function and
    `function_options` holds its keyword arguments.
    """

    function: Callable[..., Any] | None = None

    def __init__(self, fn: Callable[..., Any], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None, dtype: Any = None, **kwargs: Any) -> None:
        if not callable(fn):
            raise TypeError(f"LossFunctionWrapper: fn must be a function of (y_true, y_pred), got {fn!r}.")
        super().__init__(name or getattr(fn, "__name__", None) or "loss", reduction, dtype)
        self.fn = fn
        self.function_options = kwargs

    def get_config(self) -> dict:
        config = Loss.get_config(self)
        if type(self).function is None:
            from lamina.saving import registry

            config["fn"] = registry.serialize_function(self.fn)
        return {**config, **self.function_options}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        if cls.function is not None or "fn" not in config:
            return cls(**config)
        from lamina.saving import registry

        config = dict(config)
        fn = config.pop("fn")
        return cls(fn if callable(fn) else registry.deserialize_function(fn), **config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}({getattr(self.fn, '__name__', self.fn)}, kwargs={self.function_options})>"


class BuiltinLoss(LossFunctionWrapper):
    """Base of the built-in losses: `function` with the options given to the constructor."""

    def __init__(self, reduction: str | None, name: str | None, dtype: Any, **options: Any) -> None:
        super().__init__(type(self).function, reduction, name, dtype, **options)
