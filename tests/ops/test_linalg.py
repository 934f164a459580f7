"""keras.ops.linalg on every backend against NumPy, and its gradients on torch and jax."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, ops

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(5)
A = rng.normal(size=(2, 3, 3)).astype("float32")
SPD = (A @ A.transpose(0, 2, 1) + 3 * np.eye(3)).astype("float32")
B = rng.normal(size=(2, 3, 2)).astype("float32")
TALL = rng.normal(size=(5, 3)).astype("float32")


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(backend.impl.convert_to_numpy(value))


# name -> (call on ops, NumPy reference)
CASES = {
    "cholesky": (lambda: ops.cholesky(SPD), lambda: np.linalg.cholesky(SPD)),
    "cholesky_upper": (lambda: ops.cholesky(SPD, upper=True), lambda: np.linalg.cholesky(SPD).transpose(0, 2, 1)),
    "cholesky_inverse": (lambda: ops.cholesky_inverse(np.linalg.cholesky(SPD)), lambda: np.linalg.inv(SPD)),
    "cholesky_inverse_upper": (lambda: ops.cholesky_inverse(np.linalg.cholesky(SPD).transpose(0, 2, 1), upper=True),
                               lambda: np.linalg.inv(SPD)),
    "det": (lambda: ops.det(A), lambda: np.linalg.det(A)),
    "eigh_values": (lambda: ops.eigh(SPD)[0], lambda: np.linalg.eigh(SPD)[0]),
    "inv": (lambda: ops.inv(A), lambda: np.linalg.inv(A)),
    "matrix_rank": (lambda: ops.matrix_rank(np.outer([1.0, 2, 3], [1.0, 0, 1]).astype("float32")), lambda: 1),
    "matrix_rank_tol": (lambda: ops.matrix_rank(np.diag([3.0, 1.0, 1e-3]).astype("float32"), tol=0.01),
                        lambda: 2),
    "norm_flat": (lambda: ops.norm(A), lambda: np.sqrt((A ** 2).sum())),
    "norm_vector": (lambda: ops.norm(A, ord=1, axis=-1, keepdims=True), lambda: np.abs(A).sum(-1, keepdims=True)),
    "norm_matrix": (lambda: [ops.norm(A[0], ord="fro"), ops.norm(A[0], ord=1), ops.norm(A[0], ord=np.inf),
                             ops.norm(A, ord="nuc", axis=(1, 2))],
                    lambda: [np.linalg.norm(A[0], "fro"), np.linalg.norm(A[0], 1), np.linalg.norm(A[0], np.inf),
                             np.linalg.norm(A, "nuc", axis=(1, 2))]),
    "pinv": (lambda: ops.pinv(TALL), lambda: np.linalg.pinv(TALL)),
    "qr": (lambda: [abs(q) for q in ops.qr(TALL)], lambda: [abs(q) for q in np.linalg.qr(TALL)]),
    "qr_complete": (lambda: [abs(q) for q in ops.qr(TALL, mode="complete")][1],
                    lambda: abs(np.linalg.qr(TALL, mode="complete")[1])),
    "solve": (lambda: ops.solve(A, B), lambda: np.linalg.solve(A, B)),
    "solve_triangular": (lambda: [ops.solve_triangular(A, B, lower=True), ops.solve_triangular(A, B)],
                         lambda: [np.linalg.solve(np.tril(A), B), np.linalg.solve(np.triu(A), B)]),
    "svd_values": (lambda: ops.svd(TALL, compute_uv=False), lambda: np.linalg.svd(TALL, compute_uv=False)),
    "svd_shapes": (lambda: [np.zeros(np.shape(t)) for t in ops.svd(TALL, full_matrices=False)],
                   lambda: [np.zeros((5, 3)), np.zeros(3), np.zeros((3, 3))]),
    "lstsq": (lambda: [ops.lstsq(TALL, B[0].repeat(2, 0)[:5]), ops.lstsq(TALL, B[0, :, 0].repeat(2)[:5])],
              lambda: [np.linalg.lstsq(TALL, B[0].repeat(2, 0)[:5], rcond=None)[0],
                       np.linalg.lstsq(TALL, B[0, :, 0].repeat(2)[:5], rcond=None)[0]]),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_linalg_matches_numpy(backend_name):
    with backend.use(backend_name):
        for name, (call, reference) in CASES.items():
            actual, expected = call(), reference()
            if not isinstance(expected, list):
                actual, expected = [actual], [expected]
            for a, e in zip(actual, expected):
                np.testing.assert_allclose(_np(a), np.asarray(e, "float32"), rtol=2e-4, atol=2e-5, err_msg=name)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_decompositions_rebuild_their_matrix(backend_name):
    with backend.use(backend_name):
        lu, pivots = _np(ops.lu_factor(A))
        w, v = _np(ops.eig(A[0]))
        q, r = _np(ops.qr(TALL))
        u, s, vh = _np(ops.svd(TALL))
        with pytest.raises(ValueError, match="mode"):
            ops.qr(TALL, mode="full")
    for batch in range(2):  # row swaps in pivot order, then L @ U
        permuted = A[batch].copy()
        for row, pivot in enumerate(pivots[batch]):
            permuted[[row, pivot]] = permuted[[pivot, row]]
        lower = np.tril(lu[batch], -1) + np.eye(3)
        np.testing.assert_allclose(lower @ np.triu(lu[batch]), permuted, atol=1e-5)
    np.testing.assert_allclose(A[0] @ v, v * w, atol=1e-4)
    np.testing.assert_allclose(q @ r, TALL, atol=1e-5)
    np.testing.assert_allclose(u[:, :3] * s @ vh, TALL, atol=1e-5)


def test_gradients_are_finite_on_torch_and_jax():
    import jax
    import torch

    def loss(o, a):
        return o.sum(o.det(a)) + o.sum(o.inv(a)) + o.sum(o.solve(a, B)) + o.norm(a) + o.sum(o.cholesky(a)) + \
            o.logdet(a[0])

    with backend.use("torch"):
        a = torch.tensor(SPD, requires_grad=True)
        loss(ops, a).backward()
        torch_gradient = a.grad.numpy()
    with backend.use("jax"):
        jax_gradient = np.asarray(jax.grad(lambda a: loss(ops, a))(SPD))
    assert np.isfinite(torch_gradient).all()
    np.testing.assert_allclose(jax_gradient, torch_gradient, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("backend_name", ["torch", "jax"])
def test_jvp(backend_name):
    with backend.use(backend_name):
        x, t = ops.convert_to_tensor(np.array([1.0, 2.0], "float32")), ops.convert_to_tensor(np.ones(2, "float32"))
        value, tangent = ops.jvp(lambda x: ops.sum(x ** 3), (x,), (t,))
        value2, tangent2, aux = ops.jvp(lambda x: (ops.sin(x), x * 2), (x,), (t,), has_aux=True)
    assert float(_np(value)) == pytest.approx(9.0) and float(_np(tangent)) == pytest.approx(15.0)
    np.testing.assert_allclose(_np(tangent2), np.cos([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(_np(aux), [2.0, 4.0])


def test_jvp_on_numpy_says_it_cannot_differentiate():
    with backend.use("numpy"), pytest.raises(NotImplementedError, match="inference only"):
        ops.jvp(lambda x: x, (np.ones(2),), (np.ones(2),))
