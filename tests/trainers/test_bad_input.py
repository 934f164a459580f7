"""Bad input fails at the boundary, before any training, with a message naming what was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from lamina import activations, losses, metrics, optimizers
from lamina.layers import Dense
from lamina.models import Sequential


def compiled(loss: str = "sparse_categorical_crossentropy") -> Sequential:
    model = Sequential([Dense(8, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def weights_unchanged(model: Sequential):
    before = model.get_weights()
    return lambda: all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_sample_count_mismatch():
    model = compiled()
    unchanged = weights_unchanged(model)
    with pytest.raises(ValueError, match="x has 100 samples but y has 99"):
        model.fit(np.zeros((100, 784)), np.zeros(99, "int64"), verbose=0)
    assert unchanged()


def test_feature_size_mismatch_names_the_layer_and_sizes():
    model = compiled()
    with pytest.raises(ValueError, match="Dense expected input with last dimension 784, got 28"):
        model.fit(np.zeros((10, 28)), np.zeros(10, "int64"), verbose=0)
    with pytest.raises(ValueError, match="784"):
        model.predict(np.zeros((3, 28)), verbose=0)
    with pytest.raises(ValueError, match="rank"):
        model.evaluate(np.zeros((10, 28, 28)), np.zeros(10, "int64"), verbose=0)


@pytest.mark.parametrize("kind, getter, name, suggestion", [
    ("optimizer", optimizers.get, "adma", "adam"),
    ("loss", losses.get, "crossentropy", "categorical_crossentropy"),
    ("metric", metrics.get, "acuracy", "accuracy"),
    ("activation", activations.get, "rellu", "relu"),
])
def test_unknown_names_suggest_the_closest(kind, getter, name, suggestion):
    with pytest.raises(ValueError, match=f"Unknown {kind} '{name}'.*Did you mean [^?]*'{suggestion}'"):
        getter(name)


def test_unknown_names_fail_at_compile_and_construction():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="Unknown optimizer 'adamm'"):
        model.compile(optimizer="adamm", loss="mse")
    with pytest.raises(ValueError, match="Unknown loss 'msee'"):
        model.compile(optimizer="adam", loss="msee")
    with pytest.raises(ValueError, match="Unknown metric 'accuracyy'"):
        model.compile(optimizer="adam", loss="mse", metrics=["accuracyy"])
    with pytest.raises(ValueError, match="Unknown activation 'relux'"):
        Dense(3, activation="relux")


def test_fit_before_compile():
    model = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match=r"compile\(\) before fit"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)
    with pytest.raises(ValueError, match=r"compile\(\) before evaluate"):
        model.evaluate(np.zeros((4, 3)), np.zeros((4, 2)), verbose=0)


def test_sparse_labels_out_of_range():
    model = compiled()
    unchanged = weights_unchanged(model)
    with pytest.raises(ValueError, match=r"label 10.*0\.\.9"):
        model.fit(np.zeros((5, 784)), np.array([0, 1, 2, 10, 3]), verbose=0)
    with pytest.raises(ValueError, match="label -1"):
        model.fit(np.zeros((2, 784)), np.array([0, -1]), verbose=0)
    assert unchanged()


def test_non_numeric_arrays():
    model = compiled()
    with pytest.raises(TypeError, match="x must hold numbers"):
        model.fit(np.array([["a"] * 784] * 2), np.zeros(2, "int64"), verbose=0)
    with pytest.raises(TypeError, match="y must hold numbers"):
        model.fit(np.zeros((2, 784)), np.array(["cat", "dog"]), verbose=0)
    with pytest.raises(TypeError, match="x must hold numbers"):
        model.predict(np.array([[None] * 784]), verbose=0)


def test_wrong_argument_types_and_values():
    model = compiled()
    x, y = np.zeros((4, 784)), np.zeros(4, "int64")
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        model.fit(x, y, epochs=-1, verbose=0)
    with pytest.raises(ValueError, match="validation_split must be between 0 and 1"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        model.fit(x, y, epoch=3, verbose=0)
    with pytest.raises(ValueError, match="Dense units must be a positive integer"):
        Dense(0)
    with pytest.raises(TypeError, match="Sequential.add expects a Layer"):
        Sequential().add("dense")


def test_set_weights_checks_count_and_shapes():
    model = compiled()
    with pytest.raises(ValueError, match="expected a list of 4 arrays, got 1"):
        model.set_weights([np.zeros(3)])
    shapes = [w.shape for w in model.get_weights()]
    bad = [np.zeros(s) for s in shapes]
    bad[0] = np.zeros((3, 3))
    with pytest.raises(ValueError, match=r"has shape \(784, 8\), got an array of shape \(3, 3\)"):
        model.set_weights(bad)


def test_loss_dict_naming_a_missing_output():
    model = Sequential([Dense(2, input_shape=(3,), name="out")])
    with pytest.raises(ValueError, match="name no model output"):
        model.compile(optimizer="adam", loss={"other": "mse"})
