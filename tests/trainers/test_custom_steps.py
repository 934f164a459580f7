"""Custom training as the Keras guides teach it: overridden train/test/predict steps in both backends'
forms, compute_loss and compute_metrics, metrics a model or its layers hold, and loops written from scratch."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, layers

rng = np.random.default_rng(3)
X = rng.random((96, 8)).astype("float32")
Y = (X @ rng.normal(size=(8, 1))).astype("float32")
SAMPLE_WEIGHT = rng.random((96, 1)).astype("float32")


def dense_model(cls: type = lamina.Model) -> lamina.Model:
    lamina.utils.set_random_seed(7)
    inputs = lamina.Input(shape=(8,))
    return cls(inputs, layers.Dense(1)(inputs))


def metric_loop_step(model: lamina.Model, loss: object, y: object, y_pred: object, sample_weight: object) -> dict:
    """What the torch guide's train_step does after the optimizer: update every metric, return the results."""
    for metric in model.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred, sample_weight=sample_weight)
    return {m.name: m.result() for m in model.metrics}


# --- torch: train_step(data) with autograd, as in "Customizing what happens in fit() with PyTorch" -------------

def torch_guide_model() -> type:
    torch = pytest.importorskip("torch")

    class TorchGuideModel(lamina.Model):
        traced_batches = 0

        def train_step(self, data):
            x, y, sample_weight = (data + (None,))[:3]
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
            loss.backward()
            trainable_weights = [v for v in self.trainable_weights]
            gradients = [v.value.grad for v in trainable_weights]
            with torch.no_grad():
                self.optimizer.apply(gradients, trainable_weights)
            type(self).traced_batches += 1
            return metric_loop_step(self, loss, y, y_pred, sample_weight)

    return TorchGuideModel


@pytest.fixture
def torch_backend():
    with backend.use("torch"):
        yield


def test_torch_guide_step_trains_like_the_builtin_step(torch_backend):
    custom = dense_model(torch_guide_model())
    builtin = dense_model()
    for model in (custom, builtin):
        model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    custom_history = custom.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0).history
    builtin_history = builtin.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0).history
    assert type(custom).traced_batches == 9
    assert set(custom_history) == {"loss", "mae"}
    np.testing.assert_allclose(custom_history["mae"], builtin_history["mae"], rtol=1e-5)
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert custom_history["loss"][-1] < custom_history["loss"][0]


def test_torch_guide_step_compiles_with_jit_compile(torch_backend, monkeypatch):
    """jit_compile=True puts a user's torch train_step through torch.compile; what it cannot capture
    (`loss.backward()`) breaks the graph there instead of failing, as in Keras, and the numbers stay the same."""
    from lamina.backend.torch import trainer as torch_trainer

    monkeypatch.setattr(torch_trainer, "COMPILE_BACKEND", "aot_eager")  # the capture is what is tested
    histories = []
    for jit_compile in (False, True):
        model = dense_model(torch_guide_model())
        model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse", metrics=["mae"], jit_compile=jit_compile)
        histories.append(model.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0).history)
        assert model._runner._step("train").mode == ("jit" if jit_compile else "eager")
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-5)


def test_torch_guide_step_takes_sample_weights(torch_backend):
    model = dense_model(torch_guide_model())
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(X, Y, sample_weight=SAMPLE_WEIGHT, batch_size=32, epochs=2, verbose=0).history
    assert np.all(np.isfinite(history["loss"]))


def test_lower_level_step_with_own_trackers_and_no_compiled_loss(torch_backend):
    torch = pytest.importorskip("torch")

    class OwnTrackers(lamina.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lamina.metrics.Mean(name="loss")
            self.mae_metric = lamina.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lamina.losses.MeanSquaredError()

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
            loss.backward()
            with torch.no_grad():
                self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_metric.update_state(y, y_pred)
            return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    model = dense_model(OwnTrackers)
    model.compile(optimizer=lamina.optimizers.Adam(0.01))
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0).history
    assert set(history) == {"loss", "mae"}
    assert history["loss"][-1] < history["loss"][0]
    # The trackers are reset at each epoch: the last epoch's mean is not the mean since the start.
    model.loss_tracker.update_state(np.float32(1e6))
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert float(model.loss_tracker.result()) < 1e3


def test_gan_style_step_with_two_optimizers(torch_backend):
    torch = pytest.importorskip("torch")

    class TwoPart(lamina.Model):
        def __init__(self):
            super().__init__()
            self.first = layers.Dense(4)
            self.second = layers.Dense(1)
            self.first_loss = lamina.metrics.Mean(name="first_loss")
            self.second_loss = lamina.metrics.Mean(name="second_loss")

        def call(self, x):
            return self.second(self.first(x))

        @property
        def metrics(self):
            return [self.first_loss, self.second_loss]

        def compile(self, first_optimizer, second_optimizer, loss_fn):
            super().compile()
            self.first_optimizer, self.second_optimizer, self.loss_fn = first_optimizer, second_optimizer, loss_fn

        def train_step(self, data):
            x, y = data
            losses = []
            for part, optimizer in ((self.first, self.first_optimizer), (self.second, self.second_optimizer)):
                self.zero_grad()
                loss = self.loss_fn(y, self(x))
                loss.backward()
                with torch.no_grad():
                    optimizer.apply([v.value.grad for v in part.trainable_weights], part.trainable_weights)
                losses.append(loss)
            self.first_loss.update_state(losses[0])
            self.second_loss.update_state(losses[1])
            return {m.name: m.result() for m in self.metrics}

    model = TwoPart()
    model(X[:2])
    model.compile(lamina.optimizers.SGD(0.02), lamina.optimizers.SGD(0.02), lamina.losses.MeanSquaredError())
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0).history
    assert set(history) == {"first_loss", "second_loss"}
    assert history["second_loss"][-1] < history["first_loss"][0]


def test_training_loop_from_scratch_on_torch(torch_backend):
    torch = pytest.importorskip("torch")
    model = dense_model()
    optimizer = lamina.optimizers.Adam(learning_rate=0.01)
    loss_fn = lamina.losses.MeanSquaredError()
    metric = lamina.metrics.MeanAbsoluteError()
    first = None
    for epoch in range(4):
        metric.reset_state()
        for start in range(0, len(X), 32):
            x, y = torch.from_numpy(X[start:start + 32]), torch.from_numpy(Y[start:start + 32])
            prediction = model(x, training=True)
            loss = loss_fn(y, prediction)
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                optimizer.apply([v.value.grad for v in model.trainable_weights], model.trainable_weights)
            metric.update_state(y, prediction)
        first = float(metric.result()) if first is None else first
    assert float(metric.result()) < first
    assert int(optimizer.iterations) == 12


# --- both backends ----------------------------------------------------------------------------------------

def test_calling_the_builtin_step_from_an_override_gives_the_builtin_numbers(training_backend):
    if training_backend == "jax":
        class Through(lamina.Model):
            def train_step(self, state, data):
                return super().train_step(state, data)
    else:
        class Through(lamina.Model):
            def train_step(self, data):
                return super().train_step(data)

    custom, builtin = dense_model(Through), dense_model()
    for model in (custom, builtin):
        model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    custom_history = custom.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    builtin_history = builtin.fit(X, Y, batch_size=32, epochs=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(custom_history["loss"], builtin_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(custom.get_weights()[0], builtin.get_weights()[0], rtol=1e-5, atol=1e-6)


def test_stateful_override_calling_super_works_on_every_backend(training_backend):
    class Scaled(lamina.Model):
        def train_step(self, data):
            x, y = data
            return super().train_step((x, y * 2.0))

    model = dense_model(Scaled)
    model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse")
    history = model.fit(X, Y, batch_size=32, epochs=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    prediction = model.predict(X, verbose=0)
    assert np.mean((prediction - 2 * Y) ** 2) < np.mean((prediction - Y) ** 2)


def test_overridden_compute_loss_is_what_fit_minimises(training_backend):
    class AbsoluteLoss(lamina.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return lamina.ops.mean(lamina.ops.abs(y_pred - y)) * 10.0

    model = dense_model(AbsoluteLoss)
    model.compile(optimizer=lamina.optimizers.SGD(0.01), loss="mse", metrics=["mae"])
    history = model.fit(X, Y, batch_size=96, epochs=1, shuffle=False, verbose=0).history
    np.testing.assert_allclose(history["loss"][0], 10 * history["mae"][0], rtol=1e-5)


def test_metrics_of_layers_appear_in_the_logs(training_backend):
    class Counting(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.activity = lamina.metrics.Mean(name="activity")

        def call(self, inputs):
            self.activity.update_state(lamina.ops.mean(lamina.ops.abs(inputs)))
            return inputs

    inputs = lamina.Input(shape=(8,))
    model = lamina.Model(inputs, layers.Dense(1)(Counting()(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(X, Y, batch_size=32, epochs=1, verbose=0).history
    np.testing.assert_allclose(history["activity"][0], np.mean(np.abs(X)), rtol=1e-5)
    assert "activity" in model.metrics_names


def test_model_without_a_compiled_loss_trains_on_its_own_losses(training_backend):
    class OwnLoss(lamina.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            output = self.dense(x)
            self.add_loss(lamina.ops.mean(lamina.ops.square(output - 1.0)))
            return output

    model = OwnLoss()
    model.compile(optimizer=lamina.optimizers.SGD(0.1))
    history = model.fit(X, epochs=5, batch_size=32, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert abs(float(np.mean(model.predict(X, verbose=0))) - 1.0) < 0.2


def test_test_step_and_predict_step_overrides(training_backend):
    if training_backend == "jax":
        class Custom(lamina.Model):
            def test_step(self, state, data):
                trainable, non_trainable, metric_values = state
                x, y = data
                y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=False)
                loss, (trainable, non_trainable, metric_values) = self.stateless_compute_loss(
                    trainable, non_trainable, metric_values, x=x, y=y, y_pred=y_pred, training=False)
                new_values, logs = [], {}
                for metric in self.metrics:
                    mine = metric_values[len(new_values):len(new_values) + len(metric.variables)]
                    mine = metric.stateless_update_state(mine, loss) if metric.name == "loss" else \
                        metric.stateless_update_state(mine, y, y_pred)
                    logs[metric.name] = metric.stateless_result(mine)
                    new_values += mine
                return logs, (trainable, non_trainable, new_values)

            def predict_step(self, state, data):
                outputs, non_trainable = super().predict_step(state, data)
                return outputs * 2.0, non_trainable
    else:
        class Custom(lamina.Model):
            def test_step(self, data):
                x, y = data
                y_pred = self(x, training=False)
                return metric_loop_step(self, self.compute_loss(y=y, y_pred=y_pred), y, y_pred, None)

            def predict_step(self, data):
                return super().predict_step(data) * 2.0

    custom, builtin = dense_model(Custom), dense_model()
    for model in (custom, builtin):
        model.compile(loss="mse", metrics=["mae"])
    np.testing.assert_allclose(list(custom.evaluate(X, Y, batch_size=32, verbose=0, return_dict=True).values()),
                               list(builtin.evaluate(X, Y, batch_size=32, verbose=0, return_dict=True).values()),
                               rtol=1e-5)
    np.testing.assert_allclose(custom.predict(X, batch_size=32, verbose=0),
                               2 * builtin.predict(X, batch_size=32, verbose=0), rtol=1e-5)


def test_stateless_call_changes_no_weight(training_backend):
    model = dense_model()
    weights = model.get_weights()
    doubled = [backend.impl.convert_to_tensor(2 * w) for w in weights]
    outputs, non_trainable = model.stateless_call(doubled, [], X[:4])
    np.testing.assert_allclose(backend.impl.convert_to_numpy(outputs), 2 * model.predict(X[:4], verbose=0),
                               rtol=1e-5)
    assert non_trainable == []
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="trainable_variables has 1 values"):
        model.stateless_call(doubled[:1], [], X[:4])


# --- jax: train_step(state, data), as in "Customizing what happens in fit() with JAX" ----------------------

@pytest.fixture
def jax_backend():
    pytest.importorskip("jax")
    with backend.use("jax"):
        yield


def stateless_metric_logs(model: lamina.Model, metric_values: list, loss: object, y: object, y_pred: object,
                          sample_weight: object = None) -> tuple[dict, list]:
    """The jax guide's metric loop: each metric's slice of the state updated statelessly, and the logs."""
    new_values, logs = [], {}
    for metric in model.metrics:
        mine = metric_values[len(new_values):len(new_values) + len(metric.variables)]
        if metric.name == "loss":
            mine = metric.stateless_update_state(mine, loss, sample_weight=sample_weight)
        else:
            mine = metric.stateless_update_state(mine, y, y_pred, sample_weight=sample_weight)
        logs[metric.name] = metric.stateless_result(mine)
        new_values += mine
    return logs, new_values


def test_jax_guide_step_is_jitted_once_and_trains_like_the_builtin_step(jax_backend):
    import jax

    class JaxGuideModel(lamina.Model):
        traces = 0

        def compute_loss_and_updates(self, trainable, non_trainable, metric_values, x, y, sample_weight,
                                     training=False):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=training)
            loss, (trainable, non_trainable, metric_values) = self.stateless_compute_loss(
                trainable, non_trainable, metric_values, x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                training=training)
            return loss, (y_pred, non_trainable, metric_values)

        def train_step(self, state, data):
            JaxGuideModel.traces += 1
            trainable, non_trainable, optimizer_values, metric_values = state
            x, y, sample_weight = lamina.utils.unpack_x_y_sample_weight(data)
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable, metric_values)), grads = grad_fn(
                trainable, non_trainable, metric_values, x, y, sample_weight, training=True)
            trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, grads, trainable)
            logs, metric_values = stateless_metric_logs(self, metric_values, loss, y, y_pred, sample_weight)
            return logs, (trainable, non_trainable, optimizer_values, metric_values)

    custom, builtin = dense_model(JaxGuideModel), dense_model()
    for model in (custom, builtin):
        model.compile(optimizer=lamina.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    custom_history = custom.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0).history
    builtin_history = builtin.fit(X, Y, batch_size=32, epochs=3, shuffle=False, verbose=0).history
    assert JaxGuideModel.traces == 1  # nine batches, one trace: fit jits the user's step
    np.testing.assert_allclose(custom_history["loss"], builtin_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(custom_history["mae"], builtin_history["mae"], rtol=1e-5)
    for a, b in zip(custom.get_weights(), builtin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_jax_lower_level_step_with_own_trackers(jax_backend):
    import jax

    class OwnTrackers(lamina.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = lamina.metrics.Mean(name="loss")
            self.mae_metric = lamina.metrics.MeanAbsoluteError(name="mae")
            self.loss_fn = lamina.losses.MeanSquaredError()

        def compute_loss_and_updates(self, trainable, non_trainable, x, y, training=False):
            y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x, training=training)
            return self.loss_fn(y, y_pred), (y_pred, non_trainable)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_values, metric_values = state
            x, y = data
            (loss, (y_pred, non_trainable)), grads = jax.value_and_grad(
                self.compute_loss_and_updates, has_aux=True)(trainable, non_trainable, x, y, training=True)
            trainable, optimizer_values = self.optimizer.stateless_apply(optimizer_values, grads, trainable)
            logs, metric_values = stateless_metric_logs(self, metric_values, loss, y, y_pred)
            return logs, (trainable, non_trainable, optimizer_values, metric_values)

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]

    model = dense_model(OwnTrackers)
    model.compile(optimizer=lamina.optimizers.Adam(0.01))
    history = model.fit(X, Y, batch_size=16, epochs=3, verbose=0).history
    assert set(history) == {"loss", "mae"}
    assert history["loss"][-1] < history["loss"][0]


def test_training_loop_from_scratch_on_jax(jax_backend):
    """The jax guide's loop: a jitted step over the model's and optimizer's variables as its state."""
    import jax

    model = dense_model()
    optimizer = lamina.optimizers.Adam(learning_rate=0.01)
    loss_fn = lamina.losses.MeanSquaredError()
    metric = lamina.metrics.MeanAbsoluteError()

    def compute_loss_and_updates(trainable, non_trainable, metric_values, x, y):
        y_pred, non_trainable = model.stateless_call(trainable, non_trainable, x)
        metric_values = metric.stateless_update_state(metric_values, y, y_pred)
        return loss_fn(y, y_pred), (non_trainable, metric_values)

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable, non_trainable, optimizer_values, metric_values = state
        (loss, (non_trainable, metric_values)), grads = grad_fn(trainable, non_trainable, metric_values, *data)
        trainable, optimizer_values = optimizer.stateless_apply(optimizer_values, grads, trainable)
        return loss, (trainable, non_trainable, optimizer_values, metric_values)

    optimizer.build(model.trainable_variables)
    state = (model.trainable_variables, model.non_trainable_variables, optimizer.variables, metric.variables)
    losses = []
    for epoch in range(4):
        for start in range(0, len(X), 32):
            loss, state = train_step(state, (X[start:start + 32], Y[start:start + 32]))
        losses.append(float(loss))
    assert losses[-1] < losses[0]
    before = model.predict(X[:4], verbose=0)
    trainable, _, _, metric_values = state
    for variable, value in zip(model.trainable_variables, trainable):
        variable.assign(value)
    for variable, value in zip(metric.variables, metric_values):
        variable.assign(value)
    assert not np.allclose(model.predict(X[:4], verbose=0), before)
    assert 0 < float(metric.result()) < 10
