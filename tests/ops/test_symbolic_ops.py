"""Ops and operators on symbolic tensors: graph nodes of functional models that predict, train, save and load."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

import lamina
from lamina import backend, ops
from lamina.layers import Dense, Input
from lamina.models import Model, load_model
from lamina.ops import dispatch
from lamina.ops.symbolic import KerasTensor

X = np.random.default_rng(3).standard_normal((4, 3, 5)).astype("float32")


def predict(model, x):
    return model.predict(x, verbose=0)


def test_operators_build_nodes_that_compute_like_numpy(training_backend):
    x = Input((3, 5))
    outputs = [x + 1, 2 - x, x * x, x / 2, -x, x ** 2, abs(x), x // 2, x % 2, 1.5 * x, 3 / (abs(x) + 1),
               x @ np.ones((5, 2), "float32")]
    expected = [X + 1, 2 - X, X * X, X / 2, -X, X ** 2, abs(X), X // 2, X % 2, 1.5 * X, 3 / (abs(X) + 1),
                X @ np.ones((5, 2))]
    model = Model(x, outputs)
    assert model.layers == [model.get_layer(index=0)] and len(model.layers) == 1  # only the InputLayer
    for actual, wanted, tensor in zip(predict(model, X), expected, outputs):
        assert tensor.shape == (None, *wanted.shape[1:])
        np.testing.assert_allclose(actual, wanted, rtol=1e-5, atol=1e-5)


def test_comparisons_and_logic_give_booleans(training_backend):
    x = Input((3, 5))
    outputs = [x > 0, x >= 0, x < 0, x <= 0, x == 0, x != 0, (x > 0) & (x < 1), (x > 1) | (x < -1), ~(x > 0)]
    assert all(t.dtype == "bool" for t in outputs)
    expected = [X > 0, X >= 0, X < 0, X <= 0, X == 0, X != 0, (X > 0) & (X < 1), (X > 1) | (X < -1), ~(X > 0)]
    for actual, wanted in zip(Model(x, outputs)(X), expected):
        np.testing.assert_array_equal(backend.impl.convert_to_numpy(actual), wanted)


@pytest.mark.parametrize("index", ["last", "first", "ellipsis", "newaxis", "step"])
def test_slicing(training_backend, index):
    key = {"last": (slice(None), -1, slice(None)), "first": (slice(None), 0), "ellipsis": (Ellipsis, slice(None, 3)),
           "newaxis": (slice(None), None, 1), "step": (slice(None), slice(None), slice(0, None, 2))}[index]
    x = Input((3, 5))
    y = x[key]
    assert y.shape == (None, *X[key].shape[1:])
    model = Model(x, y)
    np.testing.assert_allclose(predict(model, X), X[key])
    clone = Model.from_config(json.loads(json.dumps(model.get_config())))
    np.testing.assert_allclose(predict(clone, X), X[key])


def test_tensor_attributes_and_questions(training_backend):
    x = Input((3, 5), dtype="int32")
    assert (x.shape, x.dtype, x.ndim) == ((None, 3, 5), "int32", 3)
    assert ops.shape(x) == (None, 3, 5) and ops.dtype(x) == "int32" and ops.is_tensor(x) is False
    with pytest.raises(TypeError, match="iterated"):
        list(x)
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)


def test_ops_with_plain_arguments_lists_and_several_outputs(training_backend):
    a, b = Input((3, 5), name="a"), Input((3, 5), name="b")
    joined = ops.concatenate([a, b], axis=-1)
    first, second = ops.split(joined, 2, axis=-1)
    outputs = [ops.mean(a, axis=1) * 2, ops.reshape(joined, (-1, 30)), ops.transpose(a, (0, 2, 1)),
               ops.where(a > 0, a, b), first - second, ops.sum(ops.square(b), axis=(1, 2), keepdims=True)]
    assert [t.shape for t in outputs] == [(None, 5), (None, 30), (None, 5, 3), (None, 3, 5), (None, 3, 5),
                                         (None, 1, 1)]
    model = Model([a, b], outputs)
    B2 = X[::-1] * 0.5
    expected = [X.mean(axis=1) * 2, np.concatenate([X, B2], -1).reshape(-1, 30), X.transpose(0, 2, 1),
                np.where(X > 0, X, B2), X - B2, (B2 ** 2).sum(axis=(1, 2), keepdims=True)]
    for got in (predict(model, [X, B2]), predict(Model.from_config(json.loads(json.dumps(model.get_config()))),
                                                  [X, B2])):
        for actual, wanted in zip(got, expected):
            np.testing.assert_allclose(actual, wanted, rtol=1e-5, atol=1e-5)


def test_op_graph_trains_saves_and_loads_everywhere(tmp_path):
    """A model with op nodes fits on torch and jax, and the saved file predicts the same on every backend."""
    y = X.mean(axis=(1, 2))[:, None] * 3
    results = {}
    for name in ("torch", "jax"):
        with backend.use(name):
            lamina.set_random_seed(1)
            inputs = Input((3, 5))
            hidden = Dense(4, name="hidden")(inputs)
            outputs = ops.mean(hidden[:, -1, :] + hidden[:, 0, :], axis=-1, keepdims=True) * 2
            model = Model(inputs, outputs)
            model.compile("adam", "mse")
            history = model.fit(X, y, epochs=3, batch_size=2, verbose=0)
            assert np.all(np.isfinite(history.history["loss"]))
            path = tmp_path / f"{name}.keras"
            model.save(path)
            results[name] = (path, predict(model, X))
    entries = [layer["class_name"] for layer in model.get_config()["layers"]]
    assert {"GetItem", "Add", "Mean", "Multiply"} <= set(entries)
    for saved, (path, expected) in results.items():
        for name in ("torch", "jax", "numpy"):
            with backend.use(name):
                np.testing.assert_allclose(predict(load_model(path), X), expected, rtol=1e-5, atol=1e-6,
                                           err_msg=f"saved on {saved}, loaded on {name}")


def test_every_composed_op_takes_symbolic_tensors():
    import lamina.ops as all_ops

    for family in all_ops._FAMILIES:
        for name in family.COMPOSED:
            assert getattr(getattr(family, name), "_lamina_symbolic_aware", False), f"{family.__name__}.{name}"
    assert getattr(all_ops.get_item, "_lamina_symbolic_aware", False)


def test_a_new_composed_op_becomes_a_node_without_work_of_its_own(training_backend):
    def double_last(x, scale=2.0):
        return ops.multiply(x[..., -1:], scale)

    family = types.ModuleType("lamina.ops.fake")
    family.double_last, family.COMPOSED = double_last, ("double_last",)
    dispatch.wrap_composed(family)
    x = Input((3, 5))
    y = family.double_last(x, scale=3.0)
    assert isinstance(y, KerasTensor) and y._history[0].op == "double_last" and y.shape == (None, 3, 1)
    np.testing.assert_allclose(predict(Model(x, y), X), X[..., -1:] * 3)
    np.testing.assert_allclose(backend.impl.convert_to_numpy(family.double_last(X)), X[..., -1:] * 2)  # eager


def test_saved_op_of_an_unknown_name_is_refused(training_backend):
    x = Input((5,))
    config = Model(x, ops.exp(x)).get_config()
    config["layers"][1]["class_name"] = "NoSuchOp"
    with pytest.raises(ValueError, match="no_such_op"):
        Model.from_config(config)


def test_a_keras_style_op_entry_with_arguments_in_its_config_loads(training_backend):
    x = Input((3, 5))
    config = Model(x, ops.mean(x)).get_config()
    config["layers"][1]["config"].update({"axis": 1, "keepdims": False})  # Keras keeps them with the op
    config["layers"][1]["module"] = "keras.src.ops.numpy"
    np.testing.assert_allclose(predict(Model.from_config(config), X), X.mean(axis=1), rtol=1e-5)
