"""compile / fit / evaluate / predict: one trainer a reader can follow from `fit` to the optimizer step.

The numerical steps live in the backend's StepRunner; this module checks the inputs, moves in-memory data
to the device once per call, walks epochs and steps, and drives the callbacks.
"""

from __future__ import annotations

import contextlib
import math
import threading
import warnings
from collections.abc import Mapping
from typing import Any, Iterator, Sequence

import numpy as np

from lamina import backend, distribution, optimizers
from lamina.callbacks import CallbackList
from lamina.metrics.metric import Mean, Metric
from lamina.trainers import checks, data_adapter
from lamina.trainers import step as step_module
from lamina.trainers.compile_utils import CompileLoss, CompileMetrics, flat_outputs
from lamina.trainers.step_runner import StepRunner, interrupts_guarded, step_mode
from lamina.utils import tree


class NotCompiledError(ValueError, RuntimeError):
    """fit/evaluate before compile."""


class MetricLogs(Mapping):
    """The logs of the last step, read on demand: reading one synchronises with the device, so callbacks read
    rarely. They are the model's metric results, or what the model's own train_step/test_step returned."""

    def __init__(self, model: "Trainer") -> None:
        self._model = model

    def _sources(self) -> dict[str, Any]:
        runner = self._model._runner
        if runner is not None and runner.last_logs is not None:
            return dict(runner.last_logs)
        return {metric.name: metric for metric in self._model.metrics}

    def __getitem__(self, name: str) -> Any:
        source = self._sources()[name]
        return log_value(source.result() if isinstance(source, Metric) else source)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources())

    def __len__(self) -> int:
        return len(self._sources())


def log_value(value: Any) -> Any:
    """A metric result as logs hold it: a float, or a NumPy array for a result with several values."""
    array = np.asarray(backend.impl.convert_to_numpy(value))
    return float(array) if array.size == 1 else array


class Trainer:
    """The training and inference features of a Model."""

    def __init__(self) -> None:
        self.compiled = False
        self.optimizer: optimizers.Optimizer | None = None
        self.stop_training = False
        self.history = None
        self._runner = None
        self._compile_loss: CompileLoss | None = None
        self._compile_metrics: CompileMetrics | None = None
        self._loss_tracker: Mean | None = None
        self._compile_config: dict | None = None
        self._step_mode = "auto"
        self._initial_epoch: int | None = None
        self._training_lock = threading.Lock()

    # --- compile ---------------------------------------------------------------------------------

    def get_compile_config(self) -> dict | None:
        """compile's arguments as a saved file holds them (None before compile); a model whose compile takes
        other arguments overrides this and `compile_from_config` together."""
        from lamina.saving import saving_api

        return saving_api.compile_config(self)

    def compile_from_config(self, config: dict) -> None:
        """Compile again from what `get_compile_config` returned (classes found by name, never imported)."""
        from lamina.saving import saving_api

        saving_api.compile_from_config(self, config)

    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, loss_weights: Any = None, metrics: Any = None,
                weighted_metrics: Any = None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile: Any = "auto", **kwargs: Any) -> None:
        """Choose the optimizer, loss(es) and metrics for training."""
        if kwargs:
            raise TypeError(f"compile got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        self.optimizer = optimizers.get(optimizer)
        names = self.output_names
        self._compile_loss = CompileLoss(loss, loss_weights, names) if loss is not None else None
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, names, self._compile_loss)
        self._loss_tracker = Mean(name="loss")
        self._compile_config = {"optimizer": optimizer, "loss": loss, "loss_weights": loss_weights,
                                "metrics": metrics, "weighted_metrics": weighted_metrics}
        self._step_mode = _checked_step_mode(run_eagerly, jit_compile, steps_per_execution)
        self.run_eagerly, self.jit_compile = run_eagerly, jit_compile
        self.steps_per_execution = int(steps_per_execution)
        self.compiled = True
        self._runner = None

    @property
    def loss(self) -> Any:
        return self._compile_config["loss"] if self._compile_config else None

    @property
    def metrics(self) -> list[Metric]:
        """The loss tracker, each output's loss tracker and the compiled metrics, then the Metric objects the
        model and its layers hold as attributes (a nested model's own metrics excepted, as in Keras)."""
        found = []
        if self.compiled:
            found = [self._loss_tracker]
            if self._compile_loss is not None:
                found += self._compile_loss.metrics
            found += self._compile_metrics.metrics
        for layer in [self, *self._flat_layers()]:
            if layer is self or not isinstance(layer, Trainer):
                found += [metric for metric in layer._metrics if not any(metric is m for m in found)]
        return found

    @property
    def metrics_names(self) -> list[str]:
        return [metric.name for metric in self.metrics]

    @property
    def metrics_variables(self) -> list[Any]:
        return [variable for metric in self.metrics for variable in metric.variables]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()
        if self._runner is not None:
            self._runner.last_logs = None

    # --- the steps, as a model subclass may override or call them --------------------------------------

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None,
                     training: bool = True) -> Any:
        """The total loss of a batch: the compiled loss(es) plus the losses the model added (`add_loss`,
        weight penalties) in its last call."""
        loss: Any = 0.0
        if self._compile_loss is not None and y is not None:
            loss = self._compile_loss(y, y_pred, sample_weight)
        for extra in self.losses:
            loss = loss + extra
        return backend.impl.convert_to_tensor(loss) if isinstance(loss, float) else loss

    def stateless_compute_loss(self, trainable_variables: Sequence[Any], non_trainable_variables: Sequence[Any],
                               metrics_variables: Sequence[Any], x: Any = None, y: Any = None, y_pred: Any = None,
                               sample_weight: Any = None, training: bool = True) -> tuple[Any, tuple]:
        """`compute_loss` with these values in place of the variables; returns the loss and the new values."""
        groups = (self.trainable_variables, self._stateless_non_trainable(non_trainable_variables),
                  self.metrics_variables)
        values = (trainable_variables, non_trainable_variables, metrics_variables)
        with backend.impl.StateScope([v for g in groups for v in g], [v for g in values for v in g]) as scope:
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)
            return loss, tuple(scope.current(group) for group in groups)

    def _stateless_non_trainable(self, values: Sequence[Any]) -> list[Any]:
        """The variables that these non-trainable values stand for: the weights, and the random-number state
        when the values carry it too (as a train step's state does)."""
        variables = self.non_trainable_variables
        return variables + self.seed_state_variables if len(values) > len(variables) else variables

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None) -> dict[str, Any]:
        """Update the compiled metrics with this batch and return every metric's result."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict[str, Any]:
        """Every metric's current result, by name (as tensors)."""
        return step_module.metric_results(self.metrics)

    def train_step(self, *args: Any) -> Any:
        """One training step on a batch. `train_step(data)` updates the variables and returns the logs;
        `train_step(state, data)` (Keras's jax form) returns `(logs, new_state)` and changes no variable."""
        return self._builtin_step("train", args)

    def test_step(self, *args: Any) -> Any:
        """One evaluation step: `test_step(data)` or `test_step(state, data)`, as `train_step`."""
        return self._builtin_step("test", args)

    def predict_step(self, *args: Any) -> Any:
        """The outputs for a batch: `predict_step(data)`, or `predict_step(state, data)` returning
        `(outputs, non_trainable_values)`."""
        steps = self._get_runner().steps
        if len(args) == 2:
            (trainable, non_trainable), data = args
            new_state, outputs = steps.predict((list(trainable), list(non_trainable), [], []),
                                               step_module.unpack_data(data)[0])
            return outputs, (list(non_trainable) if new_state is None else new_state[1])
        return self(step_module.unpack_data(args[0])[0], training=False)

    def _builtin_step(self, kind: str, args: tuple) -> Any:
        steps = self._get_runner().steps
        function = steps.train if kind == "train" else steps.test
        if len(args) == 2:  # the stateless form
            state, data = args
            if kind == "test":
                trainable, non_trainable, metric_values = state
                state = (trainable, non_trainable, backend.impl.state_values(steps.optimizer_variables),
                         metric_values)
            new_state, _ = function(tuple(list(group) for group in state), step_module.unpack_data(data))
            logs = steps.logs(new_state[3])
            return logs, (new_state if kind == "train" else (new_state[0], new_state[1], new_state[3]))
        if len(args) != 1:
            raise TypeError(f"{kind}_step takes (data) or (state, data), got {len(args)} arguments.")
        new_state, _ = function(steps.state(), step_module.unpack_data(args[0]))
        steps.store(new_state)
        return self.get_metrics_result()

    # --- fit -------------------------------------------------------------------------------------

    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: Any = "auto", callbacks: Sequence[Any] | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, **kwargs: Any) -> Any:
        """Train for `epochs` epochs; returns the History of losses and metrics per epoch."""
        if "nb_epoch" in kwargs:  # the Keras 1 spelling
            epochs = kwargs.pop("nb_epoch")
        if kwargs:
            raise TypeError(f"fit got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        self._require_compiled("fit")
        backend.require_training("fit")
        batch_size = checks.check_batch_size(batch_size, x)
        if not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"epochs must be a non-negative integer, got {epochs!r}.")
        train, validation = self._fit_data(x, y, sample_weight, class_weight, validation_split, validation_data,
                                           steps_per_epoch, validation_steps, shuffle)
        if isinstance(train, data_adapter.ArrayData):
            distribution.current().check_batches(train.count, batch_size)
        if isinstance(validation, data_adapter.ArrayData) and validation_steps:  # as Keras: the first batches
            validation = validation.head(validation_steps * (validation_batch_size or batch_size))
        steps = train.steps if isinstance(train, data_adapter.GeneratorData) else \
            steps_per_epoch or math.ceil(train.count / batch_size)
        verbose = checks.check_verbose(verbose)
        callback_list = CallbackList(callbacks, add_history=True, add_progbar=_shows_progress(verbose), model=self,
                                     epochs=epochs, steps=steps, verbose=verbose)
        if isinstance(train, data_adapter.GeneratorData):
            callback_list.append(checks.GeneratorWatch(train))
        with self._exclusive("fit"), _closing(callback_list):
            device_data = train.to_device() if isinstance(train, data_adapter.ArrayData) else None
            self.stop_training = False
            self._initial_epoch = None
            # Each epoch's order comes from this seed and the epoch number, so that a run resumed from a
            # backup (BackupAndRestore) shuffles its remaining epochs as the uninterrupted run did.
            shuffle_seed = int(np.random.randint(0, 2**31 - 1))
            callback_list.on_train_begin()
            initial_epoch = self._initial_epoch or initial_epoch  # a restored backup sets where to resume
            logs: dict[str, float] = {}
            cursor, passes = 0, 0  # with steps_per_epoch on arrays: the next batch of the pass, passes begun
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                callback_list.on_epoch_begin(epoch)
                if device_data is not None and steps_per_epoch is not None:
                    # As Keras: the epochs walk a pass over the arrays, steps_per_epoch batches at a time; the
                    # epoch that reaches the end of a pass ends there, and the next begins a new pass.
                    cursor = self._train_epoch_on_arrays(device_data, train.count, batch_size,
                                                         shuffle_seed + passes if shuffle else None, callback_list,
                                                         first=cursor, limit=steps_per_epoch)
                    if _ran_out_of_data(cursor, math.ceil(train.count / batch_size), epoch, epochs):
                        cursor, passes = 0, passes + 1
                elif device_data is not None:
                    order_seed = shuffle_seed + epoch if shuffle else None
                    self._train_epoch_on_arrays(device_data, train.count, batch_size, order_seed, callback_list)
                else:
                    self._train_epoch_on_batches(train, callback_list)
                logs = self._metric_values()
                if validation is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._evaluate_data(validation, validation_batch_size or batch_size, callback_list)
                    logs.update({f"val_{name}": value for name, value in val_logs.items()})
                callback_list.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
            if epochs > initial_epoch:  # with use_ema, the weights take their moving averages, as in Keras
                self.optimizer.finalize_variable_values(self.trainable_weights)
            callback_list.on_train_end(logs)
        return self.history

    def fit_generator(self, generator: Any, steps_per_epoch: int | None = None, epochs: int = 1,
                      verbose: Any = 1, callbacks: Sequence[Any] | None = None, validation_data: Any = None,
                      validation_steps: int | None = None, class_weight: dict | None = None,
                      max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                      shuffle: bool = True, initial_epoch: int = 0) -> Any:
        """Keras 2's spelling of fit on a generator."""
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def _fit_data(self, x: Any, y: Any, sample_weight: Any, class_weight: dict | None, validation_split: float,
                  validation_data: Any, steps_per_epoch: int | None, validation_steps: int | None,
                  shuffle: Any = True) -> tuple:
        if data_adapter.is_generator_like(x):
            if validation_split:
                raise ValueError("validation_split needs in-memory arrays; with a generator, pass validation_data.")
            train: Any = data_adapter.GeneratorData(x, steps_per_epoch, y=y, sample_weight=sample_weight,
                                                    class_weight=class_weight, shuffle=bool(shuffle))
        else:
            train = self._checked_arrays(x, y, sample_weight, class_weight)
            if validation_split and validation_data is None:
                train, validation_data = train.split(validation_split)
        validation = None
        if validation_data is not None:
            validation = self._validation(validation_data, validation_steps)
        return train, validation

    def _validation(self, validation_data: Any, steps: int | None) -> Any:
        if isinstance(validation_data, data_adapter.ArrayData):
            return validation_data
        if data_adapter.is_generator_like(validation_data):
            return data_adapter.GeneratorData(validation_data, steps, name="validation_data")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, sample_weight) or a "
                             f"generator, got {type(validation_data).__name__}.")
        return self._checked_arrays(*validation_data, prefix="validation_data ")

    def _train_epoch_on_arrays(self, data: tuple, count: int, batch_size: int, order_seed: int | None,
                               callback_list: CallbackList, first: int = 0, limit: int | None = None) -> int:
        """Train on the batches of one pass over the arrays (in the order `order_seed` draws), from batch
        `first`, at most `limit` of them; returns the index of the batch after the last one trained."""
        B = backend.impl
        runner = self._training_runner()
        # The order is drawn on the host: a seeded device permutation compiles anew for every data size on jax.
        rows = B.arange(count) if order_seed is None else \
            B.convert_to_tensor(np.random.default_rng(order_seed).permutation(count))
        order = distribution.current().local_rows(rows)
        count = int(B.shape(order)[0])
        batch_size = distribution.current().local_batch_size(batch_size)
        full, rest = divmod(count, batch_size)
        end = full + (1 if rest else 0)
        end = end if limit is None else min(end, first + limit)
        logs = MetricLogs(self)
        step, per_call = first, runner.steps_per_call
        while step < min(end, full) and not self.stop_training:
            taken = min(per_call, min(end, full) - step)
            callback_list.on_train_batch_begin(step - first)
            runner.train_arrays(data, order, step * batch_size, taken, batch_size)
            step += taken
            callback_list.on_train_batch_end(step - 1 - first, logs)
        if step == full < end and not self.stop_training:
            callback_list.on_train_batch_begin(step - first)
            runner.train_arrays(data, order, full * batch_size, 1, rest)
            callback_list.on_train_batch_end(step - first, logs)
            step += 1
        return step

    def _train_epoch_on_batches(self, train: data_adapter.GeneratorData, callback_list: CallbackList) -> None:
        logs = MetricLogs(self)
        for step, batch in enumerate(train.epoch()):
            batch = distribution.current().local_batch(batch)
            if batch.y is None and self._compile_loss is not None:
                raise ValueError("The generator yielded batches without targets: yield (x, y) or (x, y, weights).")
            self._check_inputs(batch.x)
            self._ensure_ready(batch)
            # Whether layers were frozen is asked once an epoch: the answer walks every layer.
            runner = self._training_runner() if step == 0 else self._get_runner()
            callback_list.on_train_batch_begin(step)
            runner.train_batch(*batch.to_device())
            callback_list.on_train_batch_end(step, logs)
            if self.stop_training:
                break

    # --- evaluate --------------------------------------------------------------------------------

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: Any = "auto",
                 sample_weight: Any = None, steps: int | None = None, callbacks: Sequence[Any] | None = None,
                 return_dict: bool = False, **kwargs: Any) -> Any:
        """The loss and metrics on these data: a scalar with no metrics, else a list (or a dict)."""
        if kwargs:
            raise TypeError(f"evaluate got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        self._require_compiled("evaluate")
        backend.require_training("evaluate")
        batch_size = checks.check_batch_size(batch_size, x)
        if data_adapter.is_generator_like(x):
            data: Any = data_adapter.GeneratorData(x, steps, y=y, sample_weight=sample_weight)
        else:
            data = self._checked_arrays(x, y, sample_weight)
            if steps:
                data = data.head(steps * batch_size)
        verbose = checks.check_verbose(verbose)
        with self._exclusive("evaluate"):
            logs = self._evaluate_data(data, batch_size, (callbacks, verbose))
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def evaluate_generator(self, generator: Any, steps: int | None = None, callbacks: Sequence[Any] | None = None,
                           max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                           verbose: Any = 0) -> Any:
        """Keras 2's spelling of evaluate on a generator."""
        return self.evaluate(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    def _evaluate_data(self, data: Any, batch_size: int, callback_setup: Any) -> dict[str, float]:
        """Run the test steps over `data`. From fit, `callback_setup` is fit's own CallbackList (Keras calls its
        on_test_* hooks for the validation); from evaluate, the (callbacks, verbose) evaluate was given."""
        steps = data.steps if isinstance(data, data_adapter.GeneratorData) else math.ceil(data.count / batch_size)
        if isinstance(callback_setup, CallbackList):
            callback_list, closing = callback_setup, contextlib.nullcontext()  # fit closes its list itself
        else:
            callbacks, verbose = callback_setup
            callback_list = CallbackList(callbacks, add_progbar=_shows_progress(verbose), model=self, epochs=1,
                                         steps=steps, verbose=verbose)
            closing = _closing(callback_list)
        with closing:
            callback_list.on_test_begin()
            self.reset_metrics()
            logs = MetricLogs(self)
            for step, run in enumerate(self._test_calls(data, batch_size)):
                callback_list.on_test_batch_begin(step)
                run()
                callback_list.on_test_batch_end(step, logs)
            values = self._metric_values()
            callback_list.on_test_end(values)
        return values

    def _test_calls(self, data: Any, batch_size: int) -> Iterator[Any]:
        if isinstance(data, data_adapter.GeneratorData):
            for batch in data.epoch():
                batch = distribution.current().local_batch(batch)
                self._check_inputs(batch.x)
                self._ensure_ready(batch)
                runner = self._get_runner()
                yield lambda batch=batch: runner.test_batch(*batch.to_device())
            return
        runner = self._get_runner()
        device_data = data.to_device()
        order = distribution.current().local_rows(backend.impl.arange(data.count))
        count, batch_size = int(backend.impl.shape(order)[0]), distribution.current().local_batch_size(batch_size)
        for offset, steps, size in _batch_blocks(count, batch_size, runner.steps_per_call):
            yield lambda offset=offset, steps=steps, size=size: runner.test_arrays(device_data, order, offset,
                                                                                    steps, size)

    # --- predict ---------------------------------------------------------------------------------

    def predict(self, x: Any, batch_size: int | None = None, verbose: Any = "auto", steps: int | None = None,
                callbacks: Sequence[Any] | None = None, **kwargs: Any) -> Any:
        """The model's outputs for x, as NumPy arrays, computed batch by batch."""
        if kwargs:
            raise TypeError(f"predict got unexpected keyword argument(s): {', '.join(sorted(kwargs))}.")
        batch_size = checks.check_batch_size(batch_size, x)
        verbose = checks.check_verbose(verbose)
        if data_adapter.is_generator_like(x):
            return self._predict_batches(data_adapter.GeneratorData(x, steps), callbacks, verbose)
        if (isinstance(x, np.ndarray) and x.dtype.kind in "biuf" and x.ndim and not callbacks and verbose == 0
                and len(x) <= batch_size and self.built and not steps):
            return self._predict_small(x)
        data = data_adapter.array_data(x)
        if steps:  # as Keras: the first `steps` batches
            data = data.head(steps * batch_size)
        self._check_inputs(data.x)
        runner = self._get_runner(data)
        callback_list = CallbackList(callbacks, add_progbar=_shows_progress(verbose), model=self, epochs=1,
                                     steps=math.ceil(data.count / batch_size), verbose=verbose)
        with _closing(callback_list):
            callback_list.on_predict_begin()
            device_x = data.to_device()[0]
            order = backend.impl.arange(data.count)
            chunks = []
            blocks = _batch_blocks(data.count, batch_size, runner.steps_per_call)
            for step, (offset, steps, size) in enumerate(blocks):
                callback_list.on_predict_batch_begin(step)
                chunks.append(runner.predict_arrays(device_x, order, offset, steps, size))
                callback_list.on_predict_batch_end(step, {"outputs": chunks[-1]})
            callback_list.on_predict_end()
        return _concatenate_outputs(chunks)

    def _predict_small(self, x: np.ndarray) -> Any:
        """The short path for one batch of an array: the per-call cost is what small predictions pay."""
        if x.dtype == np.float64:
            x = x.astype(np.float32)
        self._check_inputs(x)
        outputs = self._get_runner().predict_batch(x)  # the compiled step moves x (jax: inside its call)
        return tree.map_structure(backend.impl.convert_to_numpy, outputs)

    def _predict_batches(self, data: data_adapter.GeneratorData, callbacks: Any, verbose: int) -> Any:
        callback_list = CallbackList(callbacks, add_progbar=_shows_progress(verbose), model=self, epochs=1,
                                     steps=data.steps, verbose=verbose)
        with _closing(callback_list):
            callback_list.on_predict_begin()
            chunks = []
            for step, batch in enumerate(data.epoch()):
                self._check_inputs(batch.x)
                runner = self._get_runner(batch)
                callback_list.on_predict_batch_begin(step)
                chunks.append(runner.predict_batch(batch.to_device()[0]))
                callback_list.on_predict_batch_end(step, {"outputs": chunks[-1]})
            callback_list.on_predict_end()
        return _concatenate_outputs(chunks)

    def predict_generator(self, generator: Any, steps: int | None = None, callbacks: Sequence[Any] | None = None,
                          max_queue_size: int = 10, workers: int = 1, use_multiprocessing: bool = False,
                          verbose: Any = 0) -> Any:
        """Keras 2's spelling of predict on a generator."""
        return self.predict(generator, steps=steps, callbacks=callbacks, verbose=verbose)

    # --- single batches --------------------------------------------------------------------------

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, class_weight: dict | None = None,
                       return_dict: bool = False) -> Any:
        """One optimizer step on this batch; returns the running loss and metrics."""
        self._require_compiled("train_on_batch")
        backend.require_training("train_on_batch")
        data = self._checked_arrays(x, y, sample_weight, class_weight)
        with self._exclusive("train_on_batch"):
            self._training_runner().train_batch(*data.to_device())
        return self._batch_result(return_dict)

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None, return_dict: bool = False) -> Any:
        """Loss and metrics on this batch alone."""
        self._require_compiled("test_on_batch")
        backend.require_training("test_on_batch")
        data = self._checked_arrays(x, y, sample_weight)
        runner = self._get_runner()
        self.reset_metrics()
        runner.test_batch(*data.to_device())
        return self._batch_result(return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        data = data_adapter.array_data(x)
        self._check_inputs(data.x)
        return tree.map_structure(backend.impl.convert_to_numpy,
                                  self._get_runner(data).predict_batch(data.to_device()[0]))

    def _batch_result(self, return_dict: bool) -> Any:
        logs = self._metric_values()
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    # --- shared plumbing -------------------------------------------------------------------------

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise NotCompiledError(f"You must call compile() before {what}(): the model has no optimizer or loss yet.")

    def _metric_values(self) -> dict[str, Any]:
        """The logs of an epoch or an evaluation: the metrics' results, or the last step's own logs when a
        custom step returned others (as Keras chooses)."""
        variables = [v for metric in self.metrics for v in metric.variables]
        distribution.current().reduce_metric_states(variables)
        results = step_module.metric_results(self.metrics)
        last = self._runner.last_logs if self._runner is not None else None
        if last is not None and set(last) != set(results):
            results = dict(last)
        values = {name: log_value(value) for name, value in results.items()}
        distribution.current().restore_metric_states(variables)
        return values

    def _checked_arrays(self, x: Any, y: Any, sample_weight: Any = None, class_weight: dict | None = None,
                        prefix: str = "") -> data_adapter.ArrayData:
        """Array inputs after every check that can fail before training starts."""
        try:
            data = data_adapter.array_data(x, y, sample_weight)
        except (ValueError, TypeError) as error:
            raise type(error)(f"{prefix}{error}") from None
        if data.y is None and self._compile_loss is not None:
            raise ValueError(f"{prefix}y is required to compute the loss, got None.")
        self._check_inputs(data.x)
        self._ensure_ready(data)
        if class_weight is not None:
            weights = data_adapter.class_weight_to_sample_weights(data.y, class_weight)
            data.sample_weight = weights if data.sample_weight is None else \
                weights * np.asarray(backend.impl.convert_to_numpy(data.sample_weight), dtype=np.float32)
        return data

    def _check_inputs(self, x: Any) -> None:
        checks.check_inputs(self, x)

    def _ensure_ready(self, data: Any) -> None:
        """Check the loss and targets, then build the metrics (they need the shapes of targets and predictions)."""
        if self.compiled and not self._has_own_steps():
            checks.check_loss_and_targets(self, data)
        if not self.compiled or self._compile_metrics.built or getattr(data, "y", None) is None:
            return
        names = self.output_names
        targets = flat_outputs(data.y, names, "y") if len(names) > 1 else [data.y]
        y_true_shapes = [tuple(backend.impl.shape(t)) for t in targets]
        self._compile_metrics.build(y_true_shapes, checks.output_shapes(self, data.x))
        self._runner = None  # the steps must carry the new metrics' state

    def _has_own_steps(self) -> bool:
        """Whether the model overrides train_step or test_step: those need no compiled loss."""
        return any(step_module.user_step(self, kind) is not None for kind in ("train", "test"))

    def _traced_output_shapes(self, x: Any) -> list[tuple]:
        """The output shapes of a model without a graph, from a symbolic call on inputs like x."""
        from lamina.ops.symbolic import KerasTensor, compute_output_spec

        specs = tree.map_structure(lambda a: KerasTensor((None,) + tuple(backend.impl.shape(a))[1:],
                                                         backend.impl.dtype_of(a)), x)
        return [tuple(t.shape) for t in tree.flatten(compute_output_spec(lambda inputs: self(inputs), specs))]

    def _get_runner(self, data: Any = None) -> StepRunner:
        """The compiled steps for this model, made once per compile (and again when `trainable` changed)."""
        if data is not None and not self.built:
            self._check_inputs(data.x)
        if self._runner is None:
            if self.compiled and self.optimizer is not None and not self.optimizer.built:
                self.optimizer.build(self.trainable_weights)
            self._runner = StepRunner(self, self._step_mode)
        return self._runner

    def _training_runner(self) -> StepRunner:
        """The runner for train steps: rebuilt when layers were frozen or unfrozen since it was made."""
        runner = self._get_runner()
        trainable = self.trainable_weights
        if runner.trainable_ids != tuple(id(v) for v in trainable):
            self.optimizer.prepare(trainable)
            self._runner = None
            runner = self._get_runner()
        return runner

    @contextlib.contextmanager
    def _exclusive(self, what: str) -> Iterator[None]:
        """Refuse a second fit/evaluate of this model from another thread while one runs."""
        if not self._training_lock.acquire(blocking=False):
            raise RuntimeError(f"{what}() was called on model {self.name!r} while another thread is training or "
                               "evaluating it. Steps of one model cannot run concurrently: wait for the other "
                               "call to return, or use a separate model per thread.")
        try:
            with interrupts_guarded():  # one SIGINT handler for the whole loop, not one per step
                yield
        finally:
            self._training_lock.release()


@contextlib.contextmanager
def _closing(callback_list: CallbackList) -> Iterator[None]:
    """Whatever ends the loop (Ctrl-C included), stop live displays and give the terminal back."""
    try:
        yield
    finally:
        callback_list.close()


def _ran_out_of_data(cursor: int, batches: int, epoch: int, epochs: int) -> bool:
    """With steps_per_epoch on arrays: whether this epoch ended the pass over the data (warned, as Keras warns,
    when more epochs follow)."""
    if cursor < batches:
        return False
    if epoch + 1 < epochs:
        warnings.warn(f"Your input ran out of data after {batches} batches (epoch {epoch + 1}): that epoch ended "
                      "early and the next starts a new pass over the arrays. Make steps_per_epoch * epochs a "
                      "multiple of the batches in one pass, or leave steps_per_epoch out to walk the arrays "
                      "every epoch.", stacklevel=3)
    return True


def _shows_progress(verbose: int) -> bool:
    return verbose != 0 and distribution.current().is_chief


def _checked_step_mode(run_eagerly: Any, jit_compile: Any, steps_per_execution: Any) -> str:
    """compile's run_eagerly/jit_compile/steps_per_execution, checked, as the way steps run."""
    if not isinstance(run_eagerly, bool):
        raise ValueError(f"run_eagerly must be True or False, got {run_eagerly!r}.")
    if jit_compile not in (True, False, "auto"):
        raise ValueError(f"jit_compile must be True, False or 'auto', got {jit_compile!r}.")
    if run_eagerly and jit_compile is True:
        raise ValueError("run_eagerly=True and jit_compile=True contradict each other: choose one.")
    if not isinstance(steps_per_execution, (int, np.integer)) or isinstance(steps_per_execution, bool) \
            or steps_per_execution < 1:
        raise ValueError(f"steps_per_execution must be a positive integer, got {steps_per_execution!r}.")
    return step_mode(run_eagerly, jit_compile)


def _batch_blocks(count: int, batch_size: int, per_call: int) -> Iterator[tuple[int, int, int]]:
    """(first sample, steps, batch size) of each call over samples in order: full batches, then the rest."""
    full, rest = divmod(count, batch_size)
    for start in range(0, full, per_call):
        yield start * batch_size, min(per_call, full - start), batch_size
    if rest:
        yield full * batch_size, 1, rest


def _concatenate_outputs(chunks: list[Any]) -> Any:
    B = backend.impl
    if not chunks:
        raise ValueError("predict received no data: the input has no samples or the generator yielded nothing.")
    flat = [tree.flatten(chunk) for chunk in chunks]
    joined = [np.concatenate([B.convert_to_numpy(chunk[i]) for chunk in flat]) for i in range(len(flat[0]))]
    return tree.unflatten_as(chunks[0], joined)
