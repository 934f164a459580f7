"""The jax StepRunner: stateless jitted steps over explicit state, several steps per call with lax.scan."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from lamina.backend.jax.core import StateScope
from lamina.trainers import step

State = tuple[list, list, list, list]


def _steps_per_call(requested: int) -> int:
    """Steps scanned per call: on accelerators many, to hide dispatch; on the CPU one, since XLA:CPU runs
    convolutions inside a loop several times slower than alone (measured: the CNN benchmark, 4x)."""
    if requested > 1:
        return requested
    return 1 if jax.default_backend() == "cpu" else 32


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
        self.steps_per_call = _steps_per_call(int(getattr(model, "steps_per_execution", 1) or 1))
        shape_arguments = ("steps", "batch_size")
        # The state goes in and comes out whole, so its buffers are donated: updates happen in place.
        self._train = jax.jit(self._train_rows, static_argnames=shape_arguments, donate_argnums=0)
        self._test = jax.jit(self._test_rows, static_argnames=shape_arguments, donate_argnums=0)
        self._predict = jax.jit(self._predict_rows, static_argnames=shape_arguments)
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
                loss, y_pred = step.forward_and_loss(model, x, y, sample_weight, training=True)
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

    def _over_batches(self, step_fn: Any, carry: Any, data: tuple, order: Any, offset: Any, steps: int,
                      batch_size: int) -> tuple[Any, Any]:
        """Run step_fn(carry, batch) -> (carry, output) on `steps` batches of order[offset:]; one step runs
        without a loop, since XLA:CPU runs convolutions inside loops several times slower."""
        indices = lax.dynamic_slice_in_dim(order, offset, steps * batch_size).reshape(steps, batch_size)
        if steps == 1:
            carry, output = step_fn(carry, _gather(data, indices[0]))
            return carry, jax.tree_util.tree_map(lambda t: t[None], output)
        return lax.scan(lambda c, row: step_fn(c, _gather(data, row)), carry, indices)

    def _train_rows(self, state: State, data: tuple, order: Any, offset: Any, steps: int, batch_size: int) -> State:
        step_fn = lambda state, batch: (self._train_step(state, *batch), None)  # noqa: E731
        return self._over_batches(step_fn, state, data, order, offset, steps, batch_size)[0]

    def _test_rows(self, state: State, data: tuple, order: Any, offset: Any, steps: int, batch_size: int) -> State:
        step_fn = lambda state, batch: (self._test_step(state, *batch), None)  # noqa: E731
        return self._over_batches(step_fn, state, data, order, offset, steps, batch_size)[0]

    def _predict_rows(self, weights: tuple[list, list], x: Any, order: Any, offset: Any, steps: int,
                      batch_size: int) -> Any:
        step_fn = lambda carry, batch: (carry, self._predict_step(weights, batch))  # noqa: E731
        stacked = self._over_batches(step_fn, None, x, order, offset, steps, batch_size)[1]  # (steps, batch, ...)
        return jax.tree_util.tree_map(lambda t: t.reshape((-1,) + t.shape[2:]), stacked)

    # --- the StepRunner surface ------------------------------------------------------------------------

    def train_arrays(self, data: tuple, order: Any, offset: int, steps: int, batch_size: int) -> None:
        """`steps` steps on the samples order[offset:], batch_size at a time, in one call."""
        self._store(self._train(self._state(), data, order, np.int32(offset), steps, batch_size))

    def train_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        count = jax.tree_util.tree_leaves(x)[0].shape[0]
        self.train_arrays((x, y, sample_weight), jnp.arange(count), 0, 1, count)

    def test_arrays(self, data: tuple, order: Any, offset: int, steps: int, batch_size: int) -> None:
        self._store(self._test(self._state(), data, order, np.int32(offset), steps, batch_size))

    def test_batch(self, x: Any, y: Any, sample_weight: Any) -> None:
        count = jax.tree_util.tree_leaves(x)[0].shape[0]
        self.test_arrays((x, y, sample_weight), jnp.arange(count), 0, 1, count)

    def predict_arrays(self, x: Any, order: Any, offset: int, steps: int, batch_size: int) -> Any:
        return self._predict(self._weights(), x, order, np.int32(offset), steps, batch_size)

    def predict_batch(self, x: Any) -> Any:
        return self._predict_one(self._weights(), x)

    def _weights(self) -> tuple[list, list]:
        return [v._value for v in self.trainable], [v._value for v in self.non_trainable]
