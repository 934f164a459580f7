"""Losses by their Keras names, as functions (per-sample values) and as Loss objects (reduced)."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend
from lamina.backend.common import is_float_dtype
from lamina.utils import naming


def squeeze_or_expand_to_same_rank(x1: Any, x2: Any) -> tuple[Any, Any]:
    """Match ranks that differ by a trailing axis of size 1: (n,) against (n, 1) gives two (n, 1)."""
    B = backend.impl
    shape1, shape2 = B.shape(x1), B.shape(x2)
    if len(shape1) == len(shape2) + 1 and shape1[-1] == 1:
        return (x1, B.expand_dims(x2, -1)) if len(shape2) == 1 else (B.squeeze(x1, -1), x2)
    if len(shape2) == len(shape1) + 1 and shape2[-1] == 1:
        return (B.expand_dims(x1, -1), x2) if len(shape1) == 1 else (x1, B.squeeze(x2, -1))
    return x1, x2


def _prediction(y_pred: Any) -> Any:
    """y_pred as a float tensor."""
    B = backend.impl
    y_pred = B.convert_to_tensor(y_pred)
    return y_pred if is_float_dtype(B.dtype_of(y_pred)) else B.cast(y_pred, "float32")


def _logits_if_known(y_pred: Any, from_logits: bool, activation: str, axis: int = -1) -> tuple[Any, bool]:
    """The logits behind y_pred when the backend's own softmax or sigmoid made it, else y_pred itself.

    From logits, every backend computes the cross-entropy without clipping the probabilities, so a
    saturated softmax keeps its exact value and its gradient.
    """
    if not from_logits:
        logits = backend.impl.logits_of(y_pred, activation, axis)
        if logits is not None:
            return logits, True
    return y_pred, from_logits


def _targets_and_predictions(y_true: Any, y_pred: Any) -> tuple[Any, Any]:
    """Both as tensors of y_pred's float dtype, with matching ranks."""
    y_pred = _prediction(y_pred)
    return squeeze_or_expand_to_same_rank(backend.impl.cast(y_true, backend.impl.dtype_of(y_pred)), y_pred)


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    return B.mean(B.square(B.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    return B.mean(B.abs(B.subtract(y_pred, y_true)), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    return 100.0 * B.mean(B.abs((y_true - y_pred) / B.maximum(B.abs(y_true), 1e-7)), axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    first = B.log(B.maximum(y_pred, 1e-7) + 1.0)
    second = B.log(B.maximum(y_true, 1e-7) + 1.0)
    return B.mean(B.square(first - second), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    error = B.abs(y_pred - y_true)
    quadratic = B.minimum(error, delta)
    return B.mean(0.5 * B.square(quadratic) + delta * (error - quadratic), axis=-1)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                        axis: int = -1) -> Any:
    B = backend.impl
    y_pred, from_logits = _logits_if_known(y_pred, from_logits, "sigmoid")
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    if label_smoothing:  # pull the labels towards 0.5
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return B.mean(B.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
                             axis: int = -1) -> Any:
    B = backend.impl
    y_pred, from_logits = _logits_if_known(y_pred, from_logits, "softmax", axis)
    y_pred = _prediction(y_pred)
    y_true = B.cast(y_true, B.dtype_of(y_pred))
    if label_smoothing:  # pull the one-hot labels towards the uniform distribution
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / B.shape(y_true)[axis]
    return B.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False, axis: int = -1) -> Any:
    y_pred, from_logits = _logits_if_known(y_pred, from_logits, "softmax", axis)
    return backend.impl.sparse_categorical_crossentropy(y_true, _prediction(y_pred), from_logits=from_logits,
                                                        axis=axis)


def hinge(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    # Labels that are all 0 or 1 become -1 or 1; any other labels are taken as they are.
    binary = B.min(B.cast(B.logical_or(B.equal(y_true, 0.0), B.equal(y_true, 1.0)), "float32"))
    y_true = B.where(B.greater(binary, 0.0), 2.0 * y_true - 1.0, y_true)
    return B.mean(B.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true, y_pred = _targets_and_predictions(y_true, y_pred)
    y_true = B.clip(y_true, 1e-7, 1.0)
    y_pred = B.clip(y_pred, 1e-7, 1.0)
    return B.sum(y_true * B.log(y_true / y_pred), axis=-1)


FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, hinge, kl_divergence)}
SHORT_NAMES = {"mse": mean_squared_error, "mae": mean_absolute_error, "mape": mean_absolute_percentage_error,
               "msle": mean_squared_logarithmic_error, "kld": kl_divergence, "huber_loss": huber}

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _weights_for(values: Any, sample_weight: Any) -> tuple[Any, Any]:
    """Values and sample weights of matching rank; per-sample weights of per-element values get trailing axes."""
    B = backend.impl
    values, weight = squeeze_or_expand_to_same_rank(values, B.cast(sample_weight, B.dtype_of(values)))
    while len(B.shape(weight)) < len(B.shape(values)):
        weight = B.expand_dims(weight, -1)
    return values, weight


class Loss:
    """A loss function with its options and a reduction of the per-sample values to a scalar."""

    function: Callable[..., Any] = staticmethod(mean_squared_error)

    def __init__(self, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 **function_options: Any) -> None:
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")
        self.reduction = reduction
        self.name = name or naming.to_snake_case(type(self).__name__)
        self.function_options = function_options

    def call(self, y_true: Any, y_pred: Any) -> Any:
        """Per-sample loss values."""
        return type(self).function(y_true, y_pred, **self.function_options)

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        B = backend.impl
        values = B.convert_to_tensor(self.call(y_true, y_pred))
        weight = None
        if sample_weight is not None:
            values, weight = _weights_for(values, sample_weight)
            values = values * weight
        if self.reduction in ("none", None) or len(B.shape(values)) == 0:
            return values
        total = B.sum(values)
        if self.reduction == "sum":
            return total
        if self.reduction == "mean_with_sample_weight" and weight is not None:
            weight_sum = B.sum(weight)
            return total / B.where(B.equal(weight_sum, 0.0), 1.0, weight_sum)  # 0, not nan, when all weights are 0
        return total / max(B.size(values), 1)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, **self.function_options}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


def _loss_class(class_name: str, function: Callable[..., Any], default_name: str | None = None,
                **defaults: Any) -> type:
    parameters = [*defaults, "reduction", "name"]  # Keras's order: the function's options come first

    def __init__(self: Loss, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(parameters):
            raise TypeError(f"{class_name} takes at most {len(parameters)} positional arguments "
                            f"({', '.join(parameters)}), got {len(args)}.")
        for key, value in zip(parameters, args):
            if key in kwargs:
                raise TypeError(f"{class_name} got multiple values for argument {key!r}.")
            kwargs[key] = value
        unknown = set(kwargs) - set(parameters)
        if unknown:
            raise TypeError(f"{class_name} got unexpected keyword argument(s): {', '.join(sorted(unknown))}.")
        options = {key: kwargs.get(key, default) for key, default in defaults.items()}
        Loss.__init__(self, kwargs.get("reduction", "sum_over_batch_size"),
                      kwargs.get("name") or default_name or function.__name__, **options)

    return type(class_name, (Loss,), {"__init__": __init__, "function": staticmethod(function),
                                      "__doc__": f"The {function.__name__} loss, reduced over the batch."})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error)
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error)
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error)
Huber = _loss_class("Huber", huber, "huber_loss", delta=1.0)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy, from_logits=False,
                                 label_smoothing=0.0, axis=-1)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy, from_logits=False,
                                      label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                            from_logits=False, axis=-1)
Hinge = _loss_class("Hinge", hinge)
KLDivergence = _loss_class("KLDivergence", kl_divergence)

CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, KLDivergence)}
_CLASS_OF_FUNCTION = {cls.function: cls for cls in CLASSES.values()}
# Keras's metric shorthands for "the loss's own cross-entropy"; as a loss name, most mean this one.
_SHORTHANDS = {"crossentropy": "categorical_crossentropy", "ce": "categorical_crossentropy"}


class LossFunctionWrapper(Loss):
    """Reduces a user's per-sample loss function like a built-in loss."""

    def __init__(self, fn: Callable[[Any, Any], Any], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None) -> None:
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"))
        self.fn = fn

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return self.fn(*squeeze_or_expand_to_same_rank(y_true, y_pred))


def get(identifier: Any) -> Loss:
    """A Loss object for a name, a config dict, a Loss, a loss class or a per-sample function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _SHORTHANDS:
            raise ValueError(f"Unknown loss {identifier!r}. Did you mean {_SHORTHANDS[identifier]!r} "
                             f"(or 'binary_crossentropy', 'sparse_categorical_crossentropy')?")
        found = naming.lookup("loss", identifier, {**FUNCTIONS, **SHORT_NAMES, **CLASSES})
        loss = found() if isinstance(found, type) else _CLASS_OF_FUNCTION[found]()
        if identifier in SHORT_NAMES or identifier in FUNCTIONS:
            loss.name = identifier
        return loss
    if isinstance(identifier, dict):
        return naming.lookup("loss", identifier["class_name"], CLASSES).from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        cls = _CLASS_OF_FUNCTION.get(identifier)
        return cls() if cls else LossFunctionWrapper(identifier)
    raise TypeError(f"loss must be a name, a Loss or a function, got {type(identifier).__name__}: {identifier!r}.")


def serialize(loss: Loss) -> Any:
    if type(loss).__name__ in CLASSES:
        return {"module": "lamina.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    from lamina.saving import registry

    return registry.serialize_object(loss)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
