"""Public ops: every name exists on every backend, dispatches to the active one and matches NumPy; symbolic
shape inference (KerasTensor, compute_output_spec) on every backend."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lamina import backend, ops
from lamina.ops.symbolic import KerasTensor, compute_output_spec, is_symbolic, symbolic_inputs

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(11)
X = rng.normal(size=(3, 4)).astype("float32")
Y = rng.normal(size=(3, 4)).astype("float32")
POSITIVE = rng.uniform(0.5, 2.0, size=(3, 4)).astype("float32")
SQUARE = rng.normal(size=(4, 2)).astype("float32")
INDICES = np.array([2, 0, 3])


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(backend.impl.convert_to_numpy(value))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805

# name -> (call on the ops module `o` and the inputs `a` as tensors of the active backend, NumPy reference)
CASES = {
    "abs": (lambda o, a: o.abs(a.X), lambda: np.abs(X)),
    "negative": (lambda o, a: o.negative(a.X), lambda: -X),
    "exp": (lambda o, a: o.exp(a.X), lambda: np.exp(X)),
    "log": (lambda o, a: o.log(a.POSITIVE), lambda: np.log(POSITIVE)),
    "log1p": (lambda o, a: o.log1p(a.POSITIVE), lambda: np.log1p(POSITIVE)),
    "sqrt": (lambda o, a: o.sqrt(a.POSITIVE), lambda: np.sqrt(POSITIVE)),
    "square": (lambda o, a: o.square(a.X), lambda: X ** 2),
    "sign": (lambda o, a: o.sign(a.X), lambda: np.sign(X)),
    "floor_ceil_round": (lambda o, a: [o.floor(3 * a.X), o.ceil(3 * a.X), o.round(3 * a.X)],
                         lambda: [np.floor(3 * X), np.ceil(3 * X), np.round(3 * X)]),
    "sin_cos_tanh": (lambda o, a: [o.sin(a.X), o.cos(a.X), o.tanh(a.X)],
                     lambda: [np.sin(X), np.cos(X), np.tanh(X)]),
    "arithmetic": (lambda o, a: [o.add(a.X, a.Y), o.subtract(a.X, a.Y), o.multiply(a.X, a.Y),
                                 o.divide(a.X, a.POSITIVE)],
                   lambda: [X + Y, X - Y, X * Y, X / POSITIVE]),
    "power": (lambda o, a: o.power(a.POSITIVE, 1.5), lambda: POSITIVE ** 1.5),
    "maximum_minimum": (lambda o, a: [o.maximum(a.X, a.Y), o.minimum(a.X, 0.0)],
                        lambda: [np.maximum(X, Y), np.minimum(X, 0)]),
    "comparisons": (lambda o, a: [o.equal(a.X, a.X), o.not_equal(a.X, a.Y), o.greater(a.X, a.Y),
                                  o.greater_equal(a.X, a.Y), o.less(a.X, a.Y), o.less_equal(a.X, a.Y)],
                    lambda: [X == X, X != Y, X > Y, X >= Y, X < Y, X <= Y]),
    "logical": (lambda o, a: [o.logical_and(a.X > 0, a.Y > 0), o.logical_or(a.X > 0, a.Y > 0),
                              o.logical_not(a.X > 0)],
                lambda: [(X > 0) & (Y > 0), (X > 0) | (Y > 0), ~(X > 0)]),
    "matmul": (lambda o, a: o.matmul(a.X, a.SQUARE), lambda: X @ SQUARE),
    "einsum": (lambda o, a: o.einsum("ij,jk->ik", a.X, a.SQUARE), lambda: X @ SQUARE),
    "reductions": (lambda o, a: [o.sum(a.X, axis=1), o.mean(a.X, axis=0, keepdims=True), o.prod(a.POSITIVE, axis=-1),
                                 o.max(a.X), o.min(a.X, axis=0), o.var(a.X, axis=1), o.std(a.X)],
                   lambda: [X.sum(1), X.mean(0, keepdims=True), POSITIVE.prod(-1), X.max(), X.min(0), X.var(1),
                            X.std()]),
    "argmax_argmin": (lambda o, a: [o.argmax(a.X, axis=1), o.argmin(a.X, axis=0)],
                      lambda: [X.argmax(1), X.argmin(0)]),
    "cumsum": (lambda o, a: o.cumsum(a.X, axis=1), lambda: np.cumsum(X, axis=1)),
    "reshape_transpose": (lambda o, a: [o.reshape(a.X, (2, 6)), o.reshape(a.X, (-1,)), o.transpose(a.X),
                                        o.transpose(o.expand_dims(a.X, 0), (2, 0, 1))],
                          lambda: [X.reshape(2, 6), X.ravel(), X.T, X[None].transpose(2, 0, 1)]),
    "expand_squeeze": (lambda o, a: [o.expand_dims(a.X, 1), o.squeeze(o.expand_dims(a.X, 1), 1)],
                       lambda: [X[:, None], X]),
    "concatenate_stack_split": (lambda o, a: [o.concatenate([a.X, a.Y], axis=0), o.stack([a.X, a.Y], axis=1),
                                              *o.split(a.X, 2, axis=1)],
                                lambda: [np.concatenate([X, Y]), np.stack([X, Y], 1), X[:, :2], X[:, 2:]]),
    "tile_repeat_broadcast": (lambda o, a: [o.tile(a.X, (2, 1)), o.repeat(a.X, 2, axis=0),
                                            o.broadcast_to(a.X[0], (2, 4))],
                              lambda: [np.tile(X, (2, 1)), np.repeat(X, 2, 0), np.broadcast_to(X[0], (2, 4))]),
    "take": (lambda o, a: [o.take(a.X, a.INDICES, axis=1), o.take_along_axis(a.X, o.expand_dims(a.INDICES, 1), 1)],
             lambda: [X[:, INDICES], np.take_along_axis(X, INDICES[:, None], 1)]),
    "pad_flip": (lambda o, a: [o.pad(a.X, ((1, 0), (0, 2))), o.flip(a.X, 1)],
                 lambda: [np.pad(X, ((1, 0), (0, 2))), X[:, ::-1]]),
    "where_clip": (lambda o, a: [o.where(a.X > 0, a.X, a.Y), o.clip(a.X, -0.5, 0.5)],
                   lambda: [np.where(X > 0, X, Y), np.clip(X, -0.5, 0.5)]),
    "creation": (lambda o, a: [o.zeros((2, 3)), o.ones((2,)), o.full((2, 2), 3.0), o.zeros_like(a.X),
                               o.ones_like(a.X), o.arange(5), o.eye(3), o.one_hot(a.INDICES, 4)],
                 lambda: [np.zeros((2, 3)), np.ones(2), np.full((2, 2), 3.0), np.zeros_like(X), np.ones_like(X),
                          np.arange(5), np.eye(3), np.eye(4)[INDICES]]),
    "cast": (lambda o, a: o.cast(a.X * 3, "int32"), lambda: (X * 3).astype("int32")),
    "activations": (lambda o, a: [o.relu(a.X), o.relu6(6 * a.X), o.sigmoid(a.X), o.softplus(a.X), o.softsign(a.X),
                                  o.silu(a.X), o.elu(a.X), o.selu(a.X), o.leaky_relu(a.X), o.hard_sigmoid(3 * a.X)],
                    lambda: [np.maximum(X, 0), np.clip(6 * X, 0, 6), _sigmoid(X), np.log1p(np.exp(X)),
                             X / (1 + np.abs(X)), X * _sigmoid(X), np.where(X > 0, X, np.exp(X) - 1),
                             _SELU_SCALE * np.where(X > 0, X, _SELU_ALPHA * (np.exp(X) - 1)),
                             np.where(X > 0, X, 0.2 * X), np.clip(3 * X + 3, 0, 6) / 6]),
    "gelu": (lambda o, a: [o.gelu(a.X), o.gelu(a.X, approximate=False)],
             lambda: [0.5 * X * (1 + np.tanh(math.sqrt(2 / math.pi) * (X + 0.044715 * X ** 3))),
                      0.5 * X * (1 + np.vectorize(math.erf)(X / math.sqrt(2)))]),
    "softmax": (lambda o, a: [o.softmax(a.X), o.log_softmax(a.X, axis=0)],
                lambda: [_softmax(X), np.log(_softmax(X.T)).T]),
    "dense": (lambda o, a: o.dense(a.X, a.SQUARE, a.BIAS), lambda: X @ SQUARE + 1),
}


class _Inputs:
    """The test inputs as tensors of the active backend."""

    def __init__(self) -> None:
        for name, value in (("X", X), ("Y", Y), ("POSITIVE", POSITIVE), ("SQUARE", SQUARE), ("INDICES", INDICES),
                            ("BIAS", np.ones(2, "float32"))):
            setattr(self, name, ops.convert_to_tensor(value))


def test_every_public_op_exists_on_every_backend() -> None:
    """Ops resolved to the backend exist there; the ones composed from other ops exist in lamina.ops."""
    for name in BACKENDS:
        with backend.use(name) as B:
            missing = [op for op in sorted(ops.backend_names()) if not callable(getattr(B, op, None))]
            assert not missing, f"the {name} backend lacks {missing}"
            assert all(callable(getattr(ops, op)) for op in ops.__all__)


def test_ops_resolve_to_the_active_backend() -> None:
    kinds = {"torch": "torch", "jax": "jax", "numpy": "numpy"}
    for name, module in kinds.items():
        with backend.use(name) as B:
            assert ops.matmul.__wrapped__ is B.matmul
            result = ops.add(X, Y)
            assert type(result).__module__.split(".")[0] in (module, "jaxlib"), type(result)
            assert backend.backend() == name


def test_unknown_op_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="lamina.ops has no op 'matmull'"):
        ops.matmull  # noqa: B018
    assert "matmul" in dir(ops) and "softmax" in dir(ops)


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", list(CASES))
def test_values_match_numpy(backend_name: str, case: str) -> None:
    call, reference = CASES[case]
    with backend.use(backend_name):
        actual = _np(call(ops, _Inputs()))
    expected = reference()
    if not isinstance(expected, list):
        actual, expected = [actual], [expected]
    assert len(actual) == len(expected)
    for index, (a, e) in enumerate(zip(actual, expected)):
        e = np.asarray(e)
        assert a.shape == e.shape, f"{case}[{index}]: shape {a.shape}, expected {e.shape}"
        if e.dtype == bool:
            np.testing.assert_array_equal(a, e, err_msg=f"{case}[{index}]")
        else:
            np.testing.assert_allclose(a.astype("float64"), e.astype("float64"), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{case}[{index}]")


def test_ops_take_numpy_arrays_on_every_backend() -> None:
    for name in BACKENDS:
        with backend.use(name):
            np.testing.assert_allclose(_np(ops.abs(X)), np.abs(X))
            np.testing.assert_allclose(_np(ops.matmul(X, SQUARE)), X @ SQUARE, rtol=1e-5)
            np.testing.assert_allclose(_np(ops.softmax(X)), _softmax(X), rtol=1e-5)


def test_ops_take_variables_and_tensors_alike() -> None:
    for name in BACKENDS:
        with backend.use(name) as B:
            variable = B.Variable(SQUARE, name="w")
            np.testing.assert_allclose(_np(ops.matmul(B.convert_to_tensor(X), variable)), X @ SQUARE, rtol=1e-5)
            assert ops.shape(variable) == (4, 2) and ops.size(variable) == 8


# --- symbolic shape inference -------------------------------------------------------------------------


def test_keras_tensor() -> None:
    tensor = KerasTensor([None, 3], dtype="float")
    assert tensor.shape == (None, 3) and tensor.ndim == 2 and tensor.dtype == "float32"
    assert "shape=(None, 3)" in repr(tensor)
    with pytest.raises(TypeError, match="no truth value"):
        bool(tensor)
    assert is_symbolic([1, {"a": tensor}]) and not is_symbolic([1, X])


def test_symbolic_inputs_of_shapes_lists_and_dicts() -> None:
    assert symbolic_inputs((None, 3)).shape == (None, 3)
    pair = symbolic_inputs([(None, 3), (None, 2, 2)], dtype="int32")
    assert [t.shape for t in pair] == [(None, 3), (None, 2, 2)] and pair[1].dtype == "int32"
    named = symbolic_inputs({"a": (None, 1), "b": (4,)})
    assert named["a"].shape == (None, 1) and named["b"].shape == (4,)


SPEC_CASES = {
    # name -> (fn, input shapes, expected output shape(s))
    "matmul keeps the batch unknown": (lambda x: ops.matmul(x, ops.convert_to_tensor(SQUARE)), [(None, 4)], (None, 2)),
    "a reduction over the batch is known": (lambda x: ops.sum(x, axis=0), [(None, 4)], (4,)),
    "reshape with -1": (lambda x: ops.reshape(x, (-1, 6)), [(None, 2, 3)], (None, 6)),
    "flattening everything is unknown": (lambda x: ops.reshape(x, (-1,)), [(None, 3)], (None,)),
    "known sizes stay known": (lambda x: ops.reshape(x, (2, 6)), [(3, 4)], (2, 6)),
    "an unknown inner axis": (lambda x: ops.mean(x, axis=1), [(None, None, 5)], (None, 5)),
    "concatenating batches": (lambda xs: ops.concatenate(xs, axis=0), [(None, 3), (None, 3)], (None, 3)),
    "a fixed batch": (lambda xs: ops.concatenate(xs, axis=-1), [(8, 3), (8, 2)], (8, 5)),
    "slicing": (lambda x: x[:, :2], [(None, 5)], (None, 2)),
    "softmax": (lambda x: ops.softmax(x), [(None, 7)], (None, 7)),
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("case", list(SPEC_CASES))
def test_compute_output_spec_shapes(backend_name: str, case: str) -> None:
    fn, shapes, expected = SPEC_CASES[case]
    with backend.use(backend_name):
        inputs = symbolic_inputs(shapes)
        output = compute_output_spec(fn, inputs[0] if len(shapes) == 1 else inputs)
    assert isinstance(output, KerasTensor)
    assert output.shape == expected and output.dtype == "float32"
    assert output._history is None  # no layer made it


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_compute_output_spec_structures_and_dtypes(backend_name: str) -> None:
    def fn(inputs):
        return {"cast": ops.cast(inputs["x"], "int32"), "pair": [inputs["x"] + 1.0, ops.expand_dims(inputs["y"], -1)]}

    with backend.use(backend_name):
        outputs = compute_output_spec(fn, {"x": KerasTensor((None, 3)), "y": KerasTensor((None,), "float16")})
    assert set(outputs) == {"cast", "pair"}
    assert outputs["cast"].shape == (None, 3) and outputs["cast"].dtype == "int32"
    assert [t.shape for t in outputs["pair"]] == [(None, 3), (None, 1)]
    assert outputs["pair"][1].dtype == "float16"


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_compute_output_spec_passes_non_symbolic_arguments_through(backend_name: str) -> None:
    with backend.use(backend_name):
        output = compute_output_spec(lambda args: ops.reshape(args[0], args[1]), [KerasTensor((None, 6)), (-1, 2, 3)])
    assert output.shape == (None, 2, 3)


def test_compute_output_spec_raises_the_functions_error() -> None:
    with backend.use("torch"), pytest.raises(Exception):
        compute_output_spec(lambda x: ops.matmul(x, ops.convert_to_tensor(SQUARE)), KerasTensor((None, 5)))
