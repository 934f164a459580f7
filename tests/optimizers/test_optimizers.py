"""The first optimizer steps on torch and on jax against NumPy versions of Keras's update formulas."""

from __future__ import annotations

import numpy as np
import pytest

import lamina
from lamina import backend, optimizers

BACKENDS = ["torch", "jax"]
STEPS = 3
rng = np.random.default_rng(2)
SHAPES = [(4,), (2, 3), (3,)]
# The last variable's gradients are tiny (~1e-7), so epsilon's place in the formulas changes its steps.
SCALES = [1.0, 1.0, 1e-7]
INITIAL = [rng.normal(size=shape).astype("float32") for shape in SHAPES]
GRADIENTS = [[(scale * rng.normal(size=shape)).astype("float32") for shape, scale in zip(SHAPES, SCALES)]
             for _ in range(STEPS)]


# --- NumPy references, one variable at a time, in float64 ------------------------------------------------

def sgd(lr=0.01, momentum=0.0, nesterov=False):
    def step(x, g, state, t):
        if not momentum:
            return x - lr * g
        state["m"] = momentum * state.get("m", 0.0) - lr * g
        return x + (momentum * state["m"] - lr * g if nesterov else state["m"])
    return step


def adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    def step(x, g, state, t):
        state["m"] = beta_1 * state.get("m", 0.0) + (1 - beta_1) * g
        state["v"] = beta_2 * state.get("v", 0.0) + (1 - beta_2) * g * g
        v = state["v"]
        if amsgrad:
            state["v_hat"] = v = np.maximum(state.get("v_hat", 0.0), v)
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)  # bias correction folded into the rate
        return x - alpha * state["m"] / (np.sqrt(v) + epsilon)  # epsilon after the square root
    return step


def rmsprop(lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    def step(x, g, state, t):
        state["v"] = rho * state.get("v", 0.0) + (1 - rho) * g * g
        denominator = state["v"]
        if centered:
            state["a"] = rho * state.get("a", 0.0) + (1 - rho) * g
            denominator = denominator - state["a"] ** 2
        increment = lr * g / np.sqrt(denominator + epsilon)  # epsilon inside the square root
        if momentum:
            state["m"] = momentum * state.get("m", 0.0) + increment
            return x - state["m"]
        return x - increment
    return step


def adagrad(lr=0.001, initial_accumulator_value=0.1, epsilon=1e-7):
    def step(x, g, state, t):
        state["a"] = state.get("a", initial_accumulator_value) + g * g
        return x - lr * g / np.sqrt(state["a"] + epsilon)  # epsilon inside the square root
    return step


def reference(update, lr, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Keras's order per step: clip the gradients, decay the variables, then update."""
    values = [x.astype("float64") for x in INITIAL]
    states = [{} for _ in values]
    for t, grads in enumerate(GRADIENTS, start=1):
        grads = [g.astype("float64") for g in grads]
        if clipnorm:
            grads = [g * clipnorm / max(np.linalg.norm(g), clipnorm) for g in grads]
        elif global_clipnorm:
            norm = np.sqrt(sum((g**2).sum() for g in grads))
            grads = [g * global_clipnorm / max(norm, global_clipnorm) for g in grads]
        elif clipvalue:
            grads = [np.clip(g, -clipvalue, clipvalue) for g in grads]
        if weight_decay:
            values = [x - x * weight_decay * lr for x in values]
        values = [update(x, g, state, t) for x, g, state in zip(values, grads, states)]
    return values


# name -> (optimizer factory, NumPy update, learning rate, options of the base class)
CASES = {
    "sgd": (lambda: optimizers.SGD(), sgd(), 0.01, {}),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), sgd(0.1, 0.9), 0.1, {}),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, momentum=0.8, nesterov=True), sgd(0.1, 0.8, True), 0.1, {}),
    "sgd_clipvalue": (lambda: optimizers.SGD(0.1, clipvalue=0.3), sgd(0.1), 0.1, {"clipvalue": 0.3}),
    "sgd_weight_decay": (lambda: optimizers.SGD(0.1, momentum=0.5, weight_decay=0.2), sgd(0.1, 0.5), 0.1,
                         {"weight_decay": 0.2}),
    "adam": (lambda: optimizers.Adam(), adam(), 0.001, {}),
    "adam_amsgrad": (lambda: optimizers.Adam(amsgrad=True, beta_2=0.9), adam(beta_2=0.9, amsgrad=True), 0.001, {}),
    "adam_clipnorm": (lambda: optimizers.Adam(clipnorm=0.5), adam(), 0.001, {"clipnorm": 0.5}),
    "adam_weight_decay": (lambda: optimizers.Adam(learning_rate=0.01, weight_decay=0.5), adam(0.01), 0.01,
                          {"weight_decay": 0.5}),
    "rmsprop": (lambda: optimizers.RMSprop(), rmsprop(), 0.001, {}),
    "rmsprop_momentum_centered": (lambda: optimizers.RMSprop(0.01, momentum=0.9, centered=True),
                                  rmsprop(0.01, momentum=0.9, centered=True), 0.01, {}),
    "rmsprop_global_clipnorm": (lambda: optimizers.RMSprop(0.01, rho=0.8, global_clipnorm=1.0),
                                rmsprop(0.01, rho=0.8), 0.01, {"global_clipnorm": 1.0}),
    "rmsprop_weight_decay": (lambda: optimizers.RMSprop(0.01, momentum=0.5, weight_decay=0.3),
                             rmsprop(0.01, momentum=0.5), 0.01, {"weight_decay": 0.3}),
    "sgd_nesterov_global_clipnorm": (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, global_clipnorm=0.7),
                                     sgd(0.1, 0.9, True), 0.1, {"global_clipnorm": 0.7}),
    "sgd_plain_weight_decay": (lambda: optimizers.SGD(0.1, weight_decay=0.1), sgd(0.1), 0.1, {"weight_decay": 0.1}),
    "adamw": (lambda: optimizers.AdamW(learning_rate=0.01), adam(0.01), 0.01, {"weight_decay": 0.004}),
    "adamw_amsgrad_clipvalue": (lambda: optimizers.AdamW(0.01, weight_decay=0.5, amsgrad=True, clipvalue=0.4),
                                adam(0.01, amsgrad=True), 0.01, {"weight_decay": 0.5, "clipvalue": 0.4}),
    "adagrad": (lambda: optimizers.Adagrad(0.1), adagrad(0.1), 0.1, {}),
    "adagrad_weight_decay_clipnorm": (lambda: optimizers.Adagrad(0.1, weight_decay=0.2, clipnorm=0.5),
                                      adagrad(0.1), 0.1, {"weight_decay": 0.2, "clipnorm": 0.5}),
    # No starting accumulation: epsilon's place matters for the tiny gradients (the multi-tensor formula).
    "adagrad_from_zero": (lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.0, epsilon=1e-12),
                          adagrad(0.1, 0.0, 1e-12), 0.1, {}),
}


def _run(factory, backend_name: str) -> tuple[list[np.ndarray], optimizers.Optimizer]:
    with backend.use(backend_name) as B:
        variables = [B.Variable(x) for x in INITIAL]
        optimizer = factory()
        for grads in GRADIENTS:
            optimizer.apply([B.convert_to_tensor(g) for g in grads], variables)
        return [np.asarray(B.convert_to_numpy(v), dtype="float64") for v in variables], optimizer


@pytest.mark.parametrize("name", list(CASES))
def test_first_steps_match_numpy_on_both_backends(name: str) -> None:
    factory, update, lr, options = CASES[name]
    expected = reference(update, lr, **options)
    results = {}
    for backend_name in BACKENDS:
        results[backend_name], optimizer = _run(factory, backend_name)
        with backend.use(backend_name):
            assert int(backend.impl.convert_to_numpy(optimizer.iterations)) == STEPS
        for value, want in zip(results[backend_name], expected):
            np.testing.assert_allclose(value, want, atol=1e-6, rtol=0)
    for torch_value, jax_value in zip(results["torch"], results["jax"]):
        np.testing.assert_allclose(torch_value, jax_value, atol=1e-6, rtol=0)
    assert not all(np.allclose(value, start) for value, start in zip(expected, INITIAL))  # the steps moved


def test_keras_defaults() -> None:
    sgd_, adam_, rmsprop_ = optimizers.SGD(), optimizers.Adam(), optimizers.RMSprop()
    adamw_, adagrad_ = optimizers.AdamW(), optimizers.Adagrad()
    rates = [o._initial_learning_rate for o in (sgd_, adam_, rmsprop_, adamw_, adagrad_)]
    assert rates == [0.01, 0.001, 0.001, 0.001, 0.001]
    assert (sgd_.momentum, sgd_.nesterov) == (0.0, False)
    assert (adam_.beta_1, adam_.beta_2, adam_.epsilon, adam_.amsgrad) == (0.9, 0.999, 1e-7, False)
    assert (rmsprop_.rho, rmsprop_.momentum, rmsprop_.epsilon, rmsprop_.centered) == (0.9, 0.0, 1e-7, False)
    assert (adamw_.weight_decay, adamw_.beta_1, adamw_.beta_2, adamw_.epsilon) == (0.004, 0.9, 0.999, 1e-7)
    assert (adagrad_.initial_accumulator_value, adagrad_.epsilon) == (0.1, 1e-7)
    assert sgd_.weight_decay is sgd_.clipnorm is sgd_.clipvalue is sgd_.global_clipnorm is None
    assert (sgd_.use_ema, sgd_.ema_momentum, sgd_.ema_overwrite_frequency, sgd_.loss_scale_factor,
            sgd_.gradient_accumulation_steps) == (False, 0.99, None, None, None)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_learning_rate_after_build_and_lr_alias(backend_name: str) -> None:
    optimizer = optimizers.SGD(lr=0.2)
    with backend.use(backend_name) as B:
        assert float(optimizer.learning_rate) == pytest.approx(0.2)
        variable = B.Variable(np.ones(3, dtype="float32"))
        optimizer.apply([B.convert_to_tensor(np.ones(3, dtype="float32"))], [variable])
        assert float(optimizer.learning_rate) == pytest.approx(0.2)
        optimizer.learning_rate = 0.5
        assert float(optimizer.learning_rate) == pytest.approx(0.5) and float(optimizer.lr) == pytest.approx(0.5)
        optimizer.apply([B.convert_to_tensor(np.ones(3, dtype="float32"))], [variable])
        np.testing.assert_allclose(B.convert_to_numpy(variable), 1.0 - 0.2 - 0.5, atol=1e-6)
        optimizer.learning_rate.assign(0.25)  # the variable itself, as Keras returns it
        optimizer.apply_gradients([(B.convert_to_tensor(np.ones(3, dtype="float32")), variable)])
        np.testing.assert_allclose(B.convert_to_numpy(variable), 1.0 - 0.2 - 0.5 - 0.25, atol=1e-6)
        assert optimizer.get_config()["learning_rate"] == pytest.approx(0.25)


@pytest.mark.parametrize("identifier, cls", [("sgd", optimizers.SGD), ("adam", optimizers.Adam),
                                             ("rmsprop", optimizers.RMSprop), ("Adam", optimizers.Adam),
                                             ("RMSprop", optimizers.RMSprop), ("SGD", optimizers.SGD),
                                             ("adamw", optimizers.AdamW), ("adagrad", optimizers.Adagrad),
                                             ("AdamW", optimizers.AdamW)])
def test_get_by_name(identifier: str, cls: type) -> None:
    assert type(optimizers.get(identifier)) is cls


def test_get_other_identifiers() -> None:
    instance = optimizers.Adam()
    assert optimizers.get(instance) is instance
    assert type(optimizers.get(optimizers.RMSprop)) is optimizers.RMSprop
    with pytest.raises(TypeError, match="optimizer must be"):
        optimizers.get(0.1)


@pytest.mark.parametrize("identifier, suggestion", [("addam", "'adam'"), ("rmsprob", "'rmsprop'"), ("sdg", "'sgd'")])
def test_unknown_name_suggests_the_closest(identifier: str, suggestion: str) -> None:
    with pytest.raises(ValueError, match=f"Unknown optimizer '{identifier}'. Did you mean {suggestion}"):
        optimizers.get(identifier)


@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    optimizers.Adam(0.002, beta_1=0.8, amsgrad=True, weight_decay=0.01),
    optimizers.RMSprop(centered=True, momentum=0.5, global_clipnorm=2.0, name="my_rmsprop"),
    optimizers.AdamW(0.003, weight_decay=0.1, use_ema=True, ema_overwrite_frequency=3),
    optimizers.Adagrad(0.2, initial_accumulator_value=0.5, gradient_accumulation_steps=4, loss_scale_factor=8.0),
])
def test_config_round_trip(optimizer: optimizers.Optimizer) -> None:
    config = optimizer.get_config()
    assert type(optimizer).from_config(config).get_config() == config
    again = optimizers.get(optimizers.serialize(optimizer))
    assert type(again) is type(optimizer) and again.get_config() == config


def test_config_has_keras_keys() -> None:
    assert list(optimizers.AdamW().get_config()) == [
        "name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
        "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps", "beta_1",
        "beta_2", "epsilon", "amsgrad"]
    assert optimizers.SGD(decay=0.01).get_config()["decay"] == 0.01


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at most one of clipnorm, clipvalue and global_clipnorm"):
        optimizers.SGD(clipnorm=1.0, clipvalue=0.5)
    with pytest.raises(ValueError, match="at most one"):
        optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="momentum must be in"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        optimizers.Adam(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="initial_accumulator_value"):
        optimizers.Adagrad(initial_accumulator_value=-1.0)
    with pytest.raises(TypeError, match="nesterov_momentum=0.5"):
        optimizers.SGD(nesterov_momentum=0.5)


def _counting(monkeypatch, name: str) -> list:
    import torch

    calls = []
    original = getattr(torch, name)
    monkeypatch.setattr(torch, name, lambda *a, **k: (calls.append(1), original(*a, **k))[1])
    return calls


@pytest.mark.parametrize("name, kernel", [("sgd", "_fused_sgd_"), ("sgd_momentum", "_fused_sgd_"),
                                          ("sgd_nesterov", "_fused_sgd_"), ("adam", "_fused_adam_"),
                                          ("adamw", "_fused_adamw_"), ("adam_weight_decay", "_fused_adamw_"),
                                          ("adagrad", "_fused_adagrad_")])
def test_torch_uses_the_fused_kernels(name: str, kernel: str, monkeypatch) -> None:
    calls = _counting(monkeypatch, kernel)
    factory, update, lr, options = CASES[name]
    values, _ = _run(factory, "torch")
    assert len(calls) == STEPS
    for value, want in zip(values, reference(update, lr, **options)):
        np.testing.assert_allclose(value, want, atol=1e-6, rtol=0)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_torch_adam_keeps_keras_epsilon_where_it_matters(amsgrad: bool, monkeypatch) -> None:
    """Gradients near epsilon: Keras adds it to the uncorrected sqrt(velocity), torch's kernel to the
    corrected one, so the fused step must rescale it; the step counter may also be set from outside."""
    import torch

    fused_calls = []
    original = torch._fused_adam_
    monkeypatch.setattr(torch, "_fused_adam_", lambda *a, **k: (fused_calls.append(1), original(*a, **k))[1])
    rng = np.random.default_rng(3)
    start = rng.normal(size=(6,)).astype("float32")
    grads = [(1e-7 * rng.normal(size=(6,))).astype("float32") for _ in range(4)]
    with backend.use("torch") as B:
        variable, optimizer = B.Variable(start), optimizers.Adam(learning_rate=0.1, amsgrad=amsgrad)
        for g in grads[:2]:
            optimizer.apply([B.convert_to_tensor(g)], [variable])
        optimizer.iterations.assign(B.convert_to_tensor(np.int64(10)))  # as when optimizer state is loaded
        for g in grads[2:]:
            optimizer.apply([B.convert_to_tensor(g)], [variable])
        result = B.convert_to_numpy(variable).astype("float64")
    assert len(fused_calls) == 4
    update, state, expected = adam(0.1, amsgrad=amsgrad), {}, start.astype("float64")
    for t, g in zip((1, 2, 11, 12), grads):
        expected = update(expected, g.astype("float64"), state, t)
    np.testing.assert_allclose(result, expected, rtol=0, atol=2e-6)
    assert not np.allclose(result, start, atol=1e-3)  # the steps moved (epsilon is comparable to the gradients)


@pytest.mark.parametrize("make_optimizer", [
    lambda: lamina.optimizers.SGD(0.5), lambda: lamina.optimizers.SGD(0.1, momentum=0.9),
    lambda: lamina.optimizers.Adagrad(0.5), lambda: lamina.optimizers.Adam(0.1)])
def test_kernels_permuted_in_the_forward_pass_train_alike_on_torch_and_jax(make_optimizer):
    """A convolution's or an LSTM's kernel gets a gradient laid out unlike the kernel on torch; the fused
    kernels must read it as the same values (torch's fused SGD and Adagrad misread such strides)."""
    from lamina import layers

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 6, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")
    results = []
    for name in ("torch", "jax"):
        with lamina.backend.use(name):
            lamina.utils.set_random_seed(3)
            model = lamina.Sequential([layers.Input((6, 3)), layers.Conv1D(4, 2, padding="same"),
                                       layers.LSTM(3), layers.Dense(2)])
            model.set_weights([np.random.default_rng(i).normal(size=w.shape).astype("float32") * 0.3
                               for i, w in enumerate(model.get_weights())])
            model.compile(make_optimizer(), "mse")
            model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
            results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
