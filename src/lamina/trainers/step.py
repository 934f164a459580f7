"""The train, test and predict steps of a model, written once in stateless form: state in, state out.

A step takes the values of four groups of variables (trainable weights, other weights and random state,
optimizer slots, metric accumulators) and a batch, and returns the new values. Inside, `StateScope` makes
the model's variables hold the given values: on jax these are traced arrays, on torch the variables
themselves, updated in place. The backend supplies only what differs: `value_and_grad`, how a step is
compiled or captured (`compile_step`), and how batches are drawn on the device.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from lamina import backend, distribution
from lamina.utils import tree

State = tuple[list, list, list, list]
KINDS = ("train", "test", "predict")


def forward_and_loss(model: Any, x: Any, y: Any, sample_weight: Any, training: bool) -> tuple[Any, Any]:
    """The model's predictions and the total loss, from the model's `compute_loss` (a user may override it)."""
    model._clear_losses()
    y_pred = tree.map_structure(_in_full_precision, model(x, training=training))
    loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
    return loss, y_pred


def pack_data(batch: tuple) -> tuple:
    """A batch as Keras hands it to a `train_step`: (x,), (x, y) or (x, y, sample_weight)."""
    x, y, sample_weight = batch
    if sample_weight is not None:
        return (x, y, sample_weight)
    return (x,) if y is None else (x, y)


def unpack_data(data: Any) -> tuple:
    """(x, y, sample_weight) from what a `train_step` receives: a tuple of one to three, or x alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"A batch must be (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(data)}.")
    return data + (None,) * (3 - len(data))


def overrides(model: Any, name: str) -> bool:
    """Whether the model's class replaces the Trainer method `name` with its own."""
    from lamina.trainers.trainer import Trainer

    return getattr(type(model), name, None) is not getattr(Trainer, name)


def user_step(model: Any, kind: str) -> Callable[..., Any] | None:
    """The model's own `train_step`/`test_step`/`predict_step` when its class overrides Lamina's, else None."""
    return getattr(model, f"{kind}_step") if overrides(model, f"{kind}_step") else None


def takes_state(method: Callable[..., Any]) -> bool:
    """Whether a step is written in the stateless form `step(state, data)` (jax) rather than `step(data)`."""
    parameters = [p for p in inspect.signature(method).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(parameters) >= 2


def _in_full_precision(output: Any) -> Any:
    """A float16 or bfloat16 output (a mixed-precision model's) as float32: losses and metrics are computed
    in float32, as Keras computes them."""
    if getattr(output, "dtype", None) is not None and backend.impl.dtype_of(output) in ("float16", "bfloat16"):
        return backend.impl.cast(output, "float32")
    return output


def update_metrics(model: Any, loss: Any, x: Any, y: Any, y_pred: Any, sample_weight: Any,
                   own_compute_metrics: bool = False) -> None:
    """Accumulate the loss (weighted by batch size) and the compiled metrics (through the model's own
    `compute_metrics` when it overrides Lamina's)."""
    batch_size = backend.impl.shape(tree.flatten(y_pred)[0])[0]
    model._loss_tracker.add(loss, batch_size)
    if own_compute_metrics:
        model.compute_metrics(x, y, y_pred, sample_weight)
    elif y is not None:
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
        # A stateful layer (an RNN carrying its state between batches) changes state when predicting too.
        self.predict_changes_state = any(getattr(layer, "stateful", False) for layer in model._flat_layers())
        self.user_steps = {kind: user_step(model, kind) for kind in KINDS}
        self.own_compute_metrics = overrides(model, "compute_metrics")  # asked once, not every step

    def function(self, kind: str) -> Callable[[State, Any], tuple[Any, Any]]:
        """The step of this kind as `fn(state, batch) -> (state, output)`: Lamina's, or the model's own."""
        method = self.user_steps[kind]
        if method is None:
            return getattr(self, kind)
        if takes_state(method):
            run = lambda state, batch: self._stateless_user_step(kind, method, state, batch)  # noqa: E731
        else:
            run = lambda state, batch: self._stateful_user_step(kind, method, state, batch)  # noqa: E731
        if kind == "train" and getattr(self.model, "optimizer", None) is not None:
            return lambda state, batch: self._distributed_user_train_step(run, state, batch)
        return run

    def _distributed_user_train_step(self, run: Callable[..., tuple], state: State, batch: Any) -> tuple:
        """A model's own train step under a distribution: its batch is shared as Lamina's step shares it, and
        the gradients it gives the optimizer are reduced over the replicas (torch: averaged over the
        processes, as DistributedDataParallel's backward averages them; jax: the sharding does it)."""
        current = distribution.current()
        with self.model.optimizer.reducing_gradients(current.reduce_gradients):
            return run(state, current.distribute_batch(batch))

    def _stateful_user_step(self, kind: str, method: Callable[..., Any], state: State, batch: Any) -> tuple:
        """A step written as `train_step(data)`: it reads and updates the variables, which hold the state."""
        data = (batch,) if kind == "predict" else pack_data(batch)
        variables = [v for group in self.groups for v in group]
        with backend.impl.StateScope(variables, [value for group in state for value in group]) as scope:
            output = method(data)
            return tuple(scope.current(group) for group in self.groups), output

    def _stateless_user_step(self, kind: str, method: Callable[..., Any], state: State, batch: Any) -> tuple:
        """A step written as `train_step(state, data)`, returning `(logs, state)` (Keras's jax form)."""
        trainable, non_trainable, optimizer_values, metric_values = state
        if kind == "train":
            logs, (trainable, non_trainable, optimizer_values, metric_values) = method(state, pack_data(batch))
        elif kind == "test":
            logs, (trainable, non_trainable, metric_values) = method((trainable, non_trainable, metric_values),
                                                                     pack_data(batch))
        else:
            outputs, non_trainable = method((trainable, non_trainable), (batch,))
            return (list(trainable), list(non_trainable), list(optimizer_values), list(metric_values)), outputs
        return (list(trainable), list(non_trainable), list(optimizer_values), list(metric_values)), logs

    def logs(self, metric_values: list) -> dict[str, Any]:
        """The results of the model's metrics computed from these values of their variables."""
        with backend.impl.StateScope(self.metric_variables, metric_values):
            return metric_results(self.model.metrics)

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
        x, y, sample_weight = distribution.current().distribute_batch(batch)

        def loss_of(trainable_values: list) -> tuple[Any, tuple]:
            # The optimizer's state is in scope too: a loss-scaling optimizer reads its current scale; and
            # the metrics' state, which a layer may update in its call.
            variables = self.trainable + self.non_trainable + self.optimizer_variables + self.metric_variables
            values = trainable_values + non_trainable + optimizer_values + metric_values
            with B.StateScope(variables, values) as scope:
                loss, y_pred = forward_and_loss(self.model, x, y, sample_weight, training=True)
                scaled = self.model.optimizer.scale_loss(loss)
                return scaled, (loss, y_pred, scope.current(self.non_trainable), scope.current(self.metric_variables))

        (_, (loss, y_pred, non_trainable, metric_values)), grads = B.value_and_grad(loss_of)(trainable)
        grads = distribution.current().reduce_gradients(grads)
        updated = self.trainable + self.optimizer_variables + self.metric_variables
        with B.StateScope(updated, trainable + optimizer_values + metric_values) as scope, B.no_grad():
            self.model.optimizer.apply(grads, self.trainable)
            y_pred = tree.map_structure(B.stop_gradient, y_pred)
            update_metrics(self.model, B.stop_gradient(loss), x, y, y_pred, sample_weight, self.own_compute_metrics)
            trainable, optimizer_values, metric_values = (scope.current(self.trainable),
                                                          scope.current(self.optimizer_variables),
                                                          scope.current(self.metric_variables))
        return (trainable, non_trainable, optimizer_values, metric_values), None

    def test(self, state: State, batch: tuple) -> tuple[State, None]:
        """Loss and metric updates on one batch, in inference mode."""
        B = backend.impl
        trainable, non_trainable, optimizer_values, metric_values = state
        x, y, sample_weight = distribution.current().distribute_batch(batch)
        variables = self.trainable + self.non_trainable + self.metric_variables
        with B.StateScope(variables, trainable + non_trainable + metric_values) as scope, B.no_grad():
            loss, y_pred = forward_and_loss(self.model, x, y, sample_weight, training=False)
            update_metrics(self.model, loss, x, y, y_pred, sample_weight, self.own_compute_metrics)
            metric_values = scope.current(self.metric_variables)
        return (trainable, non_trainable, optimizer_values, metric_values), None

    def predict(self, state: State, x: Any) -> tuple[State | None, Any]:
        """The model's outputs for one batch, in inference mode. Unless a stateful layer moves on, it changes
        no state and returns none: a jitted function that returned its unchanged weights would copy them on
        every call."""
        B = backend.impl
        trainable, non_trainable = state[0], state[1]
        x = distribution.current().distribute_batch(x)
        # The metrics are in scope so that a layer updating one in its call changes nothing lasting.
        variables = self.trainable + self.non_trainable + self.metric_variables
        values = trainable + non_trainable + B.state_values(self.metric_variables)
        with B.StateScope(variables, values) as scope, B.no_grad():
            outputs = distribution.current().gather_outputs(self.model(x, training=False))
            if not self.predict_changes_state:
                return None, outputs
            return (trainable, scope.current(self.non_trainable), state[2], state[3]), outputs


def metric_results(metrics: list) -> dict[str, Any]:
    """Each metric's result by name; a metric whose result is a dict contributes its entries."""
    results: dict[str, Any] = {}
    for metric in metrics:
        result = metric.result()
        if isinstance(result, dict):
            results.update(result)
        else:
            results[metric.name] = result
    return results
