"""The train, test and predict steps of a model, written once in stateless form: state in, state out.

A step takes the values of four groups of variables (trainable weights, other weights and random state,
optimizer slots, metric accumulators) and a batch, and returns the new values. Inside, `StateScope` makes
the model's variables hold the given values: on jax these are traced arrays, on torch the variables
themselves, updated in place. The backend supplies only what differs: `value_and_grad`, how a step is
compiled or captured (`compile_step`), and how batches are drawn on the device.
"""

from __future__ import annotations

from typing import Any

from lamina import backend
from lamina.utils import tree

State = tuple[list, list, list, list]


def forward_and_loss(model: Any, x: Any, y: Any, sample_weight: Any, training: bool) -> tuple[Any, Any]:
    """The model's predictions and the total loss: compiled losses plus the model's own (`add_loss`, penalties)."""
    model._clear_losses()
    y_pred = tree.map_structure(_in_full_precision, model(x, training=training))
    loss = model._compile_loss(y, y_pred, sample_weight) if model._compile_loss is not None else 0.0
    for extra in model.losses:
        loss = loss + extra
    return loss, y_pred


def _in_full_precision(output: Any) -> Any:
    """A float16 or bfloat16 output (a mixed-precision model's) as float32: losses and metrics are computed
    in float32, as Keras computes them."""
    if getattr(output, "dtype", None) is not None and backend.impl.dtype_of(output) in ("float16", "bfloat16"):
        return backend.impl.cast(output, "float32")
    return output


def update_metrics(model: Any, loss: Any, y: Any, y_pred: Any, sample_weight: Any) -> None:
    """Accumulate the loss (weighted by batch size) and the compiled metrics."""
    batch_size = backend.impl.shape(tree.flatten(y_pred)[0])[0]
    model._loss_tracker.add(loss, batch_size)
    if y is not None:
        model._compile_metrics.update_state(y, y_pred, sample_weight)


def metric_variables(model: Any) -> list[Any]:
    return [variable for metric in model.metrics for variable in metric.variables]


class Steps:
    """The pure step functions of one model, over its variables grouped as the state."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.trainable = list(model.trainable_weights)
        self.non_trainable = list(model.non_trainable_weights) + list(model.seed_state_variables)
        optimizer = getattr(model, "optimizer", None)
        self.optimizer_variables = list(optimizer.variables) if optimizer is not None else []
        self.metric_variables = metric_variables(model) if model.compiled else []
        self.groups = (self.trainable, self.non_trainable, self.optimizer_variables, self.metric_variables)

    def state(self) -> State:
        """The current values of every group, as a step takes them."""
        return tuple(backend.impl.state_values(group) for group in self.groups)

    def store(self, state: State) -> None:
        for group, values in zip(self.groups, state):
            backend.impl.store_state(group, values)

    def train(self, state: State, batch: tuple) -> tuple[State, None]:
        """Forward, loss, gradients, optimizer update and metric updates on one batch."""
        B = backend.impl
        trainable, non_trainable, optimizer_values, metric_values = state
        x, y, sample_weight = batch

        def loss_of(trainable_values: list) -> tuple[Any, tuple]:
            # The optimizer's state is in scope too: a loss-scaling optimizer reads its current scale.
            variables = self.trainable + self.non_trainable + self.optimizer_variables
            with B.StateScope(variables, trainable_values + non_trainable + optimizer_values) as scope:
                loss, y_pred = forward_and_loss(self.model, x, y, sample_weight, training=True)
                scaled = self.model.optimizer.scale_loss(loss)
                return scaled, (loss, y_pred, scope.current(self.non_trainable))

        (_, (loss, y_pred, non_trainable)), grads = B.value_and_grad(loss_of)(trainable)
        updated = self.trainable + self.optimizer_variables + self.metric_variables
        with B.StateScope(updated, trainable + optimizer_values + metric_values) as scope, B.no_grad():
            self.model.optimizer.apply(grads, self.trainable)
            y_pred = tree.map_structure(B.stop_gradient, y_pred)
            update_metrics(self.model, B.stop_gradient(loss), y, y_pred, sample_weight)
            trainable, optimizer_values, metric_values = (scope.current(self.trainable),
                                                          scope.current(self.optimizer_variables),
                                                          scope.current(self.metric_variables))
        return (trainable, non_trainable, optimizer_values, metric_values), None

    def test(self, state: State, batch: tuple) -> tuple[State, None]:
        """Loss and metric updates on one batch, in inference mode."""
        B = backend.impl
        trainable, non_trainable, optimizer_values, metric_values = state
        x, y, sample_weight = batch
        variables = self.trainable + self.non_trainable + self.metric_variables
        with B.StateScope(variables, trainable + non_trainable + metric_values) as scope, B.no_grad():
            loss, y_pred = forward_and_loss(self.model, x, y, sample_weight, training=False)
            update_metrics(self.model, loss, y, y_pred, sample_weight)
            metric_values = scope.current(self.metric_variables)
        return (trainable, non_trainable, optimizer_values, metric_values), None

    def predict(self, state: State, x: Any) -> tuple[None, Any]:
        """The model's outputs for one batch, in inference mode. It changes no state, so it returns none:
        a jitted function that returned its unchanged weights would copy them on every call."""
        B = backend.impl
        trainable, non_trainable = state[0], state[1]
        with B.StateScope(self.trainable + self.non_trainable, trainable + non_trainable), B.no_grad():
            return None, self.model(x, training=False)
