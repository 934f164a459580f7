"""Losses by their Keras names, as functions (per-sample values) and as Loss objects (reduced)."""

from __future__ import annotations

from typing import Any, Callable

from lamina import backend
from lamina.utils import naming


def mean_squared_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    return B.mean(B.square(B.subtract(y_pred, B.cast(y_true, "float32"))), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    return B.mean(B.abs(B.subtract(y_pred, B.cast(y_true, "float32"))), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true = B.cast(y_true, "float32")
    return 100.0 * B.mean(B.abs((y_true - y_pred) / B.maximum(B.abs(y_true), 1e-7)), axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true = B.cast(y_true, "float32")
    first = B.log(B.maximum(y_pred, 1e-7) + 1.0)
    second = B.log(B.maximum(y_true, 1e-7) + 1.0)
    return B.mean(B.square(first - second), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> Any:
    B = backend.impl
    error = B.abs(y_pred - B.cast(y_true, "float32"))
    quadratic = B.minimum(error, delta)
    return B.mean(0.5 * B.square(quadratic) + delta * (error - quadratic), axis=-1)


def binary_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Any:
    B = backend.impl
    return B.mean(B.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=-1)


def categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Any:
    return backend.impl.categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def sparse_categorical_crossentropy(y_true: Any, y_pred: Any, from_logits: bool = False) -> Any:
    return backend.impl.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits)


def hinge(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true = B.cast(y_true, "float32")
    y_true = B.where(B.equal(y_true, 0.0), -1.0, y_true)
    return B.mean(B.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def kl_divergence(y_true: Any, y_pred: Any) -> Any:
    B = backend.impl
    y_true = B.clip(B.cast(y_true, "float32"), 1e-7, 1.0)
    y_pred = B.clip(y_pred, 1e-7, 1.0)
    return B.sum(y_true * B.log(y_true / y_pred), axis=-1)


FUNCTIONS: dict[str, Callable[..., Any]] = {fn.__name__: fn for fn in (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
    huber, binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy, hinge, kl_divergence)}
SHORT_NAMES = {"mse": mean_squared_error, "mae": mean_absolute_error, "mape": mean_absolute_percentage_error,
               "msle": mean_squared_logarithmic_error, "kld": kl_divergence, "huber_loss": huber}

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "none", None)


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
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            weight = B.cast(sample_weight, "float32")
            while len(B.shape(weight)) > len(B.shape(values)):
                weight = B.squeeze(weight, -1)
            values = values * weight
        if self.reduction in ("none", None):
            return values
        total = B.sum(values)
        if self.reduction == "sum":
            return total
        return total / max(B.size(values), 1)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, **self.function_options}

    @classmethod
    def from_config(cls, config: dict) -> "Loss":
        return cls(**config)


def _loss_class(class_name: str, function: Callable[..., Any], **defaults: Any) -> type:
    def __init__(self: Loss, reduction: str | None = "sum_over_batch_size", name: str | None = None,
                 **options: Any) -> None:
        unknown = set(options) - set(defaults)
        if unknown:
            raise TypeError(f"{class_name} got unexpected keyword argument(s): {', '.join(sorted(unknown))}.")
        Loss.__init__(self, reduction, name or function.__name__, **{**defaults, **options})

    return type(class_name, (Loss,), {"__init__": __init__, "function": staticmethod(function),
                                      "__doc__": f"The {function.__name__} loss, reduced over the batch."})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error)
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error)
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error)
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error)
Huber = _loss_class("Huber", huber, delta=1.0)
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy, from_logits=False)
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy, from_logits=False)
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                            from_logits=False)
Hinge = _loss_class("Hinge", hinge)
KLDivergence = _loss_class("KLDivergence", kl_divergence)

CLASSES = {cls.__name__: cls for cls in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, KLDivergence)}
_CLASS_OF_FUNCTION = {cls.function: cls for cls in CLASSES.values()}


class LossFunctionWrapper(Loss):
    """Reduces a user's per-sample loss function like a built-in loss."""

    def __init__(self, fn: Callable[[Any, Any], Any], reduction: str | None = "sum_over_batch_size",
                 name: str | None = None) -> None:
        super().__init__(reduction, name or getattr(fn, "__name__", "loss"))
        self.fn = fn

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return self.fn(y_true, y_pred)


def get(identifier: Any) -> Loss:
    """A Loss object for a name, a config dict, a Loss, a loss class or a per-sample function."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
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
