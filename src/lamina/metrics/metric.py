"""Stateful metrics: state lives in backend variables, so it accumulates on the device without syncing."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from lamina import backend, initializers
from lamina.losses import squeeze_or_expand_to_same_rank
from lamina.utils import naming

_AGGREGATIONS = ("sum", "mean", "only_first_replica", "none")


class Metric:
    """Accumulates a statistic over batches: `update_state`, then `result`, then `reset_state`."""

    def __init__(self, name: str | None = None, dtype: Any = "float32") -> None:
        # Unnamed metrics get unique names, as Keras gives them: a second Precision() is "precision_1".
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self.dtype = dtype
        self.variables: list[Any] = []

    def add_variable(self, shape: Sequence[int] = (), initializer: Any = "zeros", dtype: Any = None,
                     aggregation: str = "sum", name: str | None = None) -> Any:
        """A state variable of this metric, set to `initializer`'s value now and again by `reset_state`.
        `aggregation` says how replicas combine it ("sum", "mean", "only_first_replica" or "none")."""
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"{type(self).__name__}.add_variable: aggregation must be one of {_AGGREGATIONS}, "
                             f"got {aggregation!r}.")
        dtype = dtype or self.dtype
        shape = tuple(int(d) for d in shape)
        value = np.asarray(initializers.get(initializer)(shape, dtype=dtype), dtype=dtype)
        name = name or f"variable_{len(self.variables)}"
        variable = backend.impl.Variable(value, dtype=dtype, trainable=False, name=name, path=f"{self.name}/{name}")
        variable._lamina_initial = value
        variable._lamina_aggregation = aggregation
        self.variables.append(variable)
        return variable

    def add_weight(self, shape: Sequence[int] = (), initializer: Any = None, dtype: Any = None,
                   name: str | None = None) -> Any:
        """Keras's other spelling of `add_variable` (zeros unless `initializer` says otherwise)."""
        return self.add_variable(shape, initializer if initializer is not None else "zeros", dtype, name=name)

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        raise NotImplementedError

    def reset_state(self) -> None:
        for variable in self.variables:
            variable.assign(backend.impl.convert_to_tensor(variable._lamina_initial))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.update_state(*args, **kwargs)
        return self.result()

    # --- the stateless forms, for train steps written as functions of their state (jax) ------------

    def stateless_update_state(self, metric_variables: Sequence[Any], *args: Any, **kwargs: Any) -> list[Any]:
        """The values of this metric's variables after `update_state(*args, **kwargs)` from the given ones."""
        with backend.impl.StateScope(self.variables, list(metric_variables)) as scope:
            self.update_state(*args, **kwargs)
            return scope.current(self.variables)

    def stateless_result(self, metric_variables: Sequence[Any]) -> Any:
        """`result()` computed from the given values of this metric's variables."""
        with backend.impl.StateScope(self.variables, list(metric_variables)):
            return self.result()

    def stateless_reset_state(self) -> list[Any]:
        """The values of this metric's variables after `reset_state()`."""
        return [backend.impl.convert_to_tensor(variable._lamina_initial) for variable in self.variables]

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> "Metric":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


def _weighted(values: Any, sample_weight: Any) -> tuple[Any, Any]:
    """The sum of (weighted) values and the matching count."""
    B = backend.impl
    values = B.cast(values, "float32")
    if sample_weight is None:
        return B.sum(values), float(B.size(values))
    values, weight = squeeze_or_expand_to_same_rank(values, B.cast(sample_weight, "float32"))
    while len(B.shape(weight)) < len(B.shape(values)):  # a weight per sample covers all of its values
        weight = B.expand_dims(weight, -1)
    weight = B.broadcast_to(weight, B.shape(values)) if B.shape(weight) != B.shape(values) else weight
    return B.sum(values * weight), B.sum(weight)


class Mean(Metric):
    """The (weighted) mean of the values given."""

    def __init__(self, name: str | None = "mean", dtype: Any = "float32") -> None:
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        self.count = self.add_variable(name="count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        total, count = _weighted(values, sample_weight)
        self.total.assign_add(total)
        self.count.assign_add(count)

    def add(self, value: Any, weight: float) -> None:
        """Add one value that stands for `weight` samples (a batch mean and the batch size)."""
        self.total.assign_add(value * weight)
        self.count.assign_add(weight)

    def result(self) -> Any:
        B = backend.impl
        return B.divide(self.total.value, B.maximum(self.count.value, 1e-12))


class Sum(Metric):
    def __init__(self, name: str | None = "sum", dtype: Any = "float32") -> None:
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        self.total.assign_add(_weighted(values, sample_weight)[0])

    def result(self) -> Any:
        return self.total.value


class MeanMetricWrapper(Mean):
    """The mean over samples of fn(y_true, y_pred), a per-sample function."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, dtype: Any = "float32",
                 **fn_options: Any) -> None:
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)
        self.fn = fn
        self.fn_options = fn_options

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        Mean.update_state(self, self.fn(y_true, y_pred, **self.fn_options), sample_weight)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, **self.fn_options}


def mean_metric_class(class_name: str, fn: Callable[..., Any], default_name: str, **defaults: Any) -> type:
    """A MeanMetricWrapper subclass with Keras's class name, default name and default options of `fn`."""
    def __init__(self: MeanMetricWrapper, name: str | None = None, dtype: Any = "float32", **options: Any) -> None:
        MeanMetricWrapper.__init__(self, fn, name or default_name, dtype, **{**defaults, **options})

    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__,
                                                   "__doc__": f"The mean {default_name} over samples."})
