"""The hand-written JAX baseline: parameters as pytrees and one jax.jit train step.

Data lives on the device as jax arrays; each epoch draws a permutation; the jitted
step slices its batch indices from that permutation with a step counter carried in
the state, gathers the batch, takes value_and_grad, applies the optimizer (Adam, AdamW
or SGD with momentum, as --optimizer says: Keras's formulas written with tree maps, no
optax) and accumulates loss and correct predictions in the carried state.
The state buffers are donated so the update happens in place. The last partial batch
is dropped; only the samples actually trained on are counted.

Variant 'opt' runs STEPS_PER_CALL steps per call with lax.scan over the same step:
the ceiling when per-call dispatch is removed.

Run by benchmarks/run.py; alone: python benchmarks/hand_jax.py --backend jax --quick
"""

from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np

import workloads as wl

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except Exception as error:  # noqa: BLE001 - reported as "unavailable", never a crash
    jax = None
    IMPORT_ERROR = f"{type(error).__name__}: {error}"

STEPS_PER_CALL = 32


def glorot(key: Any, shape: tuple[int, ...], fan_in: int, fan_out: int) -> Any:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, -limit, limit)


def dense_params(key: Any, n_in: int, n_out: int) -> dict[str, Any]:
    return {"w": glorot(key, (n_in, n_out), n_in, n_out), "b": jnp.zeros((n_out,), jnp.float32)}


def init_params(name: str, key: Any) -> dict[str, Any]:
    keys = jax.random.split(key, 6)
    if name in ("W1", "W4"):
        sizes = (wl.MLP_INPUT, *wl.MLP_HIDDEN, wl.CLASSES)
        return {f"dense{i}": dense_params(keys[i], sizes[i], sizes[i + 1]) for i in range(3)}
    if name == "W2":
        return {
            "conv0": {"w": glorot(keys[0], (3, 3, 3, 32), 27, 288), "b": jnp.zeros((32,), jnp.float32)},
            "conv1": {"w": glorot(keys[1], (3, 3, 32, 64), 288, 576), "b": jnp.zeros((64,), jnp.float32)},
            "dense0": dense_params(keys[2], 6 * 6 * 64, 128),
            "dense1": dense_params(keys[3], 128, wl.CLASSES),
        }
    if name == "W5":
        width = wl.HEADS * wl.KEY_DIM
        return {
            "embedding": jax.random.uniform(keys[0], (wl.VOCAB, wl.EMBED_DIM), jnp.float32, -0.05, 0.05),
            "query": dense_params(keys[1], wl.EMBED_DIM, width),
            "key": dense_params(keys[2], wl.EMBED_DIM, width),
            "value": dense_params(keys[3], wl.EMBED_DIM, width),
            "attention_output": dense_params(keys[4], width, wl.EMBED_DIM),
            "norm": {"gamma": jnp.ones((wl.EMBED_DIM,), jnp.float32), "beta": jnp.zeros((wl.EMBED_DIM,), jnp.float32)},
            "feed_forward": dense_params(keys[5], wl.EMBED_DIM, wl.FEED_FORWARD),
            "head": dense_params(jax.random.fold_in(key, 7), wl.FEED_FORWARD, 1),
        }
    if name == "W6":
        params = init_params("W2", key)
        for conv, channels in (("conv0", 32), ("conv1", 64)):
            params[conv]["gamma"] = jnp.ones((channels,), jnp.float32)
            params[conv]["beta"] = jnp.zeros((channels,), jnp.float32)
        return params
    units = wl.LSTM_UNITS
    return {
        "embedding": jax.random.uniform(keys[0], (wl.VOCAB, wl.EMBED_DIM), jnp.float32, -0.05, 0.05),
        "lstm": {  # the four gates (input, forget, cell, output) fused along the last axis
            "w_input": glorot(keys[1], (wl.EMBED_DIM, 4 * units), wl.EMBED_DIM, 4 * units),
            "w_hidden": glorot(keys[2], (units, 4 * units), units, 4 * units),
            "b": jnp.zeros((4 * units,), jnp.float32).at[units:2 * units].set(1.0),
        },
        "head": dense_params(keys[3], units, 1),
    }


def mlp(params: dict[str, Any], x: Any) -> Any:
    for i in range(3):
        x = x @ params[f"dense{i}"]["w"] + params[f"dense{i}"]["b"]
        if i < 2:
            x = jax.nn.relu(x)
    return x  # (batch, 10) logits


def conv_relu_pool(params: dict[str, Any], x: Any) -> Any:
    x = lax.conv_general_dilated(x, params["w"], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    x = jax.nn.relu(x + params["b"])
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def cnn(params: dict[str, Any], x: Any) -> Any:
    x = conv_relu_pool(params["conv1"], conv_relu_pool(params["conv0"], x))  # (batch, 6, 6, 64)
    x = jax.nn.relu(x.reshape(x.shape[0], -1) @ params["dense0"]["w"] + params["dense0"]["b"])
    return x @ params["dense1"]["w"] + params["dense1"]["b"]  # (batch, 10) logits


def dense(params: dict[str, Any], x: Any) -> Any:
    return x @ params["w"] + params["b"]


def transformer_classifier(params: dict[str, Any], tokens: Any) -> Any:
    """Embedding -> self-attention + residual -> LayerNorm -> Dense(relu) -> mean over time -> one logit."""
    x = params["embedding"][tokens]  # (batch, time, embed)
    batch, time = tokens.shape

    def heads(y: Any) -> Any:
        return y.reshape(batch, time, wl.HEADS, wl.KEY_DIM)  # the layout jax.nn.dot_product_attention takes

    attended = jax.nn.dot_product_attention(heads(dense(params["query"], x)), heads(dense(params["key"], x)),
                                            heads(dense(params["value"], x)))
    x = x + dense(params["attention_output"], attended.reshape(batch, time, -1))
    mean = x.mean(-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(-1, keepdims=True)
    x = (x - mean) * lax.rsqrt(variance + 1e-3) * params["norm"]["gamma"] + params["norm"]["beta"]
    x = jax.nn.relu(dense(params["feed_forward"], x))
    return dense(params["head"], x.mean(axis=1))  # (batch, 1) logits


def batch_norm(params: dict[str, Any], stats: dict[str, Any], x: Any) -> tuple[Any, dict[str, Any]]:
    """Normalise with the batch's moments; update the moving ones as Keras does."""
    mean, variance = x.mean((0, 1, 2)), x.var((0, 1, 2))
    momentum = wl.BN_MOMENTUM
    stats = {"mean": momentum * stats["mean"] + (1 - momentum) * mean,
             "variance": momentum * stats["variance"] + (1 - momentum) * variance}
    x = (x - mean) * lax.rsqrt(variance + wl.BN_EPSILON) * params["gamma"] + params["beta"]
    return x, stats


def conv_bn_relu_pool(params: dict[str, Any], stats: dict[str, Any], x: Any) -> tuple[Any, dict[str, Any]]:
    x = lax.conv_general_dilated(x, params["w"], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    x, stats = batch_norm(params, stats, x + params["b"])
    x = jax.nn.relu(x)
    return lax.reduce_window(x, -jnp.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID"), stats


def bn_cnn(params: dict[str, Any], stats: dict[str, Any], x: Any) -> tuple[Any, dict[str, Any]]:
    x, stats0 = conv_bn_relu_pool(params["conv0"], stats["conv0"], x)
    x, stats1 = conv_bn_relu_pool(params["conv1"], stats["conv1"], x)
    x = jax.nn.relu(x.reshape(x.shape[0], -1) @ params["dense0"]["w"] + params["dense0"]["b"])
    return x @ params["dense1"]["w"] + params["dense1"]["b"], {"conv0": stats0, "conv1": stats1}


def initial_stats(name: str) -> dict[str, Any]:
    """The moving statistics a workload carries through its steps (only W6 has any)."""
    if name != "W6":
        return {}
    return {conv: {"mean": jnp.zeros((channels,), jnp.float32), "variance": jnp.ones((channels,), jnp.float32)}
            for conv, channels in (("conv0", 32), ("conv1", 64))}


def lstm_classifier(params: dict[str, Any], tokens: Any) -> Any:
    cell = params["lstm"]
    embedded = params["embedding"][tokens.T]  # (time, batch, embed): time-major for the scan
    batch, units = tokens.shape[0], wl.LSTM_UNITS

    # The input projection stays inside the step: hoisting it out as one big matmul
    # measured 2x slower on XLA:CPU (its gradient slices a (time, batch, 4*units) array).
    def time_step(carry: tuple[Any, Any], x_t: Any) -> tuple[tuple[Any, Any], None]:
        hidden, memory = carry
        z = x_t @ cell["w_input"] + hidden @ cell["w_hidden"] + cell["b"]  # (batch, 4*units)
        i, f, g, o = jnp.split(z, 4, axis=-1)
        memory = jax.nn.sigmoid(f) * memory + jax.nn.sigmoid(i) * jnp.tanh(g)
        hidden = jax.nn.sigmoid(o) * jnp.tanh(memory)
        return (hidden, memory), None

    zeros = jnp.zeros((batch, units), jnp.float32)
    (hidden, _), _ = lax.scan(time_step, (zeros, zeros), embedded)
    return hidden @ params["head"]["w"] + params["head"]["b"]  # (batch, 1) logits


def loss_and_correct(name: str, logits: Any, y: Any) -> tuple[Any, Any]:
    """Mean loss of the batch and its count of correct predictions."""
    if name == "W1":
        log_probs = jax.nn.log_softmax(logits)
        loss = -jnp.take_along_axis(log_probs, y[:, None], axis=1).mean()
        return loss, (logits.argmax(1) == y).sum()
    if name in ("W2", "W6"):
        loss = -(y * jax.nn.log_softmax(logits)).sum(1).mean()
        return loss, (logits.argmax(1) == y.argmax(1)).sum()
    loss = (jax.nn.softplus(logits) - y * logits).mean()  # binary cross-entropy on logits
    return loss, ((logits > 0) == (y > 0.5)).sum()


APPLY = {"W1": mlp, "W2": cnn, "W3": lstm_classifier, "W4": mlp, "W5": transformer_classifier}


def apply_with_stats(name: str) -> Callable:
    """apply(params, stats, x) -> (logits, new stats), for the workloads with and without moving statistics."""
    if name == "W6":
        return bn_cnn
    apply = APPLY[name]
    return lambda params, stats, x: (apply(params, x), stats)


def initial_optimizer_state(name: str, params: Any) -> dict[str, Any]:
    if name == "sgd_momentum":
        return {"m": jax.tree.map(jnp.zeros_like, params)}
    return {"t": jnp.zeros((), jnp.float32), "m": jax.tree.map(jnp.zeros_like, params),
            "v": jax.tree.map(jnp.zeros_like, params)}


def optimizer_update(name: str) -> Callable:
    """update(params, grads, state) -> (params, state) over the whole pytree (fused by XLA in the jitted step)."""
    settings = wl.OPTIMIZER_SETTINGS[name]
    rate = settings["learning_rate"]

    def sgd_momentum(params: Any, grads: Any, optimizer: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        m = jax.tree.map(lambda m, g: settings["momentum"] * m - rate * g, optimizer["m"], grads)
        return jax.tree.map(lambda p, m: p + m, params, m), {"m": m}

    def adam(params: Any, grads: Any, optimizer: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        beta_1, beta_2, epsilon = settings["beta_1"], settings["beta_2"], settings["epsilon"]
        if settings.get("weight_decay"):  # AdamW: decoupled decay before the update, as Keras
            params = jax.tree.map(lambda p: p - p * settings["weight_decay"] * rate, params)
        t = optimizer["t"] + 1.0
        m = jax.tree.map(lambda m, g: beta_1 * m + (1 - beta_1) * g, optimizer["m"], grads)
        v = jax.tree.map(lambda v, g: beta_2 * v + (1 - beta_2) * g * g, optimizer["v"], grads)
        step_size = rate * jnp.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        params = jax.tree.map(lambda p, m, v: p - step_size * m / (jnp.sqrt(v) + epsilon), params, m, v)
        return params, {"t": t, "m": m, "v": v}

    return sgd_momentum if name == "sgd_momentum" else adam


def make_step(name: str, batch: int, optimizer_name: str) -> Callable:
    """step(state, x, y, permutation) -> state, training on the batch at state['step']."""
    apply = apply_with_stats(name)
    update = optimizer_update(optimizer_name)

    def objective(params: Any, stats: Any, xb: Any, yb: Any) -> tuple[Any, Any]:
        logits, stats = apply(params, stats, xb)
        loss, correct = loss_and_correct(name, logits, yb)
        return loss, (correct, stats)

    def step(state: dict[str, Any], x: Any, y: Any, permutation: Any) -> dict[str, Any]:
        index = lax.dynamic_slice_in_dim(permutation, state["step"] * batch, batch)
        xb, yb = x[index], y[index]
        (loss, (correct, stats)), grads = jax.value_and_grad(objective, has_aux=True)(
            state["params"], state["stats"], xb, yb)
        params, optimizer = update(state["params"], grads, state["optimizer"])
        return {"params": params, "stats": stats, "optimizer": optimizer, "step": state["step"] + 1,
                "loss_sum": state["loss_sum"] + loss, "correct": state["correct"] + correct}

    return step


def scan_steps(step: Callable, count: int) -> Callable:
    """`count` consecutive steps in one call."""

    def many(state: dict[str, Any], x: Any, y: Any, permutation: Any) -> dict[str, Any]:
        state, _ = lax.scan(lambda s, _: (step(s, x, y, permutation), None), state, None, length=count)
        return state

    return many


def train(name: str, args: Any) -> dict[str, Any]:
    """Train the workload for args.epochs epochs; return per-epoch times and the summary."""
    x_np, y_np = wl.make_data(name, args.quick)
    x, y = jax.device_put(x_np), jax.device_put(y_np)
    batch = wl.TRAIN_SPECS[name].batch_size
    steps = x.shape[0] // batch
    key, init_key = jax.random.split(jax.random.PRNGKey(wl.SEED))
    params = init_params(name, init_key)
    state = {"params": params, "stats": initial_stats(name), "step": jnp.zeros((), jnp.int32),
             "optimizer": initial_optimizer_state(args.optimizer, params)}
    step = make_step(name, batch, args.optimizer)
    single = jax.jit(step, donate_argnums=0)
    if args.variant == "opt":  # fixed shapes: whole scans, then the remaining steps one by one
        per_call = min(STEPS_PER_CALL, steps)
        many = jax.jit(scan_steps(step, per_call), donate_argnums=0)
        calls = [many] * (steps // per_call) + [single] * (steps % per_call)
    else:
        calls = [single] * steps

    epoch_seconds, history = [], []
    start = time.perf_counter()
    for _ in range(args.epochs):
        key, permutation_key = jax.random.split(key)
        permutation = jax.random.permutation(permutation_key, x.shape[0])
        state = {**state, "step": jnp.zeros((), jnp.int32), "loss_sum": jnp.zeros((), jnp.float32),
                 "correct": jnp.zeros((), jnp.int32)}
        for call in calls:
            state = call(state, x, y, permutation)
        state = jax.block_until_ready(state)
        history.append((float(state["loss_sum"]) / steps, int(state["correct"]) / (steps * batch)))
        now = time.perf_counter()
        epoch_seconds.append(now - start)
        start = now
    extra = {"steps_per_call": STEPS_PER_CALL} if args.variant == "opt" else {}
    return wl.train_result(epoch_seconds, steps * batch, loss=history[-1][0], accuracy=history[-1][1], **extra)


def predict_latency(args: Any) -> dict[str, Any]:
    """W4: median time of the jitted W1 apply function on a device array, blocking until ready."""
    params = init_params("W4", jax.random.PRNGKey(wl.SEED))
    apply = jax.jit(mlp)
    calls, warmup = wl.predict_calls(args.quick)
    result = {}
    for size, array in wl.make_predict_inputs().items():
        inputs = jax.device_put(array)
        result[str(size)] = wl.time_calls(lambda: apply(params, inputs).block_until_ready(), calls, warmup)
    return result


def main() -> None:
    args = wl.runner_arguments(__doc__.splitlines()[0])
    framework = "hand-opt" if args.variant == "opt" else "hand"
    if jax is None:
        wl.emit_unavailable(framework, args.backend, IMPORT_ERROR)
        return
    device = jax.devices()[0]
    environment = {"jax": jax.__version__, "device": f"{device.platform}:{device.id}",
                   "device_name": getattr(device, "device_kind", device.platform)}
    jobs = {name: (lambda name=name: train(name, args)) for name in wl.TRAIN_WORKLOADS}
    jobs["W4"] = lambda: predict_latency(args)
    wl.run_workloads(framework, args, jobs, environment)


if __name__ == "__main__":
    main()
