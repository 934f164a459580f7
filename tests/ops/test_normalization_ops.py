"""Normalization and attention ops against NumPy references, on every backend."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import backend, ops

BACKENDS = ("torch", "jax", "numpy")
rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4, 5)).astype("float32")


def run(name: str, op: str, *args, **kwargs):
    with backend.use(name):
        outputs = getattr(ops, op)(*args, **kwargs)
        items = outputs if isinstance(outputs, tuple) else (outputs,)
        return [np.asarray(backend.impl.convert_to_numpy(o)) for o in items]


def close(actual, expected, atol=1e-5):
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, atol=atol, rtol=1e-5)


@pytest.mark.parametrize("name", BACKENDS)
def test_moments(name):
    close(run(name, "moments", X, axes=(0, 1)), [X.mean((0, 1)), X.var((0, 1))])
    mean, variance = run(name, "moments", X, axes=[2], keepdims=True, synchronized=True)
    assert mean.shape == variance.shape == (3, 4, 1)


@pytest.mark.parametrize("name", BACKENDS)
def test_batch_normalization(name):
    mean, variance = rng.standard_normal(5).astype("float32"), rng.uniform(0.5, 2, 5).astype("float32")
    offset, scale = rng.standard_normal(5).astype("float32"), rng.standard_normal(5).astype("float32")
    expected = (X - mean) / np.sqrt(variance + 1e-3) * scale + offset
    close(run(name, "batch_normalization", X, mean, variance, axis=-1, offset=offset, scale=scale, epsilon=1e-3),
          [expected])
    channel = rng.uniform(0.5, 2, 4).astype("float32")
    close(run(name, "batch_normalization", X, channel, channel, axis=1),
          [(X - channel[:, None]) / np.sqrt(channel[:, None] + 1e-3)])


@pytest.mark.parametrize("name", BACKENDS)
def test_layer_and_rms_normalization(name):
    gamma, beta = rng.standard_normal((4, 5)).astype("float32"), rng.standard_normal((4, 5)).astype("float32")
    mean, var = X.mean((1, 2), keepdims=True), X.var((1, 2), keepdims=True)
    close(run(name, "layer_normalization", X, gamma, beta, axis=(1, 2), epsilon=1e-3),
          [(X - mean) / np.sqrt(var + 1e-3) * gamma + beta])
    g1 = gamma[:, 0]
    mean, var = X.mean(1, keepdims=True), X.var(1, keepdims=True)  # a non-trailing axis
    close(run(name, "layer_normalization", X, g1, None, axis=1, epsilon=1e-3),
          [(X - mean) / np.sqrt(var + 1e-3) * g1[:, None]])
    scale = gamma[0]
    rms = np.sqrt(np.mean(X ** 2, -1, keepdims=True) + 1e-6)
    close(run(name, "rms_normalization", X, scale, axis=-1, epsilon=1e-6), [X / rms * scale])


@pytest.mark.parametrize("name", BACKENDS)
def test_normalize(name):
    close(run(name, "normalize", X, axis=-1), [X / np.linalg.norm(X, axis=-1, keepdims=True)])
    close(run(name, "normalize", X, axis=1, order=1), [X / np.abs(X).sum(1, keepdims=True)])
    close(run(name, "normalize", X, axis=None), [X / np.linalg.norm(X)])


def attention_reference(q, k, v, bias=None, mask=None, scale=None, is_causal=False, cap=None):
    repeats = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, repeats, axis=2), np.repeat(v, repeats, axis=2)
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k).astype(np.float64) * scale
    if cap is not None:
        logits = cap * np.tanh(logits / cap)
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if is_causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -1e30)
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", weights, v)


@pytest.mark.parametrize("name", BACKENDS)
@pytest.mark.parametrize("case", ["plain", "mask_bias", "causal", "causal_mask", "grouped", "cap", "value_depth"])
def test_dot_product_attention(name, case):
    q = rng.standard_normal((2, 4, 4, 8)).astype("float32")
    k = rng.standard_normal((2, 6, 2 if case == "grouped" else 4, 8)).astype("float32")
    v = rng.standard_normal((*k.shape[:3], 5 if case == "value_depth" else 8)).astype("float32")
    mask = rng.uniform(size=(2, 1, 4, 6)) > 0.3
    mask[..., 0] = True  # no row is fully masked
    bias = rng.standard_normal((1, 4, 4, 6)).astype("float32")
    kwargs = {"plain": {}, "mask_bias": {"mask": mask, "bias": bias, "scale": 0.5}, "causal": {"is_causal": True},
              "causal_mask": {"is_causal": True, "mask": mask, "bias": bias}, "grouped": {"mask": mask},
              "value_depth": {"is_causal": True},
              "cap": {"attn_logits_soft_cap": 2.0, "mask": mask, "is_causal": True}}[case]
    expected = attention_reference(q, k, v, kwargs.get("bias"), kwargs.get("mask"), kwargs.get("scale"),
                                   kwargs.get("is_causal", False), kwargs.get("attn_logits_soft_cap"))
    close(run(name, "dot_product_attention", q, k, v, flash_attention=False, **kwargs), [expected], atol=1e-5)
