"""Merging layers: values against NumPy on every backend, symbolic shapes, errors, configs, in a trained model."""

from __future__ import annotations

import json

import numpy as np
import pytest

import lamina
from lamina import backend
from check import check_layer
from lamina.layers import (Add, Average, Concatenate, Dense, Dot, Embedding, Input, Maximum, Minimum, Multiply,
                           Subtract, add, average, concatenate, dot, maximum, minimum, multiply, subtract)
from lamina.models import Model

BACKENDS = ["torch", "jax", "numpy"]
rng = np.random.default_rng(5)
A, B_, C = (rng.normal(size=(4, 3)).astype("float32") for _ in range(3))

# layer class -> (inputs, NumPy reference)
CASES = {
    "Add": (Add, [A, B_, C], lambda a, b, c: a + b + c),
    "Subtract": (Subtract, [A, B_], lambda a, b: a - b),
    "Multiply": (Multiply, [A, B_, C], lambda a, b, c: a * b * c),
    "Average": (Average, [A, B_, C], lambda a, b, c: (a + b + c) / 3),
    "Maximum": (Maximum, [A, B_, C], lambda a, b, c: np.maximum(np.maximum(a, b), c)),
    "Minimum": (Minimum, [A, B_], np.minimum),
    "Concatenate": (Concatenate, [A, B_[:, :2]], lambda a, b: np.concatenate([a, b], axis=-1)),
}


def _np(x):
    return np.asarray(backend.impl.convert_to_numpy(x), dtype="float64")


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("name", list(CASES))
def test_values_match_numpy(backend_name: str, name: str) -> None:
    cls, inputs, reference = CASES[name]
    with backend.use(backend_name) as B:
        output = cls()([B.convert_to_tensor(x) for x in inputs])
        np.testing.assert_allclose(_np(output), reference(*inputs), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(CASES))
def test_symbolic_shapes_keep_the_batch_unknown(name: str) -> None:
    cls, inputs, reference = CASES[name]
    symbolic = [Input(shape=x.shape[1:]) for x in inputs]
    output = cls()(symbolic)
    assert output.shape == (None, *reference(*inputs).shape[1:])


def test_same_numbers_and_gradients_in_a_trained_model() -> None:
    # Two branches merged by each layer, trained a few steps: torch and jax must agree step by step.
    def train(name: str) -> list[np.ndarray]:
        with backend.use(name):
            left, right = Input(shape=(3,)), Input(shape=(3,))
            merged = [layer([Dense(2, kernel_initializer="ones")(left), Dense(2, kernel_initializer="ones")(right)])
                      for layer in (Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(), Concatenate())]
            model = Model([left, right], Dense(1, kernel_initializer="ones")(Concatenate()(merged)))
            model.compile(optimizer=lamina.optimizers.SGD(learning_rate=0.01), loss="mse")
            model.fit([A, B_], C[:, :1], batch_size=4, epochs=2, shuffle=False, verbose=0)
            return model.get_weights()

    on_torch, on_jax = train("torch"), train("jax")
    for a, b in zip(on_torch, on_jax):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert all(np.any(w != 1.0) for w in on_torch[:4:2])  # the kernels moved: gradients flowed through the merges


def test_concatenate_along_another_axis() -> None:
    x, y = rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 5, 4)).astype("float32")
    for name in ("torch", "jax"):
        with backend.use(name) as B:
            np.testing.assert_allclose(_np(Concatenate(axis=1)([B.convert_to_tensor(x), B.convert_to_tensor(y)])),
                                       np.concatenate([x, y], axis=1), rtol=1e-6)
    assert Concatenate(axis=1)([Input(shape=(3, 4)), Input(shape=(5, 4))]).shape == (None, 8, 4)
    assert concatenate([Input(shape=(3,)), Input(shape=(2,))]).shape == (None, 5)
    assert add([Input(shape=(3,)), Input(shape=(3,))]).shape == (None, 3)


@pytest.mark.parametrize("make, inputs", [
    (Add, [Input(shape=(3,)), Input(shape=(4,))]),  # shapes differ
    (Multiply, [Input(shape=(3,))]),  # one input
    (Subtract, [Input(shape=(3,)), Input(shape=(3,)), Input(shape=(3,))]),  # three inputs
    (lambda: Concatenate(axis=-1), [Input(shape=(2, 3)), Input(shape=(4, 3))]),  # other axes differ
])
def test_bad_inputs_raise(make, inputs) -> None:
    with pytest.raises(ValueError):
        make()(inputs)


def test_a_single_tensor_is_not_a_list_of_inputs() -> None:
    with pytest.raises(ValueError, match="list of inputs"):
        Add()(Input(shape=(3,)))


@pytest.mark.parametrize("name", list(CASES))
def test_config_round_trip(name: str) -> None:
    cls = CASES[name][0]
    layer = cls(axis=1, name=f"my_{name.lower()}") if cls is Concatenate else cls(name=f"my_{name.lower()}")
    config = json.loads(json.dumps(layer.get_config()))
    clone = cls.from_config(config)
    assert clone.get_config() == config and clone.name == layer.name
    if cls is Concatenate:
        assert clone.axis == 1


def test_default_names_are_snake_case() -> None:
    assert Concatenate().name.startswith("concatenate")
    assert Maximum().name.startswith("maximum")


# --- Dot ------------------------------------------------------------------------------------------------


def _normalized(x: np.ndarray, axis: int) -> np.ndarray:
    return x / np.sqrt(np.maximum((x ** 2).sum(axis=axis, keepdims=True), 1e-12))


@pytest.mark.parametrize("axes, normalize, shapes, reference, output_shape", [
    (1, False, [(3, 4), (3, 4)], lambda a, b: (a * b).sum(-1, keepdims=True), (3, 1)),
    (-1, True, [(3, 4), (3, 4)], lambda a, b: (_normalized(a, 1) * _normalized(b, 1)).sum(-1, keepdims=True), (3, 1)),
    (2, False, [(2, 3, 4), (2, 5, 4)], lambda a, b: np.einsum("bnd,bmd->bnm", a, b), (2, 3, 5)),
    ([1, 2], False, [(2, 3, 4), (2, 5, 3)], lambda a, b: np.einsum("bnd,bmn->bdm", a, b), (2, 4, 5)),
    ([2, 1], True, [(2, 3, 4), (2, 4)],
     lambda a, b: np.einsum("bnd,bd->bn", _normalized(a, 2), _normalized(b, 1)), (2, 3)),
])
def test_dot(axes, normalize, shapes, reference, output_shape) -> None:
    check_layer(lambda: Dot(axes=axes, normalize=normalize), shapes, lambda x, w: reference(*x),
                expected_output_shape=output_shape)


def test_dot_errors_and_config() -> None:
    with pytest.raises(ValueError, match="differ"):
        Dot(axes=1)([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="exactly 2"):
        Dot(axes=1)([Input(shape=(3,))] * 3)
    with pytest.raises(ValueError, match="axes"):
        Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="non-batch"):
        Dot(axes=0)([Input(shape=(3,)), Input(shape=(3,))])
    clone = Dot.from_config(json.loads(json.dumps(Dot(axes=[1, 2], normalize=True).get_config())))
    assert clone.axes == [1, 2] and clone.normalize is True


# --- the functional forms ---------------------------------------------------------------------------------


@pytest.mark.parametrize("function, reference", [
    (add, lambda a, b: a + b), (subtract, lambda a, b: a - b), (multiply, lambda a, b: a * b),
    (average, lambda a, b: (a + b) / 2), (maximum, np.maximum), (minimum, np.minimum),
    (lambda xs: concatenate(xs, axis=-1), lambda a, b: np.concatenate([a, b], -1)),
    (lambda xs: dot(xs, axes=1), lambda a, b: (a * b).sum(-1, keepdims=True))])
def test_functional_forms_build_the_layer_and_call_it(function, reference) -> None:
    with backend.use("jax") as B:
        output = function([B.convert_to_tensor(A), B.convert_to_tensor(B_)])
        np.testing.assert_allclose(_np(output), reference(A, B_), rtol=1e-5, atol=1e-6)
    left, right = Input(shape=(3,)), Input(shape=(3,))
    model = Model([left, right], function([left, right]))
    np.testing.assert_allclose(model.predict([A, B_], verbose=0), reference(A, B_), rtol=1e-5, atol=1e-6)


def test_functional_forms_take_layer_arguments() -> None:
    output = multiply([Input(shape=(3,)), Input(shape=(3,))], name="product_layer")
    assert output._history[0].name == "product_layer"
    layer = dot([Input(shape=(3,)), Input(shape=(3,))], axes=1, normalize=True)._history[0]
    assert isinstance(layer, Dot) and layer.normalize


# --- masks ------------------------------------------------------------------------------------------------


MASK_A = np.array([[True, True, False], [True, False, False]])
MASK_B = np.array([[True, False, True], [True, True, False]])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_element_wise_merges_keep_a_step_that_any_mask_keeps(backend_name: str) -> None:
    """As Keras 3: the masks are OR-ed, and one unmasked input leaves the output unmasked."""
    x = np.ones((2, 3, 4), "float32")
    with backend.use(backend_name) as B:
        tensors, masks = [B.convert_to_tensor(x)] * 2, [B.convert_to_tensor(MASK_A), B.convert_to_tensor(MASK_B)]
        for cls in (Add, Subtract, Multiply, Average, Maximum, Minimum):
            np.testing.assert_array_equal(B.convert_to_numpy(cls().compute_mask(tensors, masks)), MASK_A | MASK_B)
            assert cls().compute_mask(tensors, [masks[0], None]) is None
            assert cls().compute_mask(tensors, [None, None]) is None
        assert Dot(axes=2).compute_mask(tensors, masks) is None


@pytest.mark.parametrize("cls", [Add, Subtract, Multiply, Average, Maximum, Minimum])
def test_element_wise_merges_pass_the_combined_mask_on_every_backend(cls: type) -> None:
    check_layer(cls, [(2, 3, 2), (2, 3, 2)], input_mask=[MASK_A, MASK_B], expected_mask=MASK_A | MASK_B,
                train=False)
    if cls is Maximum:
        check_layer(cls, [(2, 3, 2), (2, 3, 2)], input_mask=[MASK_A, None], expected_mask=None, train=False)


def test_concatenate_and_dot_masks_on_every_backend() -> None:
    check_layer(lambda: Concatenate(axis=1), [(2, 3, 2), (2, 3, 2)], input_mask=[MASK_A, MASK_B],
                expected_mask=np.concatenate([MASK_A, MASK_B], axis=1), train=False)
    check_layer(Concatenate, [(2, 3, 2), (2, 3, 1)], input_mask=[None, MASK_B],
                expected_mask=np.ones((2, 3), bool), train=False)
    check_layer(lambda: Dot(axes=2), [(2, 3, 2), (2, 3, 2)], input_mask=[MASK_A, MASK_B], expected_mask=None,
                train=False)


def masked_extreme(op, inputs, masks):  # noqa: ANN001, ANN201
    """NumPy: a masked entry gives way to the result so far (or the result so far to an unmasked entry)."""
    output, output_mask = inputs[0], None if masks[0] is None else masks[0][..., None]
    for x, mask in zip(inputs[1:], masks[1:]):
        mask = None if mask is None else np.broadcast_to(mask[..., None], x.shape)
        x = x if mask is None else np.where(mask, x, output)
        output = output if output_mask is None else np.where(output_mask, output, x)
        output_mask = None if mask is None or output_mask is None else output_mask | mask
        output = op(output, x)
    return output


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_maximum_minimum_and_multiply_leave_masked_entries_out(backend_name: str) -> None:
    """As Keras 3: Maximum and Minimum skip masked entries; Multiply counts them as 1 and zeroes the steps no
    input keeps; Add ignores the masks."""
    x = rng.normal(size=(2, 3, 2)).astype("float32")
    y = rng.normal(size=(2, 3, 2)).astype("float32")
    keep_a, keep_b = MASK_A[..., None], MASK_B[..., None]
    cases = [
        (Maximum, [MASK_A, MASK_B], masked_extreme(np.maximum, [x, y], [MASK_A, MASK_B])),
        (Minimum, [MASK_A, None], masked_extreme(np.minimum, [x, y], [MASK_A, None])),
        (Minimum, [None, MASK_B], masked_extreme(np.minimum, [x, y], [None, MASK_B])),
        (Multiply, [MASK_A, MASK_B], np.where(keep_a | keep_b, np.where(keep_a, x, 1) * np.where(keep_b, y, 1), 0)),
        (Multiply, [MASK_A, None], np.where(keep_a, x, 1) * y),
        (Add, [MASK_A, MASK_B], x + y),
    ]
    # spot checks of the reference itself: the maximum where only y keeps a step is y's entry
    np.testing.assert_array_equal(cases[0][2][0, 2], y[0, 2])
    np.testing.assert_array_equal(cases[0][2][1, 2], x[1, 2])  # a step no input keeps: the first input's entry
    with backend.use(backend_name) as B:
        for cls, masks, expected in cases:
            given = [None if m is None else B.convert_to_tensor(m) for m in masks]
            output = cls()([B.convert_to_tensor(x), B.convert_to_tensor(y)], mask=given)
            np.testing.assert_allclose(_np(output), expected, rtol=1e-6, err_msg=f"{cls.__name__} {masks}")


def test_masked_merges_in_a_functional_model_use_the_carried_masks() -> None:
    a, b = np.array([[1, 0, 2]]), np.array([[0, 3, 0]])
    for name in ("torch", "jax"):
        with backend.use(name):
            tokens_a, tokens_b = Input(shape=(3,), dtype="int32"), Input(shape=(3,), dtype="int32")
            left = Embedding(5, 2, mask_zero=True, embeddings_initializer="ones")(tokens_a)
            right = Embedding(5, 2, mask_zero=True, embeddings_initializer="zeros")(tokens_b)
            model = Model([tokens_a, tokens_b], [maximum([right, left]), multiply([left, right])])
            largest, product = (_np(o) for o in model([a, b]))
            # right (zeros) is masked at steps 0 and 2, so left's ones win there; left is masked at step 1
            np.testing.assert_array_equal(largest[0, :, 0], [1.0, 0.0, 1.0])
            np.testing.assert_array_equal(product[0, :, 0], [1.0, 0.0, 1.0])


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_concatenate_merges_masks_as_keras_does(backend_name: str) -> None:
    x = np.ones((2, 3, 4), "float32")
    with backend.use(backend_name) as B:
        tensors, masks = [B.convert_to_tensor(x)] * 2, [B.convert_to_tensor(MASK_A), B.convert_to_tensor(MASK_B)]
        # along the features: a step is kept where any input keeps it; an unmasked input keeps every step
        np.testing.assert_array_equal(B.convert_to_numpy(Concatenate().compute_mask(tensors, masks)), MASK_A | MASK_B)
        np.testing.assert_array_equal(B.convert_to_numpy(Concatenate().compute_mask(tensors, [masks[0], None])),
                                      np.ones((2, 3), bool))
        # along the steps: the masks are joined
        np.testing.assert_array_equal(B.convert_to_numpy(Concatenate(axis=1).compute_mask(tensors, masks)),
                                      np.concatenate([MASK_A, MASK_B], axis=1))
        np.testing.assert_array_equal(B.convert_to_numpy(Concatenate(axis=1).compute_mask(tensors, [None, masks[1]])),
                                      np.concatenate([np.ones((2, 3), bool), MASK_B], axis=1))


def test_masks_flow_through_merges_in_a_functional_model() -> None:
    tokens = Input(shape=(3,), dtype="int32")
    left, right = Embedding(5, 2, mask_zero=True)(tokens), Embedding(5, 2)(tokens)
    assert getattr(add([left, right]), "_keras_mask", None) is None  # right carries no mask
    assert add([left, left])._keras_mask is not None
    assert concatenate([left, right], axis=1)._keras_mask.shape == (None, 6)
    assert dot([left, right], axes=2)._keras_mask is None


def test_element_wise_merges_broadcast_axes_of_size_one() -> None:
    check_layer(Multiply, [(2, 3, 4), (2, 1, 4)], lambda x, w: x[0] * x[1], expected_output_shape=(2, 3, 4))
    assert Add()([Input(shape=(3, 1)), Input(shape=(3, 4))]).shape == (None, 3, 4)
    with pytest.raises(ValueError, match="same shape"):
        Add()([Input(shape=(3, 2)), Input(shape=(3, 4))])
