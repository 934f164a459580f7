"""Python numbers stay numbers in binary ops, and reading a shape never converts an array.

Both are on the train step's path: `greater(y_pred, 0.5)` runs every step, and fit reads the shapes
of the whole data set to count its samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lamina import backend
from lamina.backend.common import standardize_dtype

ARITHMETIC = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.true_divide,
              "power": np.power, "maximum": np.maximum, "minimum": np.minimum}
COMPARISONS = {"equal": np.equal, "not_equal": np.not_equal, "greater": np.greater,
               "greater_equal": np.greater_equal, "less": np.less, "less_equal": np.less_equal}
LOGICAL = {"logical_and": np.logical_and, "logical_or": np.logical_or}
NUMBERS = [2, 0.5, np.float32(0.5), np.int64(3)]


def lamina_dtype(numpy_dtype: Any) -> str:
    """What Lamina gives for NumPy's result dtype: 64-bit floats are float32 by default."""
    name = standardize_dtype(numpy_dtype)
    return "float32" if name == "float64" else name


def check(op_name: str, reference: Any, values: np.ndarray, number: Any, number_first: bool = False) -> None:
    """The op on (tensor of values, number), or (number, tensor), against NumPy on the same operands.

    A NumPy scalar counts as the Python number it holds, as 0-d operands always did in Lamina.
    """
    B = backend.impl
    tensor = B.convert_to_tensor(values)
    plain = number.item() if isinstance(number, np.generic) else number
    result = getattr(B, op_name)(*((number, tensor) if number_first else (tensor, number)))
    with np.errstate(divide="ignore"):
        expected = np.asarray(reference(*((plain, values) if number_first else (values, plain))))
    call = f"{op_name}({'number, tensor' if number_first else 'tensor, number'}) with {values.dtype} and {number!r}"
    assert B.is_tensor(result), f"{call} gave {type(result).__name__}"
    assert B.dtype_of(result) == lamina_dtype(expected.dtype), call
    np.testing.assert_allclose(B.convert_to_numpy(result), expected, rtol=1e-6, err_msg=call)


@pytest.mark.parametrize("op_name", [*ARITHMETIC, *COMPARISONS])
@pytest.mark.parametrize("dtype", ["int32", "float32"])
def test_a_number_on_either_side_gives_numpys_values_and_dtype(training_backend, op_name, dtype):
    """int32 array with 0.5 promotes to float as in NumPy (float32, Lamina's float); with 2 it stays int32."""
    reference = {**ARITHMETIC, **COMPARISONS}[op_name]
    values = np.array([[1, 2, 3], [4, 0, 6]], dtype=dtype)
    for number in NUMBERS:
        check(op_name, reference, values, number)
        check(op_name, reference, values, number, number_first=True)


@pytest.mark.parametrize("op_name", list(LOGICAL))
def test_logical_ops_take_numbers(training_backend, op_name):
    values = np.array([True, False, True])
    for number in (True, False, 0, 2.5):
        check(op_name, LOGICAL[op_name], values, number)
        check(op_name, LOGICAL[op_name], values, number, number_first=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_a_number_keeps_the_tensors_float_dtype(training_backend, dtype):
    B = backend.impl
    tensor = B.cast(B.convert_to_tensor(np.array([1.0, -2.0, 4.0])), dtype)
    expected_dtype = B.dtype_of(tensor)  # jax without x64 holds float64 in float32
    for op_name in ("add", "multiply", "divide", "maximum", "subtract"):
        for result in (getattr(B, op_name)(tensor, 2.5), getattr(B, op_name)(3, tensor)):
            assert B.dtype_of(result) == expected_dtype, op_name


def test_two_numbers_still_give_a_tensor(training_backend):
    B = backend.impl
    result = B.add(2, 0.5)
    assert B.is_tensor(result) and B.dtype_of(result) == "float32" and float(B.convert_to_numpy(result)) == 2.5
    assert B.dtype_of(B.multiply(2, 3)) in ("int32", "int64")
    assert bool(B.convert_to_numpy(B.greater(1, 0.5)))


def test_the_gradient_of_maximum_with_a_number_splits_ties_on_every_backend():
    """maximum(x, 0.0) keeps maximum's gradient (half to each side at a tie), not clamp's."""
    import jax
    import torch

    x = np.array([-1.0, 0.0, 2.0], dtype=np.float32)
    with backend.use("torch") as T:
        variable = torch.tensor(x, requires_grad=True)
        T.sum(T.maximum(variable, 0.0)).backward()
        torch_grad = variable.grad.numpy()
        variable.grad = None
        T.sum(T.minimum(0.0, variable)).backward()
        torch_grad_min = variable.grad.numpy()
    with backend.use("jax") as J:
        jax_grad = np.asarray(jax.grad(lambda v: J.sum(J.maximum(v, 0.0)))(x))
        jax_grad_min = np.asarray(jax.grad(lambda v: J.sum(J.minimum(0.0, v)))(x))
    np.testing.assert_array_equal(torch_grad, jax_grad)
    np.testing.assert_array_equal(torch_grad_min, jax_grad_min)
    np.testing.assert_array_equal(torch_grad, [0.0, 0.5, 1.0])


def test_torch_ops_never_turn_a_number_into_a_device_tensor(monkeypatch):
    """A number converted per op call is a host-to-device copy on every train step on a GPU."""
    with backend.use("torch") as T:
        import lamina.backend.torch.numpy as torch_numpy

        tensor = T.convert_to_tensor(np.array([0.2, 0.7, -1.0], dtype=np.float32))
        conversions = []
        monkeypatch.setattr(torch_numpy, "convert_to_tensor", lambda *args: conversions.append(args))
        for op_name in [*ARITHMETIC, *COMPARISONS, *LOGICAL]:
            for number in (0.5, 2, np.float32(0.5)) if op_name not in LOGICAL else (True, 0.5):
                getattr(T, op_name)(tensor, number)
                getattr(T, op_name)(number, tensor)
    assert conversions == []


# --- shapes ---------------------------------------------------------------------------------------

class ShapeOnly:
    """Has a shape and nothing to convert: any attempt to read it as an array fails."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise AssertionError("the shape was read by converting the array")


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_shape_and_size_read_shapes_without_converting(name, monkeypatch):
    with backend.use(name) as B:
        assert B.shape(ShapeOnly((60000, 28, 28))) == (60000, 28, 28)
        assert B.size(ShapeOnly((60000, 28, 28))) == 60000 * 28 * 28
        assert B.shape([ShapeOnly((5, 3)), ShapeOnly((5, 3))]) == (2, 5, 3)

        conversions = []
        for module in {B, *(getattr(B, m) for m in ("core", "numpy") if hasattr(B, m))}:
            if hasattr(module, "convert_to_tensor"):
                monkeypatch.setattr(module, "convert_to_tensor", lambda *args: conversions.append(args))
        x = np.zeros((1000, 20), dtype=np.float32)
        assert B.shape(x) == (1000, 20) and B.size(x) == 20000
        assert B.shape([x, x, x]) == (3, 1000, 20)
        assert B.shape((x[0], x[1])) == (2, 20)
        assert B.shape([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]) == (3, 2)
        assert B.shape(2.5) == () and B.size(2.5) == 1
        assert B.shape([]) == (0,)
        assert conversions == []


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_shape_of_tensors_and_variables(name):
    with backend.use(name) as B:
        tensor = B.zeros((4, 3))
        variable = B.Variable(np.ones((2, 5), dtype=np.float32))
        assert B.shape(tensor) == (4, 3) and B.size(tensor) == 12
        assert B.shape(variable) == (2, 5) and B.size(variable) == 10
        assert B.shape([tensor, tensor]) == (2, 4, 3)


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_a_ragged_list_of_arrays_has_no_shape(name):
    with backend.use(name) as B:
        with pytest.raises(ValueError, match="no single shape"):
            B.shape([np.zeros((3, 2)), np.zeros((4, 2))])


def test_fit_copies_the_training_data_to_the_device_once(training_backend, monkeypatch):
    """Counting samples and checking shapes read shapes; only the one move to the device converts x."""
    from lamina.layers import Dense
    from lamina.models import Sequential

    B = backend.impl
    x = np.random.default_rng(0).normal(size=(256, 8)).astype(np.float32)
    y = np.random.default_rng(1).normal(size=(256, 1)).astype(np.float32)
    model = Sequential([Dense(4, input_shape=(8,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    copies_of_x = []
    convert = B.convert_to_tensor

    def counting(value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, np.ndarray) and np.shares_memory(value, x):
            copies_of_x.append(value.shape)
        return convert(value, *args, **kwargs)

    for module in {B, B.core, B.numpy}:
        if hasattr(module, "convert_to_tensor"):
            monkeypatch.setattr(module, "convert_to_tensor", counting)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    assert copies_of_x == [(256, 8)]


class _Counter:
    """Not a layer: the plainest function that assigns a variable and draws from a seed generator."""

    def __init__(self, B) -> None:
        self.total = B.Variable(np.zeros(2, np.float32), trainable=False, name="total")
        self.seed = B.SeedGenerator(3)

    def __call__(self, x):
        from lamina import backend

        self.total.assign_add(backend.impl.sum(x, axis=0))
        return x + backend.impl.random_normal(x.shape, seed=self.seed)


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_shape_inference_leaves_assigned_variables_as_they_were(name: str) -> None:
    with backend.use(name) as B:
        counter = _Counter(B)
        seed_before = [np.asarray(B.convert_to_numpy(v)).copy() for v in counter.seed.variables]
        B.compute_output_spec(counter, [((3, 2), "float32")])
        np.testing.assert_array_equal(counter.total.numpy(), [0.0, 0.0])
        for variable, before in zip(counter.seed.variables, seed_before):
            np.testing.assert_array_equal(B.convert_to_numpy(variable), before)
        counter(B.ones((3, 2)))  # and the state still works afterwards
        np.testing.assert_array_equal(counter.total.numpy(), [3.0, 3.0])


@pytest.mark.parametrize("name", ["torch", "jax", "numpy"])
def test_reversed_and_read_only_arrays_convert_quietly(name: str) -> None:
    """A reversed view (negative strides, which torch refuses) and a read-only array convert to their values."""
    import warnings

    with backend.use(name) as B:
        reversed_view = np.arange(6.0, dtype="float32").reshape(2, 3)[:, ::-1]
        read_only = np.arange(3, dtype="float32")
        read_only.setflags(write=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(B.convert_to_numpy(B.convert_to_tensor(reversed_view)), reversed_view)
            np.testing.assert_array_equal(B.convert_to_numpy(B.convert_to_tensor(read_only)), read_only)
