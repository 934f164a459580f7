"""The numpy backend against the torch backend: same ops, same signatures, same numbers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import lamina.backend.numpy as N
import lamina.backend.torch as T
from lamina.backend.common import standardize_dtype

RNG = np.random.default_rng(0)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _to_torch(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value.copy())
    if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
        return [_to_torch(v) for v in value]
    return value


def assert_same(numpy_result: Any, torch_result: Any, check_dtype: bool = True) -> None:
    if isinstance(torch_result, (list, tuple)):
        assert isinstance(numpy_result, (list, tuple)) and len(numpy_result) == len(torch_result)
        for n, t in zip(numpy_result, torch_result):
            assert_same(n, t, check_dtype)
        return
    assert N.is_tensor(numpy_result), type(numpy_result)
    expected = T.convert_to_numpy(torch_result)
    actual = np.asarray(numpy_result)
    assert actual.shape == expected.shape
    if check_dtype:
        assert standardize_dtype(actual.dtype) == standardize_dtype(expected.dtype)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5)


def compare(name: str, *args: Any, check_dtype: bool = True, **kwargs: Any) -> None:
    """Run op `name` of both backends on the same inputs and compare the results."""
    numpy_result = getattr(N, name)(*args, **kwargs)
    torch_result = getattr(T, name)(*[_to_torch(a) for a in args], **{k: _to_torch(v) for k, v in kwargs.items()})
    assert_same(numpy_result, torch_result, check_dtype)


# --- tensors -------------------------------------------------------------------------------------

def test_convert_to_tensor_and_dtypes() -> None:
    assert N.NAME == "numpy" and N.device_name() == "cpu"
    assert N.convert_to_tensor(np.zeros(3)).dtype == np.float32  # float64 -> float32
    assert N.convert_to_tensor([1.5, 2.0]).dtype == np.float32
    assert N.convert_to_tensor(np.zeros(3), "float64").dtype == np.float64
    assert N.convert_to_tensor([1, 2]).dtype == np.int64
    assert N.is_tensor(np.zeros(2)) and N.is_tensor(np.float32(1)) and not N.is_tensor([1.0])
    assert N.cast(np.array([1.7, -1.7]), "int32").tolist() == [1, -1]
    assert N.cast(np.array([0.1]), "float64")[0] == 0.1  # no detour through float32
    assert N.dtype_of(np.zeros(2, np.int32)) == "int32"
    assert N.convert_to_numpy(np.float32(2)).shape == ()
    assert N.dtype_of(N.zeros((2,), "bfloat16")) == "bfloat16"  # through ml_dtypes, which jax installs


# --- numpy-like ops ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["abs", "negative", "exp", "square", "sign", "floor", "ceil",
                                  "sin", "cos", "tanh", "round", "isnan"])
def test_unary_ops(name: str) -> None:
    compare(name, randn(3, 4) * 3)


def test_unary_ops_on_positive_and_boolean_inputs() -> None:
    positive = np.abs(randn(5)) + 0.1
    compare("log", positive)
    compare("log1p", positive)
    compare("sqrt", positive)
    compare("logical_not", randn(5) > 0)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "maximum", "minimum", "equal",
                                  "not_equal", "greater", "greater_equal", "less", "less_equal"])
def test_binary_ops(name: str) -> None:
    x, y = randn(3, 4), randn(4)
    compare(name, x, y)  # broadcasting
    compare(name, x, 0.5)
    compare(name, 2.0, y)
    compare(name, np.arange(4), y)  # int with float32 stays float32
    compare(name, np.arange(4), 2)


def test_binary_ops_promote_as_torch() -> None:
    compare("divide", np.arange(1, 5), np.array([2, 2, 2, 2]))  # ints divide as float32
    compare("add", np.arange(4), 1.5)
    compare("add", np.ones(3, np.float16), 1.5)
    compare("add", np.arange(4, dtype=np.int32), np.arange(4, dtype=np.int64))
    compare("power", np.abs(randn(2, 3)), 2)
    compare("power", np.abs(randn(2, 3)), 0.5)
    compare("logical_and", randn(6) > 0, randn(6) > 0)
    compare("logical_or", randn(6) > 0, randn(6) > 0)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "max", "min"])
@pytest.mark.parametrize("axis", [None, 1, -1, (0, 2), [0, 1]])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name: str, axis: Any, keepdims: bool) -> None:
    compare(name, randn(2, 3, 4), axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("axis", [None, 1, -1])  # torch's prod takes one axis only
@pytest.mark.parametrize("keepdims", [False, True])
def test_prod(axis: Any, keepdims: bool) -> None:
    compare("prod", randn(2, 3, 4), axis=axis, keepdims=keepdims)


def test_reductions_of_integers() -> None:
    ints = np.arange(12, dtype=np.int32).reshape(3, 4)
    compare("sum", ints, axis=0)
    compare("mean", ints)  # float32, as in torch
    compare("max", ints, axis=1)
    compare("cumsum", ints, axis=1)
    compare("cumsum", randn(3, 4), axis=0)


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(axis: Any, keepdims: bool) -> None:
    x = randn(4, 5)
    compare("argmax", x, axis=axis, keepdims=keepdims)
    compare("argmin", x, axis=axis, keepdims=keepdims)


def test_shape_ops() -> None:
    x = randn(2, 3, 4)
    compare("reshape", x, (4, -1))
    compare("transpose", x)
    compare("transpose", x, (1, 0, 2))
    compare("expand_dims", x, 1)
    compare("expand_dims", x, -1)
    compare("squeeze", randn(2, 1, 3, 1))
    compare("squeeze", randn(2, 1, 3), 1)
    compare("squeeze", randn(2, 1, 3), 0)  # an axis not of length 1 is kept, as torch keeps it
    compare("concatenate", [x, x], axis=1)
    compare("stack", [x, x], axis=-1)
    compare("tile", x, (2, 1, 2))
    compare("repeat", x, 2, axis=1)
    compare("repeat", x, 3)
    compare("broadcast_to", randn(3, 1), (2, 3, 4))
    compare("flip", x)
    compare("flip", x, 1)
    compare("flip", x, (0, 2))
    compare("pad", x, ((0, 0), (1, 2), (3, 0)))
    compare("pad", x, ((1, 1), (0, 0), (0, 0)), constant_values=-1.0)
    assert N.shape(x) == T.shape(torch.from_numpy(x)) == (2, 3, 4)
    assert N.size(x) == 24


@pytest.mark.parametrize("sections", [2, 3, 4, [1, 3], (2,)])
def test_split(sections: Any) -> None:
    compare("split", randn(2, 6), sections, axis=1)
    compare("split", randn(7, 2), sections)


def test_indexing_ops() -> None:
    x = randn(4, 5)
    compare("take", x, np.array([3, 0, 0]), axis=0)
    compare("take", x, np.array([[1, 4], [0, 2]]), axis=1)
    compare("take", x, np.array([7, 19]))
    compare("take_along_axis", x, np.argsort(x, axis=1), axis=1)
    compare("take_along_axis", x, np.array([[0, 1, 2, 3, 0]]), axis=0)
    compare("where", x > 0, x, np.zeros_like(x))
    compare("clip", x, -0.5, 0.5)
    compare("one_hot", np.array([0, 2, 1]), 3)
    compare("one_hot", np.array([[0], [1]]), 4, dtype="int32")


def test_matmul_and_einsum() -> None:
    compare("matmul", randn(2, 3, 4), randn(4, 5))
    compare("matmul", randn(4), randn(4, 2))
    compare("einsum", "bij,bjk->bik", randn(2, 3, 4), randn(2, 4, 5))
    compare("einsum", "bhqd,bhkd->bhqk", randn(2, 2, 3, 4), randn(2, 2, 5, 4))


def test_creation_ops() -> None:
    x = randn(2, 3)
    for numpy_result, torch_result in [
        (N.zeros((2, 3)), T.zeros((2, 3))),
        (N.ones([2], "int32"), T.ones([2], "int32")),
        (N.full((2, 2), 7.5), T.full((2, 2), 7.5)),
        (N.zeros_like(x), T.zeros_like(torch.from_numpy(x))),
        (N.ones_like(x, "int64"), T.ones_like(torch.from_numpy(x), "int64")),
        (N.arange(5), T.arange(5)),
        (N.arange(1, 7, 2), T.arange(1, 7, 2)),
        (N.arange(0.0, 1.0, 0.25), T.arange(0.0, 1.0, 0.25)),
        (N.arange(3, dtype="float32"), T.arange(3, dtype="float32")),
        (N.eye(3), T.eye(3)),
    ]:
        assert_same(numpy_result, torch_result)


# --- activations and dense -----------------------------------------------------------------------

ACTIVATION_INPUT = np.concatenate([randn(40) * 4, np.array([-60.0, -20.0, -3.0, 0.0, 3.0, 20.0, 60.0],
                                                           dtype=np.float32)])


@pytest.mark.parametrize("name", ["relu", "sigmoid", "tanh", "softplus", "softsign", "silu", "selu",
                                  "relu6", "hard_sigmoid", "elu", "leaky_relu", "gelu"])
def test_activations(name: str) -> None:
    compare(name, ACTIVATION_INPUT)


def test_activation_options() -> None:
    compare("elu", ACTIVATION_INPUT, alpha=0.5)
    compare("leaky_relu", ACTIVATION_INPUT, negative_slope=0.01)
    compare("gelu", ACTIVATION_INPUT, approximate=False)
    assert not np.isnan(N.sigmoid(np.array([-1e4, 1e4], np.float32))).any()


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(axis: int) -> None:
    x = randn(3, 4, 5) * 10
    compare("softmax", x, axis=axis)
    compare("log_softmax", x, axis=axis)


def test_dense() -> None:
    compare("dense", randn(5, 3), randn(3, 4), randn(4))
    compare("dense", randn(2, 5, 3), randn(3, 4), randn(4))
    compare("dense", randn(5, 3), randn(3, 4), None)


def test_dropout_is_random_scaled_and_seeded() -> None:
    x = np.ones((200, 50), np.float32)
    N.set_seed(3)
    first = N.dropout(x, 0.25)
    N.set_seed(3)
    np.testing.assert_array_equal(first, N.dropout(x, 0.25))
    assert set(np.unique(first).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert abs((first == 0).mean() - 0.25) < 0.02 and first.dtype == np.float32
    np.testing.assert_array_equal(N.dropout(x, 0.0), x)
    assert not N.dropout(x, 1.0).any()


# --- convolution and pooling ---------------------------------------------------------------------

CONV_CASES = [
    # (input shape, kernel window, strides, padding, dilation, groups)
    ((2, 9, 3), (3,), (1,), "valid", (1,), 1),
    ((2, 9, 3), (3,), (2,), "same", (1,), 1),
    ((2, 10, 3), (4,), (2,), "same", (1,), 1),
    ((2, 10, 4), (3,), (1,), "same", (2,), 2),
    ((2, 7, 8, 3), (3, 3), (1, 1), "valid", (1, 1), 1),
    ((2, 7, 8, 3), (3, 3), (1, 1), "same", (1, 1), 1),
    ((2, 7, 8, 3), (2, 3), (2, 2), "same", (1, 1), 1),
    ((2, 8, 7, 3), (3, 2), (2, 1), "valid", (1, 1), 1),
    ((2, 9, 9, 3), (3, 3), (1, 1), "valid", (2, 2), 1),
    ((2, 9, 8, 3), (3, 3), (1, 1), "same", (2, 2), 1),
    ((2, 7, 8, 4), (3, 3), (2, 2), "same", (1, 1), 2),
    ((2, 7, 8, 4), (3, 3), (1, 1), "same", (1, 1), 4),  # depthwise
    ((1, 5, 6, 4, 2), (2, 3, 2), (1, 2, 1), "same", (1, 1, 1), 1),
]


@pytest.mark.parametrize("shape,window,strides,padding,dilation,groups", CONV_CASES)
def test_conv(shape: tuple, window: tuple, strides: tuple, padding: str, dilation: tuple, groups: int) -> None:
    kernel = randn(*window, shape[-1] // groups, 8)
    compare("conv", randn(*shape), kernel, strides, padding, dilation, groups)


def test_conv_rejects_wrong_channels() -> None:
    with pytest.raises(ValueError, match="channels"):
        N.conv(randn(1, 5, 3), randn(3, 2, 4), (1,), "valid", (1,))


POOL_CASES = [
    ((2, 9, 3), (2,), (2,), "valid"),
    ((2, 9, 3), (3,), (2,), "same"),
    ((2, 9, 3), (3,), (1,), "same"),
    ((2, 7, 8, 3), (2, 2), (2, 2), "valid"),
    ((2, 7, 8, 3), (2, 2), (2, 2), "same"),
    ((2, 7, 8, 3), (3, 3), (1, 1), "same"),
    ((2, 7, 8, 3), (3, 2), (2, 1), "same"),
    ((2, 8, 8, 3), (3, 3), (2, 2), "valid"),
]


@pytest.mark.parametrize("name", ["max_pool", "average_pool"])
@pytest.mark.parametrize("shape,pool_size,strides,padding", POOL_CASES)
def test_pooling(name: str, shape: tuple, pool_size: tuple, strides: tuple, padding: str) -> None:
    compare(name, randn(*shape), pool_size, strides, padding)


def test_average_pool_same_counts_only_real_cells() -> None:
    x = np.ones((1, 5, 1), np.float32)
    np.testing.assert_allclose(N.average_pool(x, (3,), (2,), "same"), np.ones((1, 3, 1)))


# --- recurrent layers ----------------------------------------------------------------------------

@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_lstm(go_backwards: bool, use_bias: bool) -> None:
    units = 4
    args = (randn(2, 5, 3), randn(2, units), randn(2, units), randn(3, 4 * units) * 0.5,
            randn(units, 4 * units) * 0.5, randn(4 * units) if use_bias else None)
    compare("lstm", *args, go_backwards=go_backwards)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_simple_rnn(go_backwards: bool, activation: str) -> None:
    units = 4
    args = (randn(2, 5, 3), randn(2, units), randn(3, units) * 0.5, randn(units, units) * 0.5, randn(units))
    compare("simple_rnn", *args, activation, go_backwards=go_backwards)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_generic_rnn(go_backwards: bool) -> None:
    def step(x: Any, states: list) -> tuple[Any, list]:
        total = states[0] + x
        return total * 2, [total]

    inputs = randn(2, 4, 3)
    numpy_out, numpy_states = N.rnn(step, inputs, [np.zeros((2, 3), np.float32)], go_backwards)
    torch_out, torch_states = T.rnn(step, torch.from_numpy(inputs), [torch.zeros(2, 3)], go_backwards)
    assert_same(numpy_out, torch_out)
    assert_same(numpy_states, torch_states)


# --- losses --------------------------------------------------------------------------------------

def test_categorical_crossentropy() -> None:
    logits = randn(6, 5) * 2
    target = np.eye(5, dtype=np.float32)[RNG.integers(0, 5, 6)]
    compare("categorical_crossentropy", target, logits, from_logits=True)
    probabilities = N.softmax(logits)
    compare("categorical_crossentropy", target, probabilities)
    compare("categorical_crossentropy", target, probabilities * 3)  # not normalised
    compare("categorical_crossentropy", target.T, probabilities.T, axis=0)
    # torch finds the logits behind its softmax output; the numpy backend clips the probabilities.
    assert_same(N.categorical_crossentropy(target, N.softmax(logits)),
                T.categorical_crossentropy(torch.from_numpy(target), T.softmax(torch.from_numpy(logits))))


def test_sparse_categorical_crossentropy() -> None:
    logits = randn(6, 5) * 2
    labels = RNG.integers(0, 5, 6)
    for from_logits, output in [(True, logits), (False, N.softmax(logits))]:
        compare("sparse_categorical_crossentropy", labels, output, from_logits=from_logits)
        compare("sparse_categorical_crossentropy", labels[:, None], output, from_logits=from_logits)
    compare("sparse_categorical_crossentropy", RNG.integers(0, 5, (2, 3)), randn(2, 5, 3), from_logits=True, axis=1)


def test_binary_crossentropy() -> None:
    logits = randn(4, 3) * 5
    target = (randn(4, 3) > 0).astype(np.float32)
    compare("binary_crossentropy", target, logits, from_logits=True)
    compare("binary_crossentropy", target, N.sigmoid(logits))
    compare("binary_crossentropy", target, np.array([[0.0, 1.0, 0.5]] * 4, np.float32))  # clipped


# --- Variable ------------------------------------------------------------------------------------

def test_variable_attributes() -> None:
    v = N.Variable(np.arange(6.0).reshape(2, 3), name="kernel", path="dense/kernel")
    assert (v.shape, v.dtype, v.ndim, len(v), v.name, v.path) == ((2, 3), np.float32, 2, 2, "kernel", "dense/kernel")
    assert v.trainable
    v.trainable = False
    assert not v.trainable
    assert "dense/kernel" in repr(v) and "float32" in repr(v)
    np.testing.assert_array_equal(v[1], [3, 4, 5])
    assert isinstance(v.value, np.ndarray) and isinstance(v.numpy(), np.ndarray)
    v.numpy()[0, 0] = 100.0  # a copy: the variable is unchanged
    assert v.value[0, 0] == 0.0
    assert len({v, N.Variable(1.0)}) == 2  # hashable by identity
    assert float(N.Variable(2.5)) == 2.5 and N.Variable(3, dtype="int64").dtype == np.int64


def test_variable_arithmetic_delegates_to_the_value() -> None:
    value = randn(2, 3)
    v = N.Variable(value)
    other = randn(2, 3)
    cases = [
        (v + 1, value + 1), (1 + v, 1 + value), (v - other, value - other), (other - v, other - value),
        (v * other, value * other), (other * v, other * value), (v / 2, value / 2), (2 / v, 2 / value),
        (-v, -value), (v @ other.T, value @ other.T), (other.T @ v, other.T @ value), (v ** 2, value ** 2),
        (v > 0, value > 0), (v == value, np.ones((2, 3), bool)), (np.exp(v), np.exp(value)),
        (np.sum(v, axis=0), value.sum(axis=0)), (N.add(v, v), 2 * value), (N.matmul(v, v.value.T), value @ value.T),
        (N.reshape(v, (3, 2)), value.reshape(3, 2)), (N.relu(v), np.maximum(value, 0)),
    ]
    for result, expected in cases:
        assert type(result) is np.ndarray or isinstance(result, np.generic)
        np.testing.assert_allclose(result, expected, rtol=1e-6)
    assert np.asarray(v) is v.value and np.asarray(v, np.float64).dtype == np.float64
    assert np.array(v, copy=True) is not v.value
    kernel, bias = N.Variable(randn(3, 4)), N.Variable(randn(4))
    x = randn(5, 3)
    np.testing.assert_allclose(N.dense(x, kernel, bias), x @ kernel.value + bias.value, rtol=1e-6)


def test_variable_assign() -> None:
    v = N.Variable(np.zeros((2, 2)))
    new = np.ones((2, 2))  # float64
    v.assign(new)
    new[0, 0] = 5.0  # a copy was stored
    assert v.dtype == np.float32 and v.value.tolist() == [[1, 1], [1, 1]]
    v.assign(3.0)  # broadcasts, as torch's copy_ does
    v.assign_add(np.ones((2, 2)))
    v.assign_sub(0.5)
    np.testing.assert_array_equal(v.value, np.full((2, 2), 3.5))
    counter = N.Variable(0, dtype="int64", trainable=False)
    counter.assign_add(1)
    assert counter.value == 1 and counter.dtype == np.int64
    with pytest.raises(ValueError, match="shape"):
        v.assign(np.ones(3))


# --- optimizer ops, random, symbolic, StepRunner -------------------------------------------------

def test_optimizer_ops_match_torch() -> None:
    xs, ys = [randn(3), randn(2, 2)], [randn(3), randn(2, 2)]
    compare("foreach_add", xs, ys)
    compare("foreach_add", xs, ys, alpha=-0.5)
    compare("foreach_add", xs, 2.0, alpha=0.5)
    compare("foreach_mul", xs, ys)
    compare("foreach_mul", xs, 3.0)
    compare("foreach_div", xs, 4.0)
    compare("foreach_sqrt", [np.abs(x) for x in xs])
    compare("foreach_lerp", xs, ys, 0.1)
    compare("foreach_maximum", xs, ys)
    compare("foreach_clip_by_norm", [x * 10 for x in xs], 1.0)
    compare("global_norm", xs)
    variables = [N.Variable(np.zeros(3)), N.Variable(np.zeros((2, 2)))]
    N.foreach_assign(variables, xs)
    for variable, x in zip(variables, xs):
        np.testing.assert_array_equal(variable.value, x)


def test_random_is_seeded() -> None:
    N.set_seed(7)
    first = (N.random_uniform((3, 4), -2.0, 2.0), N.random_normal((5,), 1.0, 0.1), N.random_permutation(6))
    N.set_seed(7)
    second = (N.random_uniform((3, 4), -2.0, 2.0), N.random_normal((5,), 1.0, 0.1), N.random_permutation(6))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert first[0].dtype == np.float32 and ((first[0] >= -2) & (first[0] < 2)).all()
    assert N.random_normal((2,), dtype="float16").dtype == np.float16
    assert sorted(first[2].tolist()) == list(range(6))
    seeded, again = N.SeedGenerator(3), N.SeedGenerator(3)
    assert [v.name for v in seeded.variables] == ["seed_state"]
    np.testing.assert_array_equal(N.random_uniform((4,), seed=seeded), N.random_uniform((4,), seed=again))
    assert not np.array_equal(N.random_uniform((4,), seed=seeded), N.random_uniform((4,), seed=N.SeedGenerator(4)))


def test_compute_output_spec() -> None:
    output = N.compute_output_spec(lambda x, y: N.concatenate([x, N.cast(y, "float32")], axis=1),
                                   [((2, 3), "float32"), ((2, 4), "int32")])
    assert output.shape == (2, 7) and output.dtype == np.float32


def _doubling(state: Any, x: Any) -> tuple[Any, Any]:
    return state, {"twice": x["a"] * 2, "sum": x["a"].sum(axis=1)}


def test_compiled_step_predicts_over_rows_and_gradients_are_refused() -> None:
    step = N.compile_step(_doubling, "auto")
    assert N.steps_per_call(8) == 1
    x = {"a": randn(7, 3)}
    order = np.array([4, 5, 6, 0, 1, 2, 3])
    _, output = step.over_rows(None, x, order, 0, 2, 3)
    np.testing.assert_allclose(output["twice"], x["a"][[4, 5, 6, 0, 1, 2]] * 2)
    np.testing.assert_allclose(output["sum"], x["a"][[4, 5, 6, 0, 1, 2]].sum(axis=1), rtol=1e-6)
    _, single = step.over_rows(None, x, order, 3, 1, 3)
    assert single["twice"].shape == (3, 3)
    np.testing.assert_allclose(single["twice"], x["a"][[0, 1, 2]] * 2)
    with pytest.raises(RuntimeError, match="inference-only.*torch or jax"):
        N.value_and_grad(lambda trainable: (0.0, None))([])
