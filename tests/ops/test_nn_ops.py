"""keras.ops.nn's activations, encodings, CTC and block ops: NumPy references on every backend, finite
gradients on torch and jax, Keras's errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from lamina import backend, ops

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(3)
X = (rng.normal(size=(3, 6)) * 1.5).astype("float32")


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(backend.impl.convert_to_numpy(value))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _sparsemax(z):
    """Sparsemax of each row by its definition: the threshold tau with sum(max(z - tau, 0)) = 1."""
    out = np.zeros_like(z)
    for row, values in enumerate(z):
        ranked = np.sort(values)[::-1]
        k = max(j for j in range(1, len(ranked) + 1) if 1 + j * ranked[j - 1] > ranked[:j].sum())
        out[row] = np.maximum(values - (ranked[:k].sum() - 1) / k, 0)
    return out


# name -> (call on ops and x, NumPy reference of X)
ACTIVATIONS = {
    "celu": (lambda x: ops.celu(x, alpha=0.5), np.maximum(X, 0) + 0.5 * (np.exp(np.minimum(X, 0) / 0.5) - 1)),
    "glu": (lambda x: ops.glu(x), X[:, :3] * _sigmoid(X[:, 3:])),
    "glu_axis0": (lambda x: ops.glu(x[:2], axis=0), X[:1] * _sigmoid(X[1:2])),
    "hard_shrink": (lambda x: ops.hard_shrink(x, threshold=0.7), np.where(np.abs(X) > 0.7, X, 0)),
    "hard_silu": (lambda x: ops.hard_silu(x), X * np.clip(X / 6 + 0.5, 0, 1)),
    "hard_swish": (lambda x: ops.hard_swish(x), X * np.clip(X / 6 + 0.5, 0, 1)),
    "hard_tanh": (lambda x: ops.hard_tanh(x), np.clip(X, -1, 1)),
    "log_sigmoid": (lambda x: ops.log_sigmoid(x), np.log(_sigmoid(X))),
    "soft_shrink": (lambda x: ops.soft_shrink(x), np.where(X > 0.5, X - 0.5, np.where(X < -0.5, X + 0.5, 0))),
    "sparse_plus": (lambda x: ops.sparse_plus(x), np.where(X <= -1, 0, np.where(X >= 1, X, (X + 1) ** 2 / 4))),
    "sparse_sigmoid": (lambda x: ops.sparse_sigmoid(x), np.where(X <= -1, 0, np.where(X >= 1, 1, (X + 1) / 2))),
    "sparsemax": (lambda x: ops.sparsemax(x), _sparsemax(X)),
    "sparsemax_axis0": (lambda x: ops.sparsemax(x, axis=0), _sparsemax(X.T).T),
    "squareplus": (lambda x: ops.squareplus(x, b=2), (X + np.sqrt(X ** 2 + 2)) / 2),
    "tanh_shrink": (lambda x: ops.tanh_shrink(x), X - np.tanh(X)),
    "threshold": (lambda x: ops.threshold(x, 0.3, -2.0), np.where(X > 0.3, X, -2.0)),
    "swish": (lambda x: ops.swish(x), X * _sigmoid(X)),
    "polar": (lambda x: ops.polar(ops.abs(x), x), np.abs(X) * np.exp(1j * X)),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_activations_match_numpy(backend_name):
    with backend.use(backend_name):
        for name, (call, expected) in ACTIVATIONS.items():
            actual = _np(call(ops.convert_to_tensor(X)))
            assert actual.shape == expected.shape, name
            np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6, err_msg=name)


def test_activation_gradients_are_finite_and_agree_on_torch_and_jax():
    import jax
    import torch

    def loss(x):  # every real activation at once, each weighted differently
        calls = [call for name, (call, _) in ACTIVATIONS.items() if name != "polar"]
        return sum(ops.sum(call(x)) * (index + 1.0) for index, call in enumerate(calls))

    with backend.use("torch"):
        x = torch.tensor(X, requires_grad=True)
        loss(x).backward()
        torch_gradient = x.grad.numpy()
    with backend.use("jax"):
        jax_gradient = np.asarray(jax.grad(loss)(jax.numpy.asarray(X)))
    assert np.isfinite(torch_gradient).all()
    np.testing.assert_allclose(jax_gradient, torch_gradient, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_activation_errors(backend_name):
    with backend.use(backend_name):
        with pytest.raises(ValueError, match="even length"):
            ops.glu(X[:, :5])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_one_hot_and_multi_hot(backend_name):
    labels = np.array([[0, 2], [3, -1]])
    with backend.use(backend_name):
        encoded = _np(ops.one_hot(labels, 4))
        moved = _np(ops.one_hot(labels, 4, axis=1, dtype="int32"))
        multi = _np(ops.multi_hot(labels, 4))
        single = _np(ops.multi_hot(np.array([1, 3]), num_classes=5))
        with pytest.raises(ValueError, match="sparse=True"):
            ops.one_hot(labels, 4, sparse=True)
    expected = np.zeros((2, 2, 4), "float32")
    expected[0, 0, 0] = expected[0, 1, 2] = expected[1, 0, 3] = 1  # -1 encodes as zeros
    np.testing.assert_array_equal(encoded, expected)
    assert moved.dtype == np.int32
    np.testing.assert_array_equal(moved, expected.transpose(0, 2, 1))
    np.testing.assert_array_equal(multi, [[1, 0, 1, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(single, [0, 1, 0, 1, 0])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_psnr(backend_name):
    a = rng.uniform(size=(2, 4, 4, 3)).astype("float32")
    b = np.clip(a + rng.normal(scale=0.05, size=a.shape), 0, 1).astype("float32")
    with backend.use(backend_name):
        value = float(_np(ops.psnr(a, b, 1.0)))
        with pytest.raises(ValueError, match="one shape"):
            ops.psnr(a, b[:1], 1.0)
    assert value == pytest.approx(20 * math.log10(1.0) - 10 * math.log10(np.mean((a - b) ** 2)), rel=1e-5)


def _depth_to_space_reference(x, b):  # channels_last, channel index (i * b + j) * c + k
    n, h, w, c = x.shape
    out = np.zeros((n, h * b, w * b, c // (b * b)), x.dtype)
    for i, j in itertools.product(range(b), range(b)):
        out[:, i::b, j::b, :] = x[..., (i * b + j) * (c // (b * b)):(i * b + j + 1) * (c // (b * b))]
    return out


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_depth_to_space_and_back(backend_name):
    x = rng.normal(size=(2, 3, 2, 8)).astype("float32")
    with backend.use(backend_name):
        deep = _np(ops.depth_to_space(x, 2))
        back = _np(ops.space_to_depth(deep, 2))
        first = _np(ops.depth_to_space(x.transpose(0, 3, 1, 2), 2, data_format="channels_first"))
        first_back = _np(ops.space_to_depth(first, 2, data_format="channels_first"))
        with pytest.raises(ValueError, match="multiple of 2"):
            ops.space_to_depth(x[:, :3, :1], 2)
    np.testing.assert_array_equal(deep, _depth_to_space_reference(x, 2))
    np.testing.assert_array_equal(back, x)
    assert first.shape == (2, 2, 6, 4)
    # channels first: channel k of the output takes input channels k * 4 + (i * 2 + j), as pixel_shuffle
    np.testing.assert_array_equal(first[:, 1, 1::2, 0::2], x.transpose(0, 3, 1, 2)[:, 4 + 2])
    np.testing.assert_array_equal(first_back, x.transpose(0, 3, 1, 2))


def _unfold_reference(x, k, d, p, s):
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    n, c, h, w = x.shape
    rows, cols = (h - d * (k - 1) - 1) // s + 1, (w - d * (k - 1) - 1) // s + 1
    out = np.zeros((n, c, k, k, rows, cols), x.dtype)
    for i, j, r, q in itertools.product(range(k), range(k), range(rows), range(cols)):
        out[:, :, i, j, r, q] = x[:, :, r * s + i * d, q * s + j * d]
    return out.reshape(n, c * k * k, rows * cols)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_unfold_and_fold(backend_name):
    x = rng.normal(size=(2, 3, 6, 5)).astype("float32")
    expected = _unfold_reference(x, 2, 2, 1, 2)
    with backend.use(backend_name):
        blocks = _np(ops.unfold(x, 2, dilation=2, padding=1, stride=2))
        # folding back the blocks of non-overlapping tiles restores the image
        tiles = _np(ops.unfold(x[:, :, :6, :4], 2, stride=2))
        image = _np(ops.fold(tiles, (6, 4), 2, stride=2))
        overlap = _np(ops.fold(ops.unfold(x, 3, padding=1), (6, 5), 3, padding=1))
    np.testing.assert_allclose(blocks, expected, rtol=1e-6)
    np.testing.assert_allclose(image, x[:, :, :6, :4], rtol=1e-6)
    # folding sums: each pixel comes back once per 3x3 block that covers it, 9 inside, 6 or 4 at the border
    coverage = np.full((6, 5), 9.0)
    coverage[[0, -1], :] /= 1.5
    coverage[:, [0, -1]] /= 1.5
    np.testing.assert_allclose(overlap, x * coverage, rtol=1e-5)


def _ctc_reference(log_probs, target):
    """-log of the summed probability of every path that collapses to target (brute force)."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in itertools.product(range(classes), repeat=steps):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c)]
        if collapsed == list(target):
            total += math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -math.log(total)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_ctc_loss_matches_the_sum_over_alignments(backend_name):
    logits = rng.normal(size=(3, 5, 3)).astype("float32")
    target = np.array([[1, 2], [1, 1], [2, 0]])
    target_length, output_length = np.array([2, 2, 1]), np.array([5, 4, 3])
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = [_ctc_reference(log_probs[b, :output_length[b]], target[b, :target_length[b]]) for b in range(3)]
    with backend.use(backend_name):
        loss = _np(ops.ctc_loss(target, logits, target_length, output_length))
    np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_ctc_loss_gradients_are_finite_on_torch_and_jax():
    import jax
    import torch

    logits = rng.normal(size=(2, 5, 4)).astype("float32")
    args = (np.array([[1, 2], [3, 0]]), np.array([2, 1]), np.array([5, 3]))
    with backend.use("torch"):
        x = torch.tensor(logits, requires_grad=True)
        ops.ctc_loss(args[0], x, *args[1:]).sum().backward()
        torch_gradient = x.grad.numpy()
    with backend.use("jax"):
        jax_gradient = np.asarray(jax.grad(lambda x: ops.ctc_loss(args[0], x, *args[1:]).sum())(logits))
    assert np.isfinite(torch_gradient).all()
    np.testing.assert_allclose(jax_gradient, torch_gradient, atol=1e-5)


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_ctc_greedy_decode(backend_name):
    best = np.array([[1, 1, 0, 2, 2, 3], [0, 3, 3, 0, 3, 1]])
    logits = np.full((2, 6, 4), -1.0, "float32")
    np.put_along_axis(logits, best[..., None], 2.0, axis=-1)
    with backend.use(backend_name):
        decoded, scores = _np(ops.ctc_decode(logits, np.array([6, 5])))
        unmerged, _ = _np(ops.ctc_decode(logits, np.array([6, 5]), merge_repeated=False))
        with pytest.raises(ValueError, match="strategy"):
            ops.ctc_decode(logits, np.array([6, 5]), strategy="best")
    np.testing.assert_array_equal(decoded, [[[1, 2, 3, -1, -1, -1], [3, 3, -1, -1, -1, -1]]])
    np.testing.assert_array_equal(unmerged, [[[1, 1, 2, 2, 3, -1], [3, 3, 3, -1, -1, -1]]])
    np.testing.assert_allclose(scores, [[-12.0], [-10.0]])


def _prefix_probabilities(log_probs):
    """Every label sequence's total probability, summed over all its alignments (brute force)."""
    totals = {}
    for path in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        collapsed = tuple(c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c))
        totals[collapsed] = totals.get(collapsed, 0.0) + math.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return sorted(totals.items(), key=lambda item: -item[1])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_ctc_beam_search_finds_the_most_probable_label_sequences(backend_name):
    logits = (rng.normal(size=(2, 4, 3)) * 2).astype("float32")
    lengths = np.array([4, 3])
    with backend.use(backend_name):
        paths, scores = _np(ops.ctc_decode(logits, lengths, strategy="beam_search", beam_width=50, top_paths=3))
    assert paths.shape == (3, 2, 4) and scores.shape == (2, 3)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    for sample in range(2):
        expected = _prefix_probabilities(log_probs[sample, :lengths[sample]])[:3]
        for rank, (prefix, probability) in enumerate(expected):
            assert tuple(paths[rank, sample][paths[rank, sample] >= 0]) == prefix
            assert (paths[rank, sample, len(prefix):] == -1).all()
            assert scores[sample, rank] == pytest.approx(math.log(probability), rel=1e-5)


def test_ctc_beam_search_says_it_runs_eagerly_when_traced():
    import jax

    logits = np.zeros((1, 3, 3), "float32")
    with backend.use("jax"), pytest.raises(ValueError, match="eagerly"):
        jax.jit(lambda x: ops.ctc_decode(x, np.array([3]), strategy="beam_search"))(logits)
