"""Three steps of Adamax, Nadam, Adadelta, Ftrl, Lion, Lamb, Adafactor, Muon and ScheduleFreeAdamW on torch
and on jax, against NumPy float64 versions of Keras's update formulas."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, optimizers

BACKENDS = ["torch", "jax"]
STEPS = 3
rng = np.random.default_rng(7)
SHAPES = [(4,), (3, 5), (6, 2), (3,)]
# The last variable's gradients are tiny (~1e-7), so epsilon's place in the formulas changes its steps.
SCALES = [1.0, 1.0, 0.5, 1e-7]
INITIAL = [rng.normal(size=shape).astype("float32") for shape in SHAPES]
GRADIENTS = [[(scale * rng.normal(size=shape)).astype("float32") for shape, scale in zip(SHAPES, SCALES)]
             for _ in range(STEPS)]


# --- NumPy references, one variable at a time, in float64: step(x, g, state, t, lr) -> new x ------------

def adamax(beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def step(x, g, state, t, lr):
        state["m"] = beta_1 * state.get("m", 0.0) + (1 - beta_1) * g
        state["u"] = np.maximum(beta_2 * state.get("u", 0.0), np.abs(g))
        return x - lr / (1 - beta_1**t) * state["m"] / (state["u"] + epsilon)
    return step


def nadam(beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def mu(t):
        return beta_1 * (1 - 0.5 * 0.96**t)

    def step(x, g, state, t, lr):
        product = state.get("product", 1.0) * mu(t)  # prod_{i <= t} mu_i
        state["product"] = product
        state["m"] = beta_1 * state.get("m", 0.0) + (1 - beta_1) * g
        state["v"] = beta_2 * state.get("v", 0.0) + (1 - beta_2) * g * g
        m_hat = mu(t + 1) * state["m"] / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        v_hat = state["v"] / (1 - beta_2**t)
        return x - lr * m_hat / (np.sqrt(v_hat) + epsilon)
    return step


def adadelta(rho=0.95, epsilon=1e-7):
    def step(x, g, state, t, lr):
        state["eg"] = rho * state.get("eg", 0.0) + (1 - rho) * g * g
        delta = np.sqrt(state.get("ed", 0.0) + epsilon) / np.sqrt(state["eg"] + epsilon) * g
        state["ed"] = rho * state.get("ed", 0.0) + (1 - rho) * delta * delta
        return x - lr * delta
    return step


def ftrl(lr_power=-0.5, initial=0.1, l1=0.0, l2=0.0, l2_shrinkage=0.0, beta=0.0):
    def step(x, g, state, t, lr):
        n = state.get("n", initial + 0 * x)
        new_n = n + g * g
        sigma = (new_n ** -lr_power - n ** -lr_power) / lr
        state["linear"] = state.get("linear", 0.0) + g + 2 * l2_shrinkage * x - sigma * x
        state["n"] = new_n
        z = state["linear"]
        quadratic = new_n ** -lr_power / lr + 2 * (l2 + beta / (2 * lr))
        return (np.clip(z, -l1, l1) - z) / quadratic
    return step


def lion(beta_1=0.9, beta_2=0.99):
    def step(x, g, state, t, lr):
        m = state.get("m", 0.0)
        new_x = x - lr * np.sign(beta_1 * m + (1 - beta_1) * g)
        state["m"] = beta_2 * m + (1 - beta_2) * g
        return new_x
    return step


def lamb(beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def step(x, g, state, t, lr):
        state["m"] = beta_1 * state.get("m", 0.0) + (1 - beta_1) * g
        state["v"] = beta_2 * state.get("v", 0.0) + (1 - beta_2) * g * g
        update = (state["m"] / (1 - beta_1**t)) / (np.sqrt(state["v"] / (1 - beta_2**t)) + epsilon)
        w_norm, u_norm = np.linalg.norm(x), np.linalg.norm(update)
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        return x - ratio * lr * update
    return step


def adafactor(beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0):
    def rms(a):
        return np.sqrt(np.mean(a * a))

    def step(x, g, state, t, lr):
        rho, beta = min(lr, 1 / np.sqrt(t)), 1 - t**beta_2_decay
        squares = g * g + epsilon_1
        if x.ndim >= 2:  # factored: running means over rows and columns
            r = state["r"] = beta * state.get("r", 0.0) + (1 - beta) * squares.mean(axis=-1)
            c = state["c"] = beta * state.get("c", 0.0) + (1 - beta) * squares.mean(axis=-2)
            v = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = state["v"] = beta * state.get("v", 0.0) + (1 - beta) * squares
        u = g / np.sqrt(v)
        return x - max(epsilon_2, rms(x)) * rho * u / max(1.0, rms(u) / clip_threshold)
    return step


def muon(adam_beta_1=0.9, adam_beta_2=0.999, adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004,
         a=3.4445, b=-4.7750, c=2.0315, adam_lr_ratio=1.0, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2):
    def orthogonalize(d):
        tall = d.shape[0] > d.shape[1]
        x = d.T if tall else d
        x = x / (np.linalg.norm(x) + 1e-7)
        for _ in range(ns_steps):
            gram = x @ x.T
            x = a * x + (b * gram + c * gram @ gram) @ x
        return x.T if tall else x

    def step(x, g, state, t, lr):
        adamw = x.ndim != 2 or state.get("excluded", False)  # state["excluded"]: its path matched exclude_layers
        decay = adam_weight_decay if adamw else weight_decay
        if decay:
            x = x - x * decay * lr
        if adamw:
            state["m"] = adam_beta_1 * state.get("m", 0.0) + (1 - adam_beta_1) * g
            state["v"] = adam_beta_2 * state.get("v", 0.0) + (1 - adam_beta_2) * g * g
            alpha = lr * adam_lr_ratio * np.sqrt(1 - adam_beta_2**t) / (1 - adam_beta_1**t)
            return x - alpha * state["m"] / (np.sqrt(state["v"]) + epsilon)
        state["m"] = momentum * state.get("m", 0.0) + g
        direction = g + momentum * state["m"] if nesterov else state["m"]
        scale = np.sqrt(max(x.shape)) * rms_rate if rms_rate is not None else 1.0
        return x - lr * scale * orthogonalize(direction)
    return step


def schedule_free_adamw(beta_1=0.9, beta_2=0.999, epsilon=1e-8, warmup_steps=0):
    """The variable is y = (1 - beta_1) z + beta_1 x; z (state["z"], the variable's first value at the start)
    takes Adam-like steps, x is the running average of the z's."""
    def step(y, g, state, t, lr):
        if warmup_steps:
            lr = lr * min(t / warmup_steps, 1.0)
        state["v"] = beta_2 * state.get("v", 0.0) + (1 - beta_2) * g * g
        z_old = state["z"]
        z = state["z"] = z_old - lr * g / (np.sqrt(state["v"] / (1 - beta_2**t)) + epsilon)
        x_old = (y - (1 - beta_1) * z_old) / beta_1
        x = (1 - 1 / t) * x_old + z / t
        return (1 - beta_1) * z + beta_1 * x
    return step


def reference(update, lr, weight_decay=None, initial=None, gradients=None, states=None):
    """Keras's order per step: decay the variables, then update each with the step number t = 1, 2, ..."""
    values = [x.astype("float64") for x in (INITIAL if initial is None else initial)]
    states = states or [{} for _ in values]
    for t, grads in enumerate(GRADIENTS if gradients is None else gradients, start=1):
        if weight_decay:
            values = [x - x * weight_decay * lr for x in values]
        values = [update(x, g.astype("float64"), state, t, lr) for x, g, state in zip(values, grads, states)]
    return values


# name -> (optimizer factory, NumPy update, learning rate, weight decay)
CASES = {
    "adamax": (lambda: optimizers.Adamax(), adamax(), 0.001, None),
    "adamax_options": (lambda: optimizers.Adamax(0.01, beta_1=0.8, beta_2=0.9, weight_decay=0.1),
                       adamax(0.8, 0.9), 0.01, 0.1),
    "nadam": (lambda: optimizers.Nadam(), nadam(), 0.001, None),
    "nadam_options": (lambda: optimizers.Nadam(0.01, beta_1=0.7, beta_2=0.9, epsilon=1e-5), nadam(0.7, 0.9, 1e-5),
                      0.01, None),
    "adadelta": (lambda: optimizers.Adadelta(), adadelta(), 0.001, None),
    "adadelta_options": (lambda: optimizers.Adadelta(1.0, rho=0.8, epsilon=1e-6), adadelta(0.8, 1e-6), 1.0, None),
    "ftrl": (lambda: optimizers.Ftrl(), ftrl(), 0.001, None),
    "ftrl_options": (lambda: optimizers.Ftrl(0.1, learning_rate_power=-0.7, initial_accumulator_value=0.5,
                                             l1_regularization_strength=0.01, l2_regularization_strength=0.2,
                                             l2_shrinkage_regularization_strength=0.1, beta=0.3),
                     ftrl(-0.7, 0.5, 0.01, 0.2, 0.1, 0.3), 0.1, None),
    "lion": (lambda: optimizers.Lion(), lion(), 0.001, None),
    "lion_options": (lambda: optimizers.Lion(0.01, beta_1=0.5, beta_2=0.9, weight_decay=0.2), lion(0.5, 0.9), 0.01,
                     0.2),
    "lamb": (lambda: optimizers.Lamb(), lamb(), 0.001, None),
    "lamb_options": (lambda: optimizers.Lamb(0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-6), lamb(0.8, 0.9, 1e-6),
                     0.01, None),
    "adafactor": (lambda: optimizers.Adafactor(), adafactor(), 0.001, None),
    "adafactor_options": (lambda: optimizers.Adafactor(0.5, beta_2_decay=-0.5, epsilon_1=1e-20, epsilon_2=1e-2,
                                                       clip_threshold=0.5, relative_step=False, weight_decay=0.1),
                          adafactor(-0.5, 1e-20, 1e-2, 0.5), 0.5, 0.1),
    "muon": (lambda: optimizers.Muon(), muon(), 0.001, None),
    "muon_options": (lambda: optimizers.Muon(0.01, adam_beta_1=0.8, adam_beta_2=0.9, adam_weight_decay=None,
                                             epsilon=1e-6, weight_decay=0.1, muon_a=3.0, muon_b=-4.0, muon_c=1.5,
                                             adam_lr_ratio=0.5, momentum=0.9, ns_steps=3, nesterov=False,
                                             rms_rate=None),
                     muon(0.8, 0.9, None, 1e-6, 0.1, 3.0, -4.0, 1.5, 0.5, 0.9, 3, False, None), 0.01, None),
    "schedule_free_adamw": (lambda: optimizers.ScheduleFreeAdamW(), schedule_free_adamw(), 0.0025, None),
    "schedule_free_adamw_options": (lambda: optimizers.ScheduleFreeAdamW(0.01, beta_1=0.8, beta_2=0.9, epsilon=1e-6,
                                                                         warmup_steps=2, weight_decay=0.1),
                                    schedule_free_adamw(0.8, 0.9, 1e-6, 2), 0.01, 0.1),
}


def run(factory, backend_name: str, initial=None, gradients=None, paths=None):
    """The variables after the optimizer's steps, and the optimizer."""
    initial = INITIAL if initial is None else initial
    with backend.use(backend_name) as B:
        variables = [B.Variable(x, path=path) for x, path in zip(initial, paths or [None] * len(initial))]
        optimizer = factory()
        for grads in GRADIENTS if gradients is None else gradients:
            optimizer.apply([B.convert_to_tensor(g) for g in grads], variables)
        assert int(B.convert_to_numpy(optimizer.iterations)) == STEPS
        return [np.asarray(B.convert_to_numpy(v), dtype="float64") for v in variables], optimizer


def check(results: list, expected: list, atol: float = 1e-6) -> None:
    for value, want in zip(results, expected):
        np.testing.assert_allclose(value, want, atol=atol, rtol=0)
    assert not all(np.allclose(value, start) for value, start in zip(expected, INITIAL))  # the steps moved


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_three_steps_match_numpy(name: str, backend_name: str) -> None:
    factory, update, lr, weight_decay = CASES[name]
    states = [{"z": x.astype("float64")} for x in INITIAL]  # Schedule-Free's z starts at the variables
    check(run(factory, backend_name)[0], reference(update, lr, weight_decay, states=states))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_muon_excludes_embeddings_and_given_layers(backend_name: str) -> None:
    """2-D variables under an embedding's path or matching exclude_layers take AdamW steps."""
    paths = ["dense/bias", "embedding/embeddings", "head/kernel", "dense/scale"]
    results, optimizer = run(lambda: optimizers.Muon(0.01, exclude_layers=["^head/"]), backend_name, paths=paths)
    states = [{"excluded": True}, {"excluded": True}, {"excluded": True}, {}]
    check(results, reference(muon(), 0.01, states=states))
    assert [len(v.shape) for v in optimizer.velocities] == [1, 2, 2, 1]  # AdamW velocities for all four
    muon_only, optimizer = run(lambda: optimizers.Muon(0.01, exclude_embeddings=False), backend_name, paths=paths)
    check(muon_only, reference(muon(), 0.01, states=[{}, {}, {}, {}]))
    assert [tuple(v.shape) for v in optimizer.velocities][1:3] == [(), ()]  # Muon variables keep no velocity


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_muon_orthogonalizes_matrices_of_one_shape_together(backend_name: str) -> None:
    shapes = [(3, 5), (5, 3), (3, 5), (5, 3), (3, 5)]
    initial = [rng.normal(size=shape).astype("float32") for shape in shapes]
    gradients = [[rng.normal(size=shape).astype("float32") for shape in shapes] for _ in range(STEPS)]
    results, _ = run(lambda: optimizers.Muon(0.02), backend_name, initial=initial, gradients=gradients)
    for value, want in zip(results, reference(muon(), 0.02, initial=initial, gradients=gradients)):
        np.testing.assert_allclose(value, want, atol=1e-6, rtol=0)
