"""The options every optimizer shares, on torch and jax: schedules, Keras 2's decay, the learning rate as a
variable, the variables' order, weight-decay exclusions, EMA, gradient accumulation, loss scaling and
stateless_apply (inside jax.jit too)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lamina import backend, optimizers
from lamina.optimizers import schedules

rng = np.random.default_rng(5)
START = [rng.normal(size=(3, 2)).astype("float32"), rng.normal(size=(2,)).astype("float32")]
GRADS = [[rng.normal(size=s.shape).astype("float32") for s in START] for _ in range(4)]


def _variables(B, names=("kernel", "bias")):
    return [B.Variable(x, name=name, path=f"dense/{name}") for x, name in zip(START, names)]


def _numpy(B, variables):
    return [np.asarray(B.convert_to_numpy(v), dtype="float64") for v in variables]


def _steps(optimizer, B, variables, grads=GRADS):
    for step_grads in grads:
        optimizer.apply([B.convert_to_tensor(g) for g in step_grads], variables)
    return _numpy(B, variables)


def _sgd_reference(rates, grads=GRADS, weight_decay=None, decayed=(True, True)):
    values = [x.astype("float64") for x in START]
    for rate, step_grads in zip(rates, grads):
        if weight_decay:
            values = [x - x * weight_decay * rate if d else x for x, d in zip(values, decayed)]
        values = [x - rate * g for x, g in zip(values, step_grads)]
    return values


def _close(actual, expected, atol=1e-6):
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, atol=atol, rtol=0)


class HalvingSchedule(schedules.LearningRateSchedule):
    """0.1 / 2**step, written with backend ops so that it traces."""

    def __call__(self, step):
        return 0.1 * backend.impl.power(0.5, backend.impl.cast(step, "float32"))

    def get_config(self):
        return {}


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_learning_rate_schedules_and_callables(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        decay = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
        for rate in (decay, HalvingSchedule(), lambda step: 0.1 * 0.5 ** B.cast(step, "float32")):
            variables, optimizer = _variables(B), optimizers.SGD(learning_rate=rate)
            _close(_steps(optimizer, B, variables), _sgd_reference([0.1, 0.05, 0.025, 0.0125]))
            assert float(optimizer.learning_rate) == pytest.approx(0.1 * 0.5**4)  # the rate at the current step
            assert len(optimizer.variables) == 1  # the iteration only: no learning-rate variable
            with pytest.raises(TypeError, match="schedule"):
                optimizer.learning_rate = 0.01
        variables, optimizer = _variables(B), optimizers.SGD(learning_rate=lambda: 0.2)  # Keras: no argument
        _close(_steps(optimizer, B, variables), _sgd_reference([0.2] * 4))


def test_schedule_is_serialized_as_keras_does() -> None:
    optimizer = optimizers.Adam(schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9))
    config = optimizer.get_config()
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    again = optimizers.Adam.from_config(config)
    assert isinstance(again._initial_learning_rate, schedules.ExponentialDecay)
    assert again.get_config() == config


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_keras_2_decay_and_learning_rate_assignment(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        variables, optimizer = _variables(B), optimizers.SGD(lr=0.1, decay=0.5)
        _close(_steps(optimizer, B, variables), _sgd_reference([0.1 / (1 + 0.5 * t) for t in range(4)]))
        variables, optimizer = _variables(B), optimizers.SGD(0.1)
        _steps(optimizer, B, variables, GRADS[:1])
        optimizer.learning_rate = 0.05
        _steps(optimizer, B, variables, GRADS[1:2])
        optimizer.learning_rate.assign(0.02)
        assert float(optimizer.learning_rate) == pytest.approx(0.02)
        _close(_steps(optimizer, B, variables, GRADS[2:3]), _sgd_reference([0.1, 0.05, 0.02], GRADS[:3]))


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_variables_in_keras_order(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        variables = _variables(B)
        optimizer = optimizers.Adam(use_ema=True, gradient_accumulation_steps=2, amsgrad=True)
        optimizer.build(variables)
        names = [v.name for v in optimizer.variables]
        assert names == ["iteration", "learning_rate", "dense_kernel_average", "dense_bias_average",
                         "dense_kernel_gradient_accumulator", "dense_bias_gradient_accumulator",
                         "dense_kernel_momentum", "dense_kernel_velocity", "dense_bias_momentum",
                         "dense_bias_velocity", "dense_kernel_velocity_hat", "dense_bias_velocity_hat"]
        adagrad = optimizers.Adagrad(initial_accumulator_value=0.3)
        adagrad.build(variables)
        np.testing.assert_allclose(B.convert_to_numpy(adagrad.variables[2]), 0.3)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_weight_decay_exclusions(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        for exclude in ({"var_names": ["bias"]}, {"var_list": "bias"}):
            variables = _variables(B)
            optimizer = optimizers.SGD(0.1, weight_decay=0.5)
            if "var_list" in exclude:
                optimizer.exclude_from_weight_decay(var_list=variables[1:])
            else:
                optimizer.exclude_from_weight_decay(**exclude)
            _close(_steps(optimizer, B, variables), _sgd_reference([0.1] * 4, weight_decay=0.5,
                                                                   decayed=(True, False)))
            with pytest.raises(ValueError, match="before the optimizer is built"):
                optimizer.exclude_from_weight_decay(var_names=["kernel"])
        # AdamW with an exclusion: the decay leaves the fused kernel for the variables it concerns.
        variables, optimizer = _variables(B), optimizers.AdamW(0.1, weight_decay=0.5)
        optimizer.exclude_from_weight_decay(var_names=["kernel"])
        result = _steps(optimizer, B, variables, GRADS[:1])
        # Step one of Adam moves each element by lr * g / (|g| + eps * ...), i.e. -0.1 * sign(g).
        np.testing.assert_allclose(result[0], START[0] - 0.1 * np.sign(GRADS[0][0]), atol=1e-5)
        np.testing.assert_allclose(result[1], START[1] * (1 - 0.05) - 0.1 * np.sign(GRADS[0][1]), atol=1e-5)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_ema_averages_overwrites_and_finalize(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        variables = _variables(B)
        optimizer = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
        values, averages = [x.astype("float64") for x in START], None
        for step_grads in GRADS:
            optimizer.apply([B.convert_to_tensor(g) for g in step_grads], variables)
            values = [x - 0.1 * g for x, g in zip(values, step_grads)]
            averages = values if averages is None else [0.5 * a + 0.5 * x for a, x in zip(averages, values)]
        _close(_numpy(B, variables), values)
        _close(_numpy(B, optimizer._averages), averages)
        optimizer.finalize_variable_values(variables)
        _close(_numpy(B, variables), averages)

        # Every 2nd step the variables take their averages.
        variables = _variables(B)
        optimizer = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
        values, averages = [x.astype("float64") for x in START], None
        for t, step_grads in enumerate(GRADS):
            optimizer.apply([B.convert_to_tensor(g) for g in step_grads], variables)
            values = [x - 0.1 * g for x, g in zip(values, step_grads)]
            averages = values if averages is None else [0.5 * a + 0.5 * x for a, x in zip(averages, values)]
            if (t + 1) % 2 == 0:
                values = averages
        _close(_numpy(B, variables), values)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_gradient_accumulation(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        means = [[(a + b) / 2 for a, b in zip(GRADS[i], GRADS[i + 1])] for i in (0, 2)]
        for factory in (lambda **k: optimizers.SGD(0.1, momentum=0.9, **k), lambda **k: optimizers.Adam(0.1, **k)):
            accumulating, plain = _variables(B), _variables(B)
            optimizer = factory(gradient_accumulation_steps=2)
            after_one = _steps(optimizer, B, accumulating, GRADS[:1])
            _close(after_one, START)  # the first call only accumulates
            _close(_steps(optimizer, B, accumulating, GRADS[1:]), _steps(factory(), B, plain, means))
            assert int(np.asarray(B.convert_to_numpy(optimizer.iterations))) == 2
            assert int(np.asarray(B.convert_to_numpy(optimizer._iterations))) == 4
            for accumulator in optimizer._accumulators:
                np.testing.assert_array_equal(B.convert_to_numpy(accumulator), 0.0)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_loss_scale_factor_and_missing_gradients(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        variables, optimizer = _variables(B), optimizers.SGD(0.1, loss_scale_factor=4.0)
        assert float(B.convert_to_numpy(optimizer.scale_loss(B.convert_to_tensor(np.float32(2.0))))) == 8.0
        scaled = [[4.0 * g for g in step_grads] for step_grads in GRADS]
        _close(_steps(optimizer, B, variables, scaled), _sgd_reference([0.1] * 4))
        variables, optimizer = _variables(B), optimizers.SGD(0.1)
        with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
            optimizer.apply([B.convert_to_tensor(GRADS[0][0]), None], variables)
        np.testing.assert_array_equal(B.convert_to_numpy(variables[1]), START[1])
        with pytest.raises(ValueError, match="No gradients provided"):
            optimizer.apply([None, None], variables)


def test_stateless_apply_inside_jax_jit() -> None:
    import jax

    with backend.use("jax") as B:
        variables, optimizer = _variables(B), optimizers.Adam(0.1)
        optimizer.build(variables)
        reference, reference_optimizer = _variables(B), optimizers.Adam(0.1)
        expected = _steps(reference_optimizer, B, reference, GRADS[:2])

        @jax.jit
        def step(optimizer_values, grads, trainable_values):
            return optimizer.stateless_apply(optimizer_values, grads, trainable_values)

        trainable = [v.value for v in variables]
        state = [v.value for v in optimizer.variables]
        for step_grads in GRADS[:2]:
            trainable, state = step(state, [B.convert_to_tensor(g) for g in step_grads], trainable)
        _close([np.asarray(t) for t in trainable], expected)
        _close(_numpy(B, variables), START)  # the variables themselves did not change
        assert int(state[0]) == 2


def test_stateless_apply_on_torch() -> None:
    with backend.use("torch") as B:
        variables, optimizer = _variables(B), optimizers.SGD(0.1, momentum=0.5)
        optimizer.build(variables)
        trainable, state = optimizer.stateless_apply(list(optimizer.variables),
                                                     [B.convert_to_tensor(g) for g in GRADS[0]], list(variables))
        assert int(B.convert_to_numpy(state[0])) == 1
        _close([np.asarray(B.convert_to_numpy(t), dtype="float64") for t in trainable],
               _sgd_reference([0.1], GRADS[:1]))
        with pytest.raises(ValueError, match="optimizer_variables"):
            optimizer.stateless_apply([], [B.convert_to_tensor(g) for g in GRADS[0]], list(variables))


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_learning_rate_set_during_fit(backend_name: str) -> None:
    from lamina import callbacks, layers, models

    with backend.use(backend_name):
        model = models.Sequential([layers.Input((1,)), layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
        model.compile(optimizer=optimizers.SGD(0.5), loss="mae")
        seen = []

        def on_epoch_begin(epoch, logs=None):
            if epoch == 1:
                model.optimizer.learning_rate = 0.25
            if epoch == 2:
                model.optimizer.learning_rate.assign(0.125)
            seen.append(float(model.optimizer.learning_rate))

        x, y = np.ones((4, 1), "float32"), np.full((4, 1), 100.0, "float32")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(x, y, epochs=3, batch_size=4, verbose=0,
                      callbacks=[callbacks.LambdaCallback(on_epoch_begin=on_epoch_begin)])
        assert seen == [0.5, 0.25, 0.125]
        assert float(model.get_weights()[0][0, 0]) == pytest.approx(0.875)


class KerasStyleMomentum(optimizers.Optimizer):
    """A custom optimizer written as the Keras guide writes one: build with add_variable_from_reference and a
    per-variable update_step."""

    def __init__(self, learning_rate=0.1, momentum=0.5, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = momentum

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.velocities = [self.add_variable_from_reference(v, "velocity") for v in var_list]

    def update_step(self, gradient, variable, learning_rate):
        velocity = self.velocities[self._get_variable_index(variable)]
        self.assign(velocity, velocity.value * self.momentum - gradient * learning_rate)
        self.assign_add(variable, velocity.value)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_keras_style_custom_optimizer_and_weights(backend_name: str) -> None:
    with backend.use(backend_name) as B:
        variables, optimizer = _variables(B), KerasStyleMomentum()
        expected, _ = _variables(B), None
        reference = optimizers.SGD(0.1, momentum=0.5)
        _close(_steps(optimizer, B, variables), _steps(reference, B, expected))
        assert [v.name for v in optimizer.variables][2:] == ["dense_kernel_velocity", "dense_bias_velocity"]
        store = {}
        optimizer.save_own_variables(store)
        fresh = KerasStyleMomentum()
        fresh.build(_variables(B))
        fresh.load_own_variables(store)
        for a, b in zip(fresh.variables, optimizer.variables):
            np.testing.assert_array_equal(B.convert_to_numpy(a), B.convert_to_numpy(b))
        with pytest.raises(ValueError, match="shape"):
            fresh.set_weights([np.zeros((7,))] * len(fresh.variables))


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_schedule_ema_and_accumulation_inside_fit(backend_name: str) -> None:
    """One weight, loss mean|w - 100|: every gradient is -1, so each update adds the rate it used."""
    from lamina import layers, models

    with backend.use(backend_name) as B:
        model = models.Sequential([layers.Input((1,)), layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
        rate = schedules.ExponentialDecay(0.5, decay_steps=1, decay_rate=0.5)
        model.compile(optimizer=optimizers.SGD(rate, use_ema=True, ema_momentum=0.5, gradient_accumulation_steps=2),
                      loss="mae")
        model.fit(np.ones((4, 1), "float32"), np.full((4, 1), 100.0, "float32"), batch_size=1, epochs=1,
                  shuffle=False, verbose=0)
        # Updates on calls 1 and 3, at the schedule's rate for the call count: w = 0.25, then 0.3125. The average
        # follows w after each call, starting over while no update was counted: 0, 0.25, 0.25, 0.28125; fit's
        # end writes it into the model.
        assert float(np.asarray(B.convert_to_numpy(model.optimizer._averages[0]))[0, 0]) == pytest.approx(0.28125)
        assert float(model.get_weights()[0][0, 0]) == pytest.approx(0.28125)
        assert int(np.asarray(B.convert_to_numpy(model.optimizer.iterations))) == 2


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_momentum_follows_keras_when_the_rate_changes(backend_name: str) -> None:
    """Keras's momentum accumulates -lr * g at each step's rate (torch's own kernel would rescale the history)."""
    def reference(rates, nesterov=False):
        values, momenta = [x.astype("float64") for x in START], [0.0, 0.0]
        for rate, step_grads in zip(rates, GRADS):
            momenta = [0.9 * m - rate * g for m, g in zip(momenta, step_grads)]
            values = [x + (0.9 * m - rate * g if nesterov else m) for x, m, g in zip(values, momenta, step_grads)]
        return values

    with backend.use(backend_name) as B:
        for nesterov in (False, True):
            variables, optimizer = _variables(B), optimizers.SGD(0.1, momentum=0.9, nesterov=nesterov)
            _steps(optimizer, B, variables, GRADS[:2])
            optimizer.learning_rate = 0.02
            _close(_steps(optimizer, B, variables, GRADS[2:]), reference([0.1, 0.1, 0.02, 0.02], nesterov))
            variables = _variables(B)
            optimizer = optimizers.SGD(HalvingSchedule(), momentum=0.9, nesterov=nesterov)
            _close(_steps(optimizer, B, variables), reference([0.1, 0.05, 0.025, 0.0125], nesterov))
