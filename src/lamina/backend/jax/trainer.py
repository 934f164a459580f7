"""The jax StepRunner: stateless jitted steps over explicit state, several steps per call with lax.scan."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from lamina.backend.jax.core import StateScope
from lamina.layers.layer import CALL_CONTEXT
from lamina.trainers import step
from lamina.utils import tree

State = tuple[list, list, list, list]


def _gather(structure: Any, rows: Any) -> Any:
    return jax.tree_util.tree_map(lambda t: jnp.take(t, rows, axis=0), structure)


class StepRunner:
    """Runs train/test/predict steps of one model; weights and slots live in its Variables between calls."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.trainable = model.trainable_weights
        self.non_trainable = model.non_trainable_weights + model.seed_state_variables
        self.optimizer_variables = model.optimizer.variables if getattr(model, "optimizer", None) else []
        self.metric_variables = step.metric_variables(model) if model.compiled else []
        self.steps_per_call = max(int(getattr(model, "steps_per_execution", 1) or 1), 32)
        self._train = jax.jit(self._train_rows)
        self._test = jax.jit(self._test_rows)
        self._predict = jax.jit(self._predict_rows)
        self._predict_one = jax.jit(self._predict_step)

    # --- state in and out of the Variables ----------------------------------------------------------

    def _state(self) -> State:
        values = lambda variables: [v.value for v in variables]  # noqa: E731
        return (values(self.trainable), values(self.non_trainable), values(self.optimizer_variables),
                values(self.metric_variables))

    def _store(self, state: State) -> None:
        groups = (self.trainable, self.non_trainable, self.optimizer_variables, self.metric_variables)
        for variables, values in zip(groups, state):
            for variable, value in zip(variables, values):
                variable._value = value

    # --- pure steps (traced once per input shape) -----------------------------------------------------

    def _train_step(self, state: State, x: Any, y: Any, sample_weight: Any) -> State:
        trainable, non_trainable, optimizer_values, metric_values = state
        model = self.model

        def loss_of(trainable_values: list) -> tuple:
            with StateScope(self.trainable + self.non_trainable, trainable_values + non_trainable) as scope:
                CALL_CONTEXT.training = True
                try:
                    loss, y_pred = step.forward_and_loss(model, x, y, sample_weight, training=True)
                finally:
                    CALL_CONTEXT.training = None
                return loss, (y_pred, scope.current(self.non_trainable))

        (loss, (y_pred, non_trainable)), grads = jax.value_and_grad(loss_of, has_aux=True)(trainable)
        with StateScope(self.trainable + self.optimizer_variables, trainable + optimizer_values) as scope:
            model.optimizer.apply(grads, self.trainable)
            trainable, optimizer_values = scope.current(self.trainable), scope.current(self.optimizer_variables)
        with StateScope(self.metric_variables, metric_values) as scope:
            step.update_metrics(model, loss, y, lax.stop_gradient(y_pred), sample_weight)
            metric_values = scope.current(self.metric_variables)
        return trainable, non_trainable, optimizer_values, metric_values

    def _test_step(self, state: State, x: Any, y: Any, sample_weight: Any) -> State:
        trainable, non_trainable, optimizer_values, metric_values = state
        with StateScope(self.trainable + self.non_trainable + self.metric_variables,
                        trainable + non_trainable + metric_values) as scope:
            loss, y_pred = step.forward_and_loss(self.model, x, y, sample_weight, training=False)
            step.update_metrics(self.model, loss, y, y_pred, sample_weight)
            metric_values = scope.current(self.metric_variables)
        return trainable, non_trainable, optimizer_values, metric_values

    def _predict_step(self, weights: tuple[list, list], x: Any) -> Any:
        trainable, non_trainable = weights
        with StateScope(self.trainable + self.non_trainable, trainable + non_trainable):
            return self.model(x, training=False)

    def _train_rows(self, state: State, data: tuple, rows: Any) -> State:
        def body(state: State, row: Any) -> tuple[State, None]:
            return self._train_step(state, *_gather(data, row)), None

        return lax.scan(body, state, rows)[0]

    def _test_rows(self, state: State, data: tuple, rows: Any) -> State:
        def body(state: State, row: Any) -> tuple[State, None]:
            return self._test_step(state, *_gather(data, row)), None

        return lax.scan(body, state, rows)[0]

    def _predict_rows(self, weights: tuple[list, list], x: Any, rows: Any) -> Any:
        def body(carry: None, row: Any) -> tuple[None, Any]:
            return None, self._predict_step(weights, _gather(x, row))

        stacked = lax.scan(body, None, rows)[1]  # (calls, batch, ...)
        return jax.tree_util.tree_map(lambda t: t.reshape((-1,) + t.shape[2:]), stacked)

    # --- the StepRunner surface ------------------------------------------------------------------------

    def train_arrays(self, data: tuple, rows: Any) -> None:
        self._store(self._train(self._state(), data, rows))

    def train_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        rows = jnp.arange(jax.tree_util.tree_leaves(x)[0].shape[0])[None]
        self.train_arrays((x, y, sample_weight), rows)

    def test_arrays(self, data: tuple, rows: Any) -> None:
        self._store(self._test(self._state(), data, rows))

    def test_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        rows = jnp.arange(jax.tree_util.tree_leaves(x)[0].shape[0])[None]
        self.test_arrays((x, y, sample_weight), rows)

    def predict_arrays(self, x: Any, rows: Any) -> Any:
        return self._predict(self._weights(), x, rows)

    def predict_batch(self, x: Any) -> Any:
        return self._predict_one(self._weights(), x)

    def _weights(self) -> tuple[list, list]:
        return [v._value for v in self.trainable], [v._value for v in self.non_trainable]
