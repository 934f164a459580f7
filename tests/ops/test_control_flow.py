"""keras.ops' control flow, custom gradients, math and tensor updates: NumPy references on every backend,
the loops inside jax.jit, and custom gradients on torch and jax."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lamina import backend, ops

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(7)
X = rng.normal(size=(3, 4)).astype("float32")


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    if isinstance(value, dict):
        return {k: _np(v) for k, v in value.items()}
    return np.asarray(backend.impl.convert_to_numpy(value))


def _control_flow(o, x):
    """Every control-flow op once, on x (3, 4); the results in a list."""
    total, halves = o.scan(lambda carry, row: (carry + row, row * 0.5), o.zeros((4,)), x)
    _, backwards = o.scan(lambda carry, row: (carry + row, carry), o.zeros((4,)), x, reverse=True)
    counted, _ = o.scan(lambda carry, _: (carry + 1.0, None), o.zeros(()), length=5)
    steps, doubled = o.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2.0), (0, x))
    capped = o.while_loop(lambda v: o.sum(v) < 1e9, lambda v: v + 1.0, o.zeros((2,)), maximum_iterations=4)
    return [
        o.cond(o.sum(x) > 0, lambda: x + 1.0, lambda: x - 1.0),
        o.cond(o.sum(x) < -1e9, lambda: x + 1.0, lambda: x - 1.0),
        o.switch(1, [lambda a: a * 0.0, lambda a: a * 2.0, lambda a: a * 3.0], x),
        o.switch(7, [lambda a: a * 0.0, lambda a: a * 3.0], x),  # clamped to the last branch
        o.fori_loop(0, 4, lambda i, v: v + x[i % 3], o.zeros((4,))),
        total, halves, backwards, counted, steps, doubled, capped,
        o.map(lambda pair: pair["a"] * pair["b"], {"a": x, "b": x + 1.0}),
        o.vectorized_map(lambda row: o.sum(row * row), x),
        o.associative_scan(lambda a, b: a + b, x, axis=1),
        o.associative_scan(lambda a, b: o.maximum(a, b), x, reverse=True),
    ]


def _control_flow_reference():
    backwards = np.cumsum(X[::-1], 0)[::-1] - X
    return [X + 1 if X.sum() > 0 else X - 1, X - 1, X * 2, X * 3, X.sum(0) + X[0], X.sum(0), X * 0.5,
            backwards, np.float32(5), 3, X * 8, np.full(2, 4.0), X * (X + 1), (X * X).sum(1), np.cumsum(X, 1),
            np.maximum.accumulate(X[::-1], 0)[::-1]]


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_control_flow_matches_numpy(backend_name):
    with backend.use(backend_name):
        actual = _np(_control_flow(ops, ops.convert_to_tensor(X)))
    for index, (a, e) in enumerate(zip(actual, _control_flow_reference())):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6, err_msg=f"result {index}")


def test_control_flow_traces_inside_jax_jit():
    import jax

    with backend.use("jax"):
        actual = _np(jax.jit(lambda x: _control_flow(ops, x))(X))
        stepped = jax.jit(lambda n: ops.fori_loop(0, n, lambda i, v: v + i, 0))(5)
        picked = jax.jit(lambda i: ops.switch(i, [lambda: 1.0, lambda: 2.0]))(1)
    for index, (a, e) in enumerate(zip(actual, _control_flow_reference())):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6, err_msg=f"result {index}")
    assert int(stepped) == 10 and float(picked) == 2.0


def _log1pexp(x):
    e = ops.exp(x)

    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))

    return ops.log1p(e), grad


def test_custom_gradient_replaces_the_gradient_on_torch_and_jax():
    import jax
    import torch

    log1pexp = None
    with backend.use("torch"):
        log1pexp = ops.custom_gradient(_log1pexp)
        x = torch.tensor([100.0, 0.0], requires_grad=True)
        log1pexp(x).sum().backward()
        torch_gradient = x.grad.numpy()
    with backend.use("jax"):
        log1pexp = ops.custom_gradient(_log1pexp)
        jax_gradient = np.asarray(jax.jit(jax.grad(lambda x: log1pexp(x).sum()))(np.array([100.0, 0.0], "float32")))
    with backend.use("numpy"):
        value = ops.custom_gradient(_log1pexp)(np.array([0.0], "float32"))
    np.testing.assert_allclose(torch_gradient, [1.0, 0.5])  # autograd of log1p(exp(100)) would give NaN
    np.testing.assert_allclose(jax_gradient, [1.0, 0.5])
    np.testing.assert_allclose(value, [math.log(2)], rtol=1e-6)


def _scaled_product(x, y, scale=1.0):
    def grad(upstream):
        return upstream * y * 10.0, upstream * x * 10.0  # ten times the true gradients, to tell them apart

    return x * y * scale, grad


def test_custom_gradient_with_several_arguments_and_keywords():
    import jax
    import torch

    x, y = np.array([1.0, 2.0], "float32"), np.array([3.0, 5.0], "float32")
    with backend.use("torch"):
        tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
        ops.sum(ops.custom_gradient(_scaled_product)(tx, ty, scale=2.0)).backward()
        torch_gradients = [tx.grad.numpy(), ty.grad.numpy()]
    with backend.use("jax"):
        product = ops.custom_gradient(_scaled_product)
        value = _np(product(x, y, scale=2.0))
        jax_gradients = jax.grad(lambda a, b: ops.sum(product(a, b)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(value, x * y * 2.0)
    for gradients in (torch_gradients, jax_gradients):
        np.testing.assert_allclose(np.asarray(gradients[0]), y * 10.0)
        np.testing.assert_allclose(np.asarray(gradients[1]), x * 10.0)


def test_segment_reductions_inside_jax_jit_need_num_segments():
    import jax

    with backend.use("jax"):
        summed = jax.jit(lambda d, s: ops.segment_sum(d, s, num_segments=2))(X, np.array([1, 0, 1]))
        with pytest.raises(ValueError, match="num_segments"):
            jax.jit(lambda d, s: ops.segment_sum(d, s))(X, np.array([1, 0, 1]))
    np.testing.assert_allclose(_np(summed), [X[1], X[0] + X[2]], rtol=1e-6)


def _math(o, x):
    positive = o.abs(x) + 0.5
    ids = np.array([0, 0, 2])
    return [
        o.erf(x), o.erfc(x), o.erf(o.erfinv(o.tanh(x))), o.rsqrt(positive), o.logsumexp(x),
        o.logsumexp(x, axis=1, keepdims=True), o.logdet(np.diag([1.0, 2.0, 4.0]).astype("float32")),
        o.cdist(x, x[:2]), *o.top_k(x, 2), o.in_top_k(np.array([1, 0, 3]), x, 2),
        o.segment_sum(x, ids, num_segments=3), o.segment_max(x, ids, num_segments=3),
        o.segment_min(x, ids), o.segment_prod(x, ids, num_segments=3, sorted=True),
        o.extract_sequences(x, 2, 1),
    ]


def _math_reference():
    erf = np.vectorize(math.erf)
    order = np.argsort(-X, axis=1, kind="stable")[:, :2]
    kth = np.sort(X, 1)[:, -2]
    empty = np.full(4, -np.inf, "float32")
    return [
        erf(X), 1 - erf(X), np.tanh(X), 1 / np.sqrt(np.abs(X) + 0.5), np.log(np.exp(X).sum()),
        np.log(np.exp(X).sum(1, keepdims=True)), np.log(8.0),
        np.sqrt(((X[:, None] - X[None, :2]) ** 2).sum(-1)), np.take_along_axis(X, order, 1), order,
        X[[0, 1, 2], [1, 0, 3]] >= kth,
        np.stack([X[0] + X[1], np.zeros(4), X[2]]), np.stack([np.maximum(X[0], X[1]), empty, X[2]]),
        np.stack([np.minimum(X[0], X[1]), -empty, X[2]]), np.stack([X[0] * X[1], np.ones(4), X[2]]),
        np.stack([X[:, i:i + 2] for i in range(3)], axis=1),
    ]


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_math_matches_numpy(backend_name):
    with backend.use(backend_name):
        actual = _np(_math(ops, ops.convert_to_tensor(X)))
    for index, (a, e) in enumerate(zip(actual, _math_reference())):
        e = np.asarray(e)
        if e.dtype == bool or e.dtype.kind == "i":
            np.testing.assert_array_equal(a, e, err_msg=f"result {index}")
        else:
            np.testing.assert_allclose(a, e, rtol=2e-5, atol=2e-6, err_msg=f"result {index}")


def test_math_gradients_are_finite_on_torch_and_jax():
    import jax
    import torch

    def loss(x):
        return ops.sum(ops.erf(x)) + ops.sum(ops.erfinv(ops.tanh(x) * 0.9)) + ops.logsumexp(x) + \
            ops.sum(ops.cdist(x, x[:2] + 1.0)) + ops.sum(ops.segment_max(x, np.array([0, 1, 1]), num_segments=2))

    with backend.use("torch"):
        x = torch.tensor(X, requires_grad=True)
        loss(x).backward()
        torch_gradient = x.grad.numpy()
    with backend.use("jax"):
        jax_gradient = np.asarray(jax.grad(loss)(X))
    assert np.isfinite(torch_gradient).all()
    np.testing.assert_allclose(jax_gradient, torch_gradient, rtol=1e-4, atol=1e-5)


def _updates(o, x):
    return [
        o.scatter(np.array([[0, 1], [2, 3], [0, 1]]), np.array([1.0, 2.0, 3.0], "float32"), (3, 4)),
        o.scatter_update(x, np.array([[1], [0]]), np.ones((2, 4), "float32")),
        o.scatter_update(x, np.array([[0, 0], [0, 0], [2, 1]]), np.array([5.0, 7.0, -9.0], "float32"),
                         reduction="max"),
        o.scatter_update(x, np.array([[0, 0], [0, 0]]), np.array([2.0, 3.0], "float32"), reduction="mul"),
        o.scatter_update(x, np.array([[1, 1]]), np.array([1.0], "float32"), reduction="add"),
        o.slice(x, (1, 2), (2, 2)), o.slice_update(x, (1, 1), np.zeros((2, 2), "float32")),
        *o.unstack(x, axis=1), o.saturate_cast(o.sign(x) * 1e12, "int32"), o.saturate_cast(np.array([300, -4]), "uint8"),
        o.rearrange(x, "a (b c) -> (b a) c", c=2), o.rearrange(x, "... b -> b ..."),
        o.stop_gradient(x),
    ]


def _updates_reference():
    scattered = np.zeros((3, 4), "float32")
    scattered[0, 1], scattered[2, 3] = 4.0, 2.0
    rows = X.copy()
    rows[[0, 1]] = 1.0
    maxed = X.copy()
    maxed[0, 0] = max(X[0, 0], 7.0)
    maxed[2, 1] = max(X[2, 1], -9.0)
    multiplied = X.copy()
    multiplied[0, 0] *= 6.0
    added = X.copy()
    added[1, 1] += 1.0
    sliced = X.copy()
    sliced[1:3, 1:3] = 0
    int32 = np.iinfo(np.int32)
    return [scattered, rows, maxed, multiplied, added, X[1:3, 2:4], sliced, *X.T,
            np.where(X > 0, int32.max - 127, int32.min), np.array([255, 0]),
            X.reshape(3, 2, 2).transpose(1, 0, 2).reshape(6, 2), X.T, X]


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_tensor_updates_match_numpy(backend_name):
    with backend.use(backend_name):
        actual = _np(_updates(ops, ops.convert_to_tensor(X)))
        assert ops.dtype(ops.convert_to_tensor(X)) == "float32" and ops.dtype(np.arange(2)) in ("int64", "int32")
        assert ops.is_tensor(ops.convert_to_tensor(X)) and not ops.is_tensor([1.0])
        assert ops.is_tensor(X) == (backend_name == "numpy")  # NumPy arrays are the numpy backend's tensors
        with pytest.raises(ValueError, match="reduction"):
            ops.scatter_update(X, np.array([[0, 0]]), np.ones(1, "float32"), reduction="mean")
        with pytest.raises(ValueError, match="num=2"):
            ops.unstack(X, num=2)
        with pytest.raises(ValueError, match="same axes"):
            ops.rearrange(X, "a b -> a c")
        with pytest.raises(ValueError, match="lengths"):
            ops.rearrange(X, "a (b c) -> a b c")
    expected = _updates_reference()
    assert len(actual) == len(expected)
    for index, (a, e) in enumerate(zip(actual, expected)):
        e = np.asarray(e)
        if index in (11, 12):  # saturating casts: the float32 limit below 2**31 is 2**31 - 128
            assert a.dtype == {11: np.int32, 12: np.uint8}[index]
            np.testing.assert_array_equal(a, e, err_msg=f"result {index}")
        else:
            np.testing.assert_allclose(a, e, rtol=1e-6, err_msg=f"result {index}")


def test_scatter_and_slices_trace_inside_jax_jit():
    import jax

    with backend.use("jax"):
        actual = _np(jax.jit(lambda x, start: [ops.slice(x, (start, 0), (2, 2)),
                                                ops.slice_update(x, (start, 1), np.zeros((1, 2), "float32")),
                                                ops.scatter_update(x, np.array([[0, 0]]), np.ones(1, "float32"))])(
            X, 1))
    updated = X.copy()
    updated[1, 1:3] = 0
    first = X.copy()
    first[0, 0] = 1.0
    for a, e in zip(actual, [X[1:3, :2], updated, first]):
        np.testing.assert_allclose(a, e)
