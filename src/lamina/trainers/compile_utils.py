"""What `compile` turns its arguments into: one loss over all outputs, and the metrics of each output."""

from __future__ import annotations

from typing import Any, Sequence

from lamina import backend, losses, metrics as metrics_module
from lamina.metrics.metric import Mean, Metric
from lamina.utils import naming

# Metric names that stand for the loss's own accuracy or cross-entropy, resolved once shapes are known.
_LOSS_DEPENDENT_METRICS = ("accuracy", "acc", "crossentropy", "ce")


def per_output(value: Any, output_names: Sequence[str], what: str) -> list[Any]:
    """Spread a compile argument over the outputs: one value for all, a list in order, or a dict by name."""
    count = len(output_names)
    if isinstance(value, dict):
        unknown = set(value) - set(output_names)
        if unknown:
            raise ValueError(f"{what} has keys {sorted(unknown)} that name no model output; "
                             f"the outputs are {list(output_names)}.")
        return [value.get(name) for name in output_names]
    if isinstance(value, (list, tuple)) and count > 1:
        if len(value) != count:
            raise ValueError(f"{what} is a list of {len(value)} entries, but the model has {count} outputs "
                             f"({list(output_names)}).")
        return list(value)
    return [value] * count


def flat_outputs(values: Any, output_names: Sequence[str], what: str) -> list[Any]:
    """y or y_pred as a list in output order."""
    if isinstance(values, dict):
        missing = [name for name in output_names if name not in values]
        if missing:
            raise ValueError(f"{what} is a dict without the output(s) {missing}; the outputs are {list(output_names)}.")
        return [values[name] for name in output_names]
    if isinstance(values, (list, tuple)):
        if len(values) != len(output_names):
            raise ValueError(f"{what} has {len(values)} entries, but the model has {len(output_names)} outputs.")
        return list(values)
    return [values]


class CompileLoss:
    """The weighted sum of each output's loss; also tracks each output's loss when several outputs have one
    (as Keras: a model whose other outputs have no loss logs only `loss`)."""

    def __init__(self, loss: Any, loss_weights: Any, output_names: Sequence[str]) -> None:
        self.output_names = list(output_names)
        self.losses = [losses.get(item) if item is not None else None
                       for item in per_output(loss, self.output_names, "loss")]
        if all(item is None for item in self.losses):
            raise ValueError(f"No loss was given for any of the outputs {self.output_names}.")
        weights = per_output(loss_weights, self.output_names, "loss_weights") if loss_weights is not None \
            else [1.0] * len(self.output_names)
        self.weights = [1.0 if w is None else float(w) for w in weights]
        several = sum(item is not None for item in self.losses) > 1
        self.trackers = [Mean(name=f"{name}_loss") if several and item is not None else None
                         for name, item in zip(self.output_names, self.losses)]

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        y_true = flat_outputs(y_true, self.output_names, "y")
        y_pred = flat_outputs(y_pred, self.output_names, "The model output")
        weights = flat_outputs(sample_weight, self.output_names, "sample_weight") \
            if isinstance(sample_weight, (dict, list, tuple)) else [sample_weight] * len(y_pred)
        total = None
        for loss, weight, tracker, target, prediction, sw in zip(
                self.losses, self.weights, self.trackers, y_true, y_pred, weights):
            if loss is None:
                continue
            value = loss(target, prediction, sw)
            if tracker is not None:
                tracker.add(backend.impl.stop_gradient(value), backend.impl.shape(prediction)[0])
            weighted = value if weight == 1.0 else weight * value  # no kernel for a weight of 1
            total = weighted if total is None else total + weighted
        return total

    @property
    def metrics(self) -> list[Metric]:
        return [tracker for tracker in self.trackers if tracker is not None]


class CompileMetrics:
    """The metrics of each output, built once the shapes of targets and predictions are known."""

    def __init__(self, metrics: Any, weighted_metrics: Any, output_names: Sequence[str],
                 compile_loss: CompileLoss | None) -> None:
        self.output_names = list(output_names)
        self._requested = self._per_output(metrics, "metrics")
        self._requested_weighted = self._per_output(weighted_metrics, "weighted_metrics")
        self._compile_loss = compile_loss
        self.built = False
        self.metrics: list[Metric] = []
        self._plan: list[tuple[int, Metric, bool]] = []

    def _per_output(self, value: Any, what: str) -> list[list[Any]]:
        if value is None:
            return [[] for _ in self.output_names]
        for identifier in _leaves(value):
            _check_metric(identifier, what)
        if isinstance(value, (str, Metric)) or callable(value) and not isinstance(value, (list, tuple, dict)):
            value = [value]
        if isinstance(value, dict):
            spread = per_output(value, self.output_names, "metrics")
        elif len(self.output_names) > 1 and value and all(isinstance(v, (list, tuple)) or v is None for v in value):
            spread = per_output(list(value), self.output_names, "metrics")
        else:
            spread = [value] * len(self.output_names)
        return [list(item) if isinstance(item, (list, tuple)) else ([] if item is None else [item]) for item in spread]

    def build(self, y_true_shapes: Sequence[tuple], y_pred_shapes: Sequence[tuple]) -> None:
        several = len(self.output_names) > 1
        for index, name in enumerate(self.output_names):
            for requested, weighted in ((self._requested[index], False), (self._requested_weighted[index], True)):
                for identifier in requested:
                    metric = self._resolve(identifier, index, y_true_shapes[index], y_pred_shapes[index])
                    if callable(getattr(metric, "build", None)) and not getattr(metric, "built", True):
                        # variables shaped by the data (F1Score's classes, R2Score's outputs), made before any step
                        metric.build(y_true_shapes[index], y_pred_shapes[index])
                    if several:
                        metric.name = f"{name}_{metric.name}"
                    self._plan.append((index, metric, weighted))
                    self.metrics.append(metric)
        self.built = True

    def _resolve(self, identifier: Any, index: int, y_true_shape: tuple, y_pred_shape: tuple) -> Metric:
        loss = self._compile_loss.losses[index] if self._compile_loss is not None else None
        if identifier in ("accuracy", "acc"):
            cls = metrics_module.accuracy_for(loss, y_true_shape, y_pred_shape)
            return cls(name=identifier)
        if identifier in ("crossentropy", "ce"):
            return metrics_module.get(getattr(type(loss), "function", losses.categorical_crossentropy).__name__)
        return metrics_module.get(identifier)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = flat_outputs(y_true, self.output_names, "y")
        y_pred = flat_outputs(y_pred, self.output_names, "The model output")
        weights = flat_outputs(sample_weight, self.output_names, "sample_weight") \
            if isinstance(sample_weight, (dict, list, tuple)) else [sample_weight] * len(y_pred)
        for index, metric, weighted in self._plan:
            metric.update_state(y_true[index], y_pred[index], weights[index] if weighted else None)


def _leaves(value: Any) -> list[Any]:
    """The metric identifiers in a compile argument: lists and per-output dicts are walked, config dicts are leaves."""
    if isinstance(value, dict) and "class_name" not in value:
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _check_metric(identifier: Any, what: str) -> None:
    """A metric is a known name, a config dict, a Metric (or its class) or a function; anything else fails now."""
    if identifier is None or isinstance(identifier, (Metric, dict)) or callable(identifier):
        return
    if isinstance(identifier, str):
        if identifier not in _LOSS_DEPENDENT_METRICS:
            naming.lookup("metric", identifier, {**metrics_module.NAMES, **metrics_module.CLASSES})
        return
    raise TypeError(f"{what} holds {identifier!r} ({type(identifier).__name__}), which is not a metric: give a "
                    "metric name such as 'accuracy', a Metric object or class, or a function of (y_true, y_pred).")
